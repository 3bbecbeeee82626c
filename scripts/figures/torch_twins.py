# The PyTorch twins of the training steps `pnpm perf` times (scripts/train-steps.ts), float32, one thread
# (torch.set_num_threads(1); run it with OMP_NUM_THREADS=1 as well), Adam lr 1e-3, MSE loss on seeded random data:
#   mlp          a 256-512-512-256 MLP (ReLU between layers, linear output), batch 256
#   transformer  jepa's default block geometry: a Dense embedding 16 -> 64, 5 pre-norm blocks (x + attention(LN x)
#                with 4 heads and q/k/v/out projections, then x + a ReLU MLP 64-128-64 of LN x), a final LayerNorm
#                and a Dense 64 -> 16, over 128 sequences of 16 tokens (neural's TransformerBlock, op for op)
# Prints one JSON line: {"torch": version, "blas": the BLAS library loaded, "ms": [ms/step of each run]}.
#
#   OMP_NUM_THREADS=1 /usr/bin/python3 scripts/figures/torch_twins.py --net mlp --runs 5 --steps 20 --warmup 3
import argparse
import json
import math
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument('--net', choices=['mlp', 'transformer'], default='mlp')
parser.add_argument('--runs', type=int, default=5)
parser.add_argument('--steps', type=int, default=20)
parser.add_argument('--warmup', type=int, default=3)
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(1000)


class Block(torch.nn.Module):
    def __init__(self, width, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(width, eps=1e-5)
        self.query, self.key, self.value, self.out = (torch.nn.Linear(width, width) for _ in range(4))
        self.norm2 = torch.nn.LayerNorm(width, eps=1e-5)
        self.fc1 = torch.nn.Linear(width, hidden)
        self.fc2 = torch.nn.Linear(hidden, width)

    def forward(self, x):
        b, n, d = x.shape
        dh = d // self.heads
        h = self.norm1(x)
        split = lambda y: y.view(b, n, self.heads, dh).transpose(1, 2)  # [B, H, N, dh]
        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        weights = torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(dh)), dim=-1)
        x = x + self.out((weights @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(torch.relu(self.fc1(self.norm2(x))))


if args.net == 'mlp':
    widths, batch = [256, 512, 512, 256], 256
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x, y = torch.randn(batch, widths[0]), torch.randn(batch, widths[-1])
else:
    features, width, heads, depth, sequences, tokens = 16, 64, 4, 5, 128, 16
    model = torch.nn.Sequential(
        torch.nn.Linear(features, width),
        *(Block(width, heads, 2 * width) for _ in range(depth)),
        torch.nn.LayerNorm(width, eps=1e-5),
        torch.nn.Linear(width, features),
    )
    x, y = torch.randn(sequences, tokens, features), torch.randn(sequences, tokens, features)
optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)


def step():
    optimiser.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimiser.step()
    return loss.item()


for _ in range(args.warmup):
    step()
times = []
for _ in range(args.runs):
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    times.append((time.perf_counter() - start) * 1000 / args.steps)


def blas():
    # Debian's torch calls whatever libblas.so.3 resolves to; the reference BLAS (libblas3 without libopenblas0)
    # is many times slower than OpenBLAS
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1].rsplit('/', 1)[-1] for line in maps if 'blas' in line}
    if any('openblas' in lib for lib in libs):
        return 'openblas'
    return 'reference blas' if any(lib.startswith('libblas') for lib in libs) else 'unknown blas'


print(json.dumps({'torch': torch.__version__, 'blas': blas(), 'ms': times}))
