"""Trains the ONNX fixture with Debian's PyTorch and exports it with torch.onnx.export.

A small one-step world model for hidden-laws-v1's state view: an MLP from the K = 4 observed (noisy) states
and the K actions up to the next step to the change of the state. Trained on worlds 5000-5399 (export-data.ts),
disjoint from every evaluation seed. Run with Debian's python (apt-get install python3-torch python3-onnx):

    /usr/bin/python3 scripts/onnx-fixture/train_export.py <data-dir> packages/onnx/fixtures
"""
import json
import os
import sys

import numpy as np
import onnx
import torch

data, out = sys.argv[1], sys.argv[2]
meta = json.load(open(os.path.join(data, "meta.json")))
n, K, S, A = meta["n"], meta["K"], meta["stateSize"], meta["actionSize"]
history = torch.from_numpy(np.fromfile(os.path.join(data, "history.f32"), dtype=np.float32).reshape(n, K, S))
actions = torch.from_numpy(np.fromfile(os.path.join(data, "actions.f32"), dtype=np.float32).reshape(n, K, A))
target = torch.from_numpy(np.fromfile(os.path.join(data, "target.f32"), dtype=np.float32).reshape(n, S))
torch.manual_seed(0)


class OneStep(torch.nn.Module):
    """next = last observed state + MLP(history, actions); inputs [B, K, S] and [B, K, A], output [B, S]."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(K * S + K * A, 128), torch.nn.GELU(),
            torch.nn.Linear(128, 128), torch.nn.GELU(),
            torch.nn.Linear(128, S),
        )

    def forward(self, history, actions):
        b = history.shape[0]
        x = torch.cat([history.reshape(b, K * S), actions.reshape(b, K * A)], dim=1)
        return history[:, K - 1, :] + 0.1 * self.net(x)


model = OneStep()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=60)
perm = torch.randperm(n)
hold = perm[: n // 10]
train = perm[n // 10:]
for epoch in range(60):
    model.train()
    order = train[torch.randperm(len(train))]
    for i in range(0, len(order), 256):
        idx = order[i:i + 256]
        loss = torch.nn.functional.mse_loss(model(history[idx], actions[idx]), target[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()
    if epoch % 10 == 9:
        model.eval()
        with torch.no_grad():
            held = torch.nn.functional.mse_loss(model(history[hold], actions[hold]), target[hold]).item()
            persistence = torch.nn.functional.mse_loss(history[hold][:, K - 1, :], target[hold]).item()
        print(f"epoch {epoch + 1}: held-out mse {held:.5f} (persistence {persistence:.5f})")

model.eval()
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "hidden-laws-mlp.onnx")
torch.onnx.export(
    model, (history[:2], actions[:2]), path,
    input_names=["history", "actions"], output_names=["next"],
    dynamic_axes={"history": {0: "batch"}, "actions": {0: "batch"}, "next": {0: "batch"}},
    opset_version=13,
)
onnx.checker.check_model(onnx.load(path))
sidecar = {
    "format": "worldbench-onnx-1",
    "summary": "PyTorch MLP one-step world model for hidden-laws-v1 (state view), trained on worlds 5000-5399",
    "scenarios": ["hidden-laws-v1"],
    "view": "state",
    "mode": "one-step",
    "historySteps": K,
    "inputs": {"history": "history", "actions": "actions"},
    "outputs": {"prediction": "next"},
}
json.dump(sidecar, open(os.path.join(out, "hidden-laws-mlp.worldbench.json"), "w"), indent=2)
print(f"wrote {path} ({os.path.getsize(path)} bytes) and its sidecar")
