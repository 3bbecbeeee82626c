# The PyTorch twins of jepa's and spatial's real training steps (scripts/real-steps.ts), written as a PyTorch user
# would write them, op for op as @worldbench/neural's layers compute (kernels.ts: LayerNorm epsilon 1e-5 over the
# last axis, attention scores scaled by 1/sqrt(head width) with padding keys at -1e9, ReLU MLPs, Dense y = x @ w + b
# with w [in, out]). Parameter names are the TS modules' dotted paths (Module.namedParams), so the TS network's
# initial weights load by name with load_state_dict(strict=True): a weight the twin lacks or has in another shape
# is an error, and the twin's trained weight count is printed for `pnpm perf` to compare.
#   jepa     code-trace's geometry (categorical state tokens, no actions, program rows read by a pointer token):
#            online encoder on s_t, target encoder (frozen, no_grad) on s_t..s_t+k, the predictor rolled out k steps
#            on its own outputs with its context read (the first step reads the observed values, later steps the
#            frozen probe's reading of the predicted latents), latentLoss's weighted mean squared distance; or
#            jepaLoss's whole loss: changing tokens weighed by the resolved changeWeight, + VICReg, the probe and
#            the anchor (a readout head on the online latents, where the geometry's anchorWeight is above 0)
#   spatial  the pixel dynamics (tubelet embedding, position, action embedding, pre-norm blocks of neighbourhood
#            attention, norm, zero-started head, residual on the last frame), teacher-forced pixel-weighted MSE
# The spec directory (written by real-steps.ts `writeTwinSpec`): spec.json (geometry, weights, batches, tfjs's loss
# and gradients on the first batch, as byte offsets into data.bin) and data.bin (little-endian float32 / int32).
import json
import math
import os

import torch
import torch.nn.functional as F
from torch import nn


# region layers (neural's, by the same names) ---------------------------------------------------------------
class Dense(nn.Module):
    """y = x @ w + b: x [..., I] -> [..., O], w [I, O] (neural's layout; F.linear reads it transposed)."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.w = nn.Parameter(torch.empty(inputs, outputs))
        self.b = nn.Parameter(torch.empty(outputs))

    def forward(self, x):
        return F.linear(x, self.w.t(), self.b)


class LayerNorm(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.gain = nn.Parameter(torch.empty(width))
        self.bias = nn.Parameter(torch.empty(width))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.gain, self.bias, 1e-5)


class Embedding(nn.Module):
    def __init__(self, vocab, width):
        super().__init__()
        self.table = nn.Parameter(torch.empty(vocab, width))

    def forward(self, ids):
        return F.embedding(ids, self.table)


class Mlp(nn.Module):
    """Dense layers with ReLU between them, linear output."""

    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList(Dense(widths[i], widths[i + 1]) for i in range(len(widths) - 1))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class MultiHeadAttention(nn.Module):
    """Self-attention over tokens [B, N, D], padding keys (key_mask [B, N] 0) masked with -1e9. The score and value
    products: 'products', elementwise products summed over a broadcast axis, or 'matmul', q @ k^T and weights @ v.
    Debian's torch 1.13 (no MKL) runs a batched matmul as a loop over the B*H matrices (a select and a gemm each:
    ~1.7 ms a call on jepa's 256 matrices of 5 x 16), so over a few tokens the products are the faster twin."""

    products = True

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.output = (Dense(width, width) for _ in range(4))

    def forward(self, x, key_mask=None):
        b, n, d = x.shape
        dh = d // self.heads
        split = lambda y: y.view(b, n, self.heads, dh).transpose(1, 2)  # [B, H, N, dh]
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        if MultiHeadAttention.products:
            scores = (q.unsqueeze(3) * k.unsqueeze(2)).sum(4)  # [B, H, N, N]
        else:
            scores = q @ k.transpose(-1, -2)
        scores = scores * (1 / math.sqrt(dh))
        if key_mask is not None:
            scores = scores + ((1 - key_mask) * -1e9).view(b, 1, 1, n)
        weights = torch.softmax(scores, dim=-1)
        if MultiHeadAttention.products:
            out = (weights.unsqueeze(4) * v.unsqueeze(2)).sum(3)  # [B, H, N, dh]
        else:
            out = weights @ v
        return self.output(out.transpose(1, 2).reshape(b, n, d))


class NeighbourhoodAttention(MultiHeadAttention):
    """spatial's attention on token rows [n*P, D]: each token attends to its M neighbours (index [P*M], mask
    [P, M, 1]: 0, or -1e9 for a neighbour outside the frame)."""

    def __init__(self, width, heads, index, mask):
        super().__init__(width, heads)
        self.register_buffer('index', index)
        self.register_buffer('mask', mask)

    def forward(self, x, key_mask=None):
        d = x.shape[-1]
        h, dh = self.heads, d // self.heads
        P, M = self.mask.shape[0], self.mask.shape[1]
        q = self.query(x).view(-1, P, 1, h, dh)  # [n, P, 1, H, dh]
        k = self.key(x).view(-1, P, d)[:, self.index].view(-1, P, M, h, dh)  # [n, P, M, H, dh]
        v = self.value(x).view(-1, P, d)[:, self.index].view(-1, P, M, h, dh)
        scores = (q * k).sum(4) * (1 / math.sqrt(dh)) + self.mask  # [n, P, M, H]
        out = (torch.softmax(scores, dim=2).unsqueeze(-1) * v).sum(2)  # [n, P, H, dh]
        return self.output(out.reshape(-1, d))


class TransformerBlock(nn.Module):
    """Pre-norm: x + attention(LN x), then + a ReLU MLP of LN(.)."""

    def __init__(self, attention, width, hidden):
        super().__init__()
        self.norm1 = LayerNorm(width)
        self.attention = attention
        self.norm2 = LayerNorm(width)
        self.mlp = Mlp([width, hidden, width])

    def forward(self, x, key_mask=None):
        h = x + self.attention(self.norm1(x), key_mask)
        return h + self.mlp(self.norm2(h))


# endregion
# region jepa --------------------------------------------------------------------------------------------------
class StateEmbedding(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.table = Embedding(g['slots'] * (g['vocab'] + 1), g['width'])
        self.positions = Embedding(g['tokens'], g['width'])


class Encoder(nn.Module):
    def __init__(self, g):
        super().__init__()
        D = g['width']
        self.embed = StateEmbedding(g)
        self.blocks = nn.ModuleList(
            TransformerBlock(MultiHeadAttention(D, g['heads']), D, D * g['mlpRatio']) for _ in range(g['encoderLayers'])
        )
        self.norm = LayerNorm(D)

    def forward(self, ids, mask):
        h = self.embed.table(ids).sum(2) + self.embed.positions.table  # [B, N, D]
        for block in self.blocks:
            h = block(h, mask)
        return self.norm(h)


class ContextEmbedding(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.table = Embedding(g['contextTable'], g['width'])
        self.rows = Embedding(g['rows'], g['width'])
        self.norm = LayerNorm(g['width'])

    def forward(self, ids):
        return self.norm(self.table(ids).sum(2) + self.rows.table)  # [B, R, D]


class Predictor(nn.Module):
    def __init__(self, g):
        super().__init__()
        D, N = g['width'], g['tokens']
        self.pointer = g['pointer']
        self.context = ContextEmbedding(g)
        self.read = Dense(D, D)
        self.positions = Embedding(N, D)
        self.blocks = nn.ModuleList(
            TransformerBlock(MultiHeadAttention(D, g['heads']), D, D * g['mlpRatio'])
            for _ in range(g['predictorLayers'])
        )
        self.norm = LayerNorm(D)
        self.out = Dense(D, D)
        self.register_buffer('selector', F.one_hot(torch.tensor(self.pointer), N).float().view(1, N, 1))

    def forward(self, z, embedded, mask, values):
        """z [B, N, D], the embedded rows [B, R, D], mask [B, N], each token's value over the rows [B, N, R]."""
        p = self.pointer
        h = z + self.positions.table
        fetched = values[:, p : p + 1] @ self.read(embedded)  # [B, 1, D]: the row at the pointer's value
        h = h + fetched * self.selector  # at the pointer token only
        for block in self.blocks:
            h = block(h, mask)
        return z + self.out(self.norm(h))


class Probe(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.slots, self.vocab = g['slots'], g['vocab']
        self.mlp = Mlp([g['width'], g['probeHidden'], g['slots'] * g['vocab']])

    def observed_values(self, ids, rows):
        """Slot 0's id [B, N] as a one-hot over the rows [B, N, R]; a value that is no row reads a zero row."""
        v = ids[:, :, 0].clamp(max=rows)
        return F.one_hot(v, rows + 1)[..., :rows].float()

    def value_pointer(self, z, rows):
        """The frozen probe's reading of z: slot 0's softmax at values 0..R-1 [B, N, R]."""
        h = z
        for i, layer in enumerate(self.mlp.layers):
            h = F.linear(h, layer.w.detach().t(), layer.b.detach())
            if i < len(self.mlp.layers) - 1:
                h = torch.relu(h)
        p = torch.softmax(h.view(*h.shape[:2], self.slots, self.vocab)[:, :, 0], dim=-1)  # [B, N, V]
        cut = p[..., : min(rows, self.vocab)]
        return F.pad(cut, (0, rows - cut.shape[-1]))


class Jepa(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.g = g
        self.online = Encoder(g)
        self.target = Encoder(g).requires_grad_(False)
        self.predictor = Predictor(g)
        self.probe = Probe(g)
        self.anchor = Probe(g) if g['anchorWeight'] > 0 else None

    def loss(self, i):
        """latentLoss of the k-step rollout from z_t against the target encoder's latents of s_t+1..s_t+k; with
        geometry `loss` 'whole', jepaLoss's total (losses.ts): the tokens whose value changes weighed changeWeight
        in the latent loss, + VICReg variance and covariance of z_t + the probe's cross-entropy on the frozen targets
        and predictions + anchorWeight x the anchor's cross-entropy reading s_t from z_t."""
        k, N, D, R = self.g['k'], self.g['tokens'], self.g['width'], self.g['rows']
        z = z0 = self.online(i['s0Ids'], i['s0Mask'])  # [B, N, D]
        B = z.shape[0]
        with torch.no_grad():
            targets = self.target(i['allIds'], i['allMask'])  # [B (k+1), N, D]
        later = targets.view(B, k + 1, N, D)[:, 1:].reshape(B * k, N, D)
        embedded = self.predictor.context(i['context'])  # [B, R, D]
        predicted = []
        for j in range(k):
            values = self.probe.observed_values(i['s0Ids'], R) if j == 0 else self.probe.value_pointer(z, R)
            z = self.predictor(z, embedded, i['s0Mask'], values)
            predicted.append(z)
        predicted = torch.stack(predicted, 1).view(B * k, N, D)
        squares = ((predicted - later) ** 2).mean(2)  # [B k, N]
        if self.g['loss'] != 'whole':
            return weighted_mean(squares, i['weight'])
        labels, weights = i['labels'], i['stateWeights']  # [B (k+1), N, S]
        steps_of = lambda t, start: t.view(B, k + 1, *t.shape[1:])[:, start : start + k].reshape(B * k, *t.shape[1:])
        # a token changes from s_t+j-1 to s_t+j when any of its slots' labels does
        changed = (steps_of(labels, 1) != steps_of(labels, 0)).float().amax(2)  # [B k, N]
        weight = i['weight'] * (changed * (self.g['changeWeight'] - 1) + 1)
        prediction = weighted_mean(squares, weight)
        variance, covariance = variance_covariance(z0, i['s0Mask'])
        # the probe reads frozen latents only: the targets of every step, and the rollout's predictions
        probe = self.probe_loss(self.probe, targets, labels, weights)
        if self.g['probeOnPredictions']:
            on_predictions = self.probe_loss(self.probe, predicted.detach(), steps_of(labels, 1), steps_of(weights, 1))
            probe = 0.5 * (probe + on_predictions)
        total = prediction + self.g['varianceWeight'] * variance + self.g['covarianceWeight'] * covariance + probe
        if self.anchor is not None:
            s0_labels = labels.view(B, k + 1, *labels.shape[1:])[:, 0]  # [B, N, S]
            total = total + self.g['anchorWeight'] * self.probe_loss(self.anchor, z0, s0_labels, i['s0Weights'])
        return total

    def probe_loss(self, head, z, labels, weights):
        """Cross-entropy of a readout head's logits on z [M, N, D] against labels [M, N, S], weighted [M, N, S]."""
        logits = head.mlp(z).view(*z.shape[:2], self.g['slots'], self.g['vocab'])  # [M, N, S, V]
        per_slot = -torch.log_softmax(logits, -1).gather(3, labels.unsqueeze(3)).squeeze(3)  # [M, N, S]
        return weighted_mean(per_slot, weights)


def weighted_mean(x, weight):
    return (x * weight).sum() / weight.sum().clamp(min=1)


def variance_covariance(z, mask):
    """VICReg's hinge on each dimension's std and its off-diagonal covariance / D, per token position over the batch
    (losses.ts varianceCovariance): z [B, N, D], mask [B, N]; positions with fewer than 2 real tokens left out."""
    N, D = z.shape[1], z.shape[2]
    m = mask.unsqueeze(2)  # [B, N, 1]
    count = mask.sum(0)  # [N]
    valid = (count >= 2).float()
    n_valid = valid.sum().clamp(min=1)
    denom = count.clamp(min=2)  # [N]
    centred = (z - (z * m).sum(0, keepdim=True) / denom.view(1, N, 1)) * m  # [B, N, D]
    variance = (centred**2).sum(0) / (denom.view(N, 1) - 1)  # [N, D]
    hinge = torch.relu(1 - torch.sqrt(variance + 1e-4)).mean(1)  # [N]
    by_position = centred.transpose(0, 1)  # [N, B, D]
    cov = (by_position.transpose(1, 2) @ by_position) / (denom - 1).view(N, 1, 1)  # [N, D, D]
    off_diagonal = (cov**2).sum((1, 2)) - (variance**2).sum(1)  # [N]
    return (hinge * valid).sum() / n_valid, (off_diagonal / D * valid).sum() / n_valid


# endregion
# region spatial -----------------------------------------------------------------------------------------------
class ActionEncoder(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.kind = g['action']
        if self.kind == 'real':
            self.dense = Dense(g['actionSize'], g['width'])
        else:
            self.table = Embedding(g['actionTable'], g['width'])

    def forward(self, a):
        return self.dense(a) if self.kind == 'real' else self.table(a).sum(1)  # [n, D]


class Dynamics(nn.Module):
    def __init__(self, g, index, mask):
        super().__init__()
        self.g = g
        D = g['width']
        self.embed = Dense(g['C'] * g['J'], D)
        self.position = nn.Parameter(torch.empty(g['P'], D))
        self.actions = ActionEncoder(g) if g['action'] != 'none' else None
        self.blocks = nn.ModuleList(
            TransformerBlock(NeighbourhoodAttention(D, g['heads'], index, mask), D, D * g['mlpRatio'])
            for _ in range(g['depth'])
        )
        self.norm = LayerNorm(D)
        self.head = Dense(D, g['pp'])

    def step(self, context, current, actions):
        """context halo patches [n, C, P, J], current core patches [n, P, pp], actions [n, A] -> next [n, P, pp]."""
        g, D = self.g, self.g['width']
        tubelets = context.transpose(1, 2).reshape(-1, g['C'] * g['J'])  # [n*P, C*J]
        x = self.embed(tubelets).view(-1, g['P'], D) + self.position  # [n, P, D]
        if self.actions is not None:
            x = x + self.actions(actions).view(-1, 1, D)
        rows = x.reshape(-1, D)  # [n*P, D]
        for block in self.blocks:
            rows = block(rows)
        return self.head(self.norm(rows)).view(-1, g['P'], g['pp']) + current


class Spatial(nn.Module):
    """The dynamics under the name real-steps.ts gives it, with its stage's loss rolled 1 step (teacher-forced)."""

    def __init__(self, g, index, mask):
        super().__init__()
        self.dynamics = Dynamics(g, index, mask)

    def loss(self, i):
        d = self.dynamics.step(i['context'], i['current'], i.get('action0')) - i['target0']
        return (d * d * i['weights']).mean()


# endregion
# region the spec and the step ---------------------------------------------------------------------------------
DTYPES = {'float32': torch.float32, 'int32': torch.int32}


def read_spec(directory):
    with open(os.path.join(directory, 'spec.json')) as f:
        spec = json.load(f)
    with open(os.path.join(directory, 'data.bin'), 'rb') as f:
        data = bytearray(f.read())

    def tensor(entry):
        dtype, count = DTYPES[entry['dtype']], math.prod(entry['shape'])
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=entry['offset'])
        t = t.view(entry['shape']).clone()
        return t.long() if t.dtype == torch.int32 else t  # ids index tables: int64, as PyTorch code holds them

    load = lambda entries: {name: tensor(e) for name, e in entries.items()}
    return spec, load(spec['params']), [load(b) for b in spec['batches']], load(spec['constants']), load(spec['grads'])


def real_step(directory, attention='products'):
    """The real network's Adam step on the spec's batches (cycled), and the report of its check against tfjs;
    `attention`: how jepa's attention multiplies (MultiHeadAttention)."""
    MultiHeadAttention.products = attention == 'products'
    spec, params, batches, constants, reference = read_spec(directory)
    g = spec['geometry']
    model = Jepa(g) if spec['net'] == 'jepa' else Spatial(g, constants['neighbours'], constants['neighbourMask'])
    model.load_state_dict(params, strict=False)  # buffers (index tables) are the twin's own
    missing = [n for n, _ in model.named_parameters() if n not in params]
    unknown = [n for n in params if n not in dict(model.named_parameters())]
    if missing or unknown:
        raise SystemExit(f"{spec['net']} twin: weights the twin lacks {unknown}, twin weights TS lacks {missing}")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if sorted(n for n, _ in trainable) != sorted(spec['trainable']):
        raise SystemExit(f"{spec['net']} twin: trains {[n for n, _ in trainable]}, TS trains {spec['trainable']}")

    loss = model.loss(batches[0])
    loss.backward()
    worst = scale = 0.0
    for n, p in trainable:
        ref = reference.get(n, torch.zeros_like(p))
        got = p.grad if p.grad is not None else torch.zeros_like(p)
        worst = max(worst, (got - ref).abs().max().item())
        scale = max(scale, ref.abs().max().item())
    report = {
        'attention': attention if spec['net'] == 'jepa' else 'neighbourhood',
        'weights': sum(p.numel() for _, p in trainable),
        'check': {'loss': loss.item(), 'worst': worst, 'scale': scale},
    }
    optimiser = torch.optim.Adam([p for _, p in trainable], lr=1e-3)
    at = [0]

    def step():
        optimiser.zero_grad(set_to_none=True)
        batch = batches[at[0] % len(batches)]
        at[0] += 1
        loss = model.loss(batch)
        loss.backward()
        optimiser.step()
        return loss.item()

    return step, report


# endregion
