# The PyTorch twin of `pnpm perf`'s MLP step: a 256-512-512-256 MLP (ReLU between layers, linear output),
# batch 256, MSE loss, one Adam step (lr 1e-3) per iteration, float32, one thread (torch.set_num_threads(1);
# run it with OMP_NUM_THREADS=1 as well). Prints one JSON line: {"torch": version, "ms": [ms/step of each run]}.
#
#   OMP_NUM_THREADS=1 /usr/bin/python3 scripts/figures/mlp_twin.py --runs 5 --steps 20 --warmup 3
import argparse
import json
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument('--runs', type=int, default=5)
parser.add_argument('--steps', type=int, default=20)
parser.add_argument('--warmup', type=int, default=3)
parser.add_argument('--widths', default='256,512,512,256')
parser.add_argument('--batch', type=int, default=256)
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(1000)
widths = [int(w) for w in args.widths.split(',')]
layers = []
for i in range(len(widths) - 1):
    layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
    if i < len(widths) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(args.batch, widths[0])
y = torch.randn(args.batch, widths[-1])


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
    # the BLAS library this process loaded: Debian's torch calls whatever libblas.so.3 resolves to, and the
    # reference BLAS (libblas3 alone, without libopenblas0) is ~15x slower than OpenBLAS here
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1].rsplit('/', 1)[-1] for line in maps if 'blas' in line.rsplit('/', 1)[-1]}
    if any('openblas' in lib for lib in libs) or any('openblas' in line for line in open('/proc/self/maps')):
        return 'openblas'
    return 'reference blas' if libs else 'unknown blas'


print(json.dumps({'torch': torch.__version__, 'ms': times, 'blas': blas()}))
