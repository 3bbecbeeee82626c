# The PyTorch twins of the training steps `pnpm perf` times (scripts/train-steps.ts, scripts/real-steps.ts),
# float32, one thread (torch.set_num_threads(1); run it with OMP_NUM_THREADS=1 as well), Adam lr 1e-3:
#   mlp          a 256-512-512-256 MLP (ReLU between layers, linear output), batch 256, MSE on seeded random data
#   transformer  jepa's default block geometry: a Dense embedding 16 -> 64, 5 pre-norm blocks (x + attention(LN x)
#                with 4 heads and q/k/v/out projections, then x + a ReLU MLP 64-128-64 of LN x), a final LayerNorm
#                and a Dense 64 -> 16, over 128 sequences of 16 tokens (neural's TransformerBlock, op for op), MSE
#   jepa         jepa's real networks and prediction loss, spatial's real dynamics and teacher-forced loss
#   spatial      (torch_real_twins.py): they need --spec, the directory scripts/real-steps.ts writes with the
#                geometry, the initial weights, the batches and tfjs's loss and gradients on the first batch
# Prints one JSON line: {"torch": version, "blas": the BLAS library loaded, "ms": [ms/step of each run]}, and for
# the real networks also the trained weight count and the first batch's loss and gradients against tfjs's;
# --profile then prints the ops by self time (torch.autograd.profiler) on stderr.
#
#   OMP_NUM_THREADS=1 /usr/bin/python3 scripts/figures/torch_twins.py --net mlp --runs 5 --steps 20 --warmup 3
import argparse
import json
import math
import sys
import time

import torch


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


def synthetic_step(net):
    """The MLP's or the transformer's Adam step on an MSE loss of seeded random data."""
    torch.manual_seed(1000)
    if net == 'mlp':
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

    return step


def time_steps(step, runs, steps, warmup):
    """Milliseconds per step of each of `runs` runs of `steps` steps after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) * 1000 / steps)
    return times


def blas():
    # Debian's torch calls whatever libblas.so.3 resolves to; the reference BLAS (libblas3 without libopenblas0)
    # is many times slower than OpenBLAS
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1].rsplit('/', 1)[-1] for line in maps if 'blas' in line}
    if any('openblas' in lib for lib in libs):
        return 'openblas'
    return 'reference blas' if any(lib.startswith('libblas') for lib in libs) else 'unknown blas'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--net', choices=['mlp', 'transformer', 'jepa', 'spatial'], default='mlp')
    parser.add_argument('--spec', help='jepa, spatial: the directory scripts/real-steps.ts wrote')
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--attention',
        choices=['products', 'matmul'],
        default='products',
        help="jepa: attention by elementwise products (the faster on Debian's torch) or by matmul",
    )
    parser.add_argument('--profile', action='store_true', help='then print the ops by self time of --steps steps')
    args = parser.parse_args()
    torch.set_num_threads(1)
    report = {}
    if args.net in ('mlp', 'transformer'):
        step = synthetic_step(args.net)
    else:
        if not args.spec:
            parser.error(f'--net {args.net} needs --spec DIR, written by scripts/real-steps.ts')
        from torch_real_twins import real_step

        step, report = real_step(args.spec, args.attention)
    ms = time_steps(step, args.runs, args.steps, args.warmup)
    report.update({'torch': torch.__version__, 'blas': blas(), 'ms': ms})
    if args.profile:
        # the profiler's own cost per op inflates ops called many times (aten::select inside a looping bmm)
        with torch.autograd.profiler.profile() as profile:
            for _ in range(args.steps):
                step()
        print(profile.key_averages().table(sort_by='self_cpu_time_total', row_limit=12), file=sys.stderr)
    print(json.dumps(report))


if __name__ == '__main__':
    main()
