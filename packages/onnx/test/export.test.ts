// exportOnnx: each exported network computes in ONNX Runtime what it computes in tfjs (max abs difference
// < 1e-4 on seeded random inputs and weights, at two batch sizes through one symbolic batch dimension);
// the bytes parse back with onnx-proto; an unsupported layer is a clear error.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createRng, type Rng } from '@worldbench/core';
import { Dense, Embedding, LayerNorm, Mlp, MultiHeadAttention, gelu, initBackend, tf, type Layer } from '@worldbench/neural';
import { exportOnnx, SESSION_OPTIONS, type ExportInput } from '../src/index';

const TOLERANCE = 1e-4;
const BATCHES = [2, 5];

beforeAll(async () => {
  await initBackend();
});

/** Moves every parameter off its initial value (zero biases, unit gains) by seeded N(0, scale^2) noise. */
function perturb(rng: Rng, layers: Layer[], scale = 0.3): void {
  for (const p of layers.flatMap((l) => l.params())) {
    const noise = Float32Array.from({ length: p.size }, () => scale * rng.normal());
    tf.tidy(() => p.assign(tf.add(p, tf.tensor(noise, p.shape))));
  }
}

/** A seeded feed for one input at batch size `batch` (the first dimension); ids in [0, vocab) for int inputs. */
interface Feed {
  input: ExportInput;
  make: (rng: Rng, shape: number[]) => Float32Array | Int32Array;
}
const normal = (input: ExportInput): Feed => ({ input, make: (rng, shape) => Float32Array.from({ length: size(shape) }, () => rng.normal()) });
const ids = (input: ExportInput, vocab: number): Feed => ({ input, make: (rng, shape) => Int32Array.from({ length: size(shape) }, () => rng.int(vocab)) });
/** A key padding mask with at least the first key kept in each row. */
const keep = (input: ExportInput): Feed => ({
  input,
  make: (rng, shape) => Float32Array.from({ length: size(shape) }, (_, i) => (i % shape[1] === 0 || rng.bernoulli(0.6) ? 1 : 0)),
});
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Exports the network, then for each batch size feeds the same seeded inputs to ORT and to `reference`
 * (tfjs); returns the largest |difference| over all outputs and batch sizes.
 */
async function parity(
  seed: string,
  feeds: Feed[],
  build: Parameters<typeof exportOnnx>[0],
  reference: (inputs: Record<string, tf.Tensor>) => Record<string, tf.Tensor>,
): Promise<number> {
  const bytes = exportOnnx(build, feeds.map((f) => f.input));
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  let worst = 0;
  try {
    for (const batch of BATCHES) {
      const rng = createRng(`${seed}/${batch}`);
      const values = feeds.map((f) => {
        const shape = f.input.shape.map((d) => (typeof d === 'number' ? d : batch));
        return { name: f.input.name, shape, data: f.make(rng, shape) };
      });
      const result = await session.run(Object.fromEntries(values.map((v) => [v.name, new ort.Tensor(v.data instanceof Int32Array ? 'int32' : 'float32', v.data, v.shape)])));
      const expected = tf.tidy(() => {
        const out = reference(Object.fromEntries(values.map((v) => [v.name, tf.tensor(v.data, v.shape, v.data instanceof Int32Array ? 'int32' : 'float32')])));
        return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }]));
      });
      expect(Object.keys(result).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const got = result[name];
        expect(got.dims, name).toEqual(want.shape);
        const data = got.data as Float32Array;
        for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i] - want.data[i]));
        got.dispose();
      }
    }
  } finally {
    await session.release();
  }
  return worst;
}

describe('exported networks match tfjs in ONNX Runtime (max abs < 1e-4, batch sizes 2 and 5)', () => {
  it('Dense (linear and relu), Mlp (relu and gelu), LayerNorm and gelu', async () => {
    const rng = createRng('export-dense');
    const linear = new Dense(rng, 6, 5);
    const relu = new Dense(rng, 6, 5, { activation: 'relu' });
    const mlpRelu = new Mlp(rng, [5, 16, 16, 3]);
    const mlpGelu = new Mlp(rng, [5, 16, 3], 'gelu');
    const norm = new LayerNorm(5);
    const layers = [linear, relu, mlpRelu, mlpGelu, norm];
    perturb(rng, layers);
    const x = { name: 'x', shape: ['batch', 4, 6] };
    const diff = await parity(
      'dense',
      [normal(x)],
      (b) => {
        const h = b.layer(linear, 'x');
        return { linear: h, relu: b.layer(relu, 'x'), mlpRelu: b.layer(mlpRelu, h), mlpGelu: b.layer(mlpGelu, h), norm: b.layer(norm, h), gelu: b.gelu(h) };
      },
      ({ x: xs }) => {
        const h = linear.apply(xs);
        return { linear: h, relu: relu.apply(xs), mlpRelu: mlpRelu.apply(h), mlpGelu: mlpGelu.apply(h), norm: norm.apply(h), gelu: gelu(h) };
      },
    );
    expect(diff).toBeLessThan(TOLERANCE);
    // the comparison can fail: a network that differs in one bias is caught
    const other = await parity('dense', [normal(x)], (b) => ({ y: b.layer(linear, 'x') }), ({ x: xs }) => ({ y: tf.add(linear.apply(xs), 1e-3) }));
    expect(other).toBeGreaterThan(5e-4);
    layers.forEach((l) => l.dispose());
  });

  it('Embedding (int32 ids, 2-D)', async () => {
    const rng = createRng('export-embedding');
    const table = new Embedding(rng, 11, 8);
    perturb(rng, [table]);
    const diff = await parity('embedding', [ids({ name: 'ids', shape: ['batch', 7], dtype: 'int32' }, 11)], (b) => ({ e: b.layer(table, 'ids') }), ({ ids: t }) => ({ e: table.apply(t) }));
    expect(diff).toBeLessThan(TOLERANCE);
    table.dispose();
  });

  it('MultiHeadAttention: self, causal, cross, key mask, causal + key mask; fixed and symbolic sequence length', async () => {
    const rng = createRng('export-attention');
    const attn = new MultiHeadAttention(rng, 16, 4);
    perturb(rng, [attn], 0.1);
    const feeds = [
      normal({ name: 'x', shape: ['batch', 6, 16] }),
      normal({ name: 'ctx', shape: ['batch', 9, 16] }),
      keep({ name: 'keep', shape: ['batch', 6] }),
      keep({ name: 'ctxKeep', shape: ['batch', 9] }),
    ];
    const diff = await parity(
      'attention',
      feeds,
      (b) => ({
        self: b.layer(attn, 'x'),
        causal: b.layer(attn, 'x', { causal: true }),
        cross: b.layer(attn, 'x', { context: 'ctx' }),
        masked: b.layer(attn, 'x', { keyMask: 'keep' }),
        crossMasked: b.layer(attn, 'x', { context: 'ctx', keyMask: 'ctxKeep' }),
        causalMasked: b.layer(attn, 'x', { causal: true, keyMask: 'keep' }),
      }),
      ({ x, ctx, keep: k, ctxKeep }) => {
        const [x3, c3] = [x as tf.Tensor3D, ctx as tf.Tensor3D];
        return {
          self: attn.apply(x3),
          causal: attn.apply(x3, { causal: true }),
          cross: attn.apply(x3, { context: c3 }),
          masked: attn.apply(x3, { keyMask: k as tf.Tensor2D }),
          crossMasked: attn.apply(x3, { context: c3, keyMask: ctxKeep as tf.Tensor2D }),
          causalMasked: attn.apply(x3, { causal: true, keyMask: k as tf.Tensor2D }),
        };
      },
    );
    expect(diff).toBeLessThan(TOLERANCE);
    // a symbolic sequence length too (every symbolic dimension takes the batch size here: T = 2 and T = 5)
    const free = await parity(
      'attention-free-length',
      [normal({ name: 'x', shape: ['batch', 'time', 16] }), keep({ name: 'keep', shape: ['batch', 'time'] })],
      (b) => ({ causal: b.layer(attn, 'x', { causal: true }), causalMasked: b.layer(attn, 'x', { causal: true, keyMask: 'keep' }) }),
      ({ x, keep: k }) => ({ causal: attn.apply(x as tf.Tensor3D, { causal: true }), causalMasked: attn.apply(x as tf.Tensor3D, { causal: true, keyMask: k as tf.Tensor2D }) }),
    );
    expect(free).toBeLessThan(TOLERANCE);
    attn.dispose();
  });

  it('a composed network: embedding -> causal attention block (residual + LayerNorm, key mask) -> MLP head', async () => {
    const rng = createRng('export-composed');
    const [vocab, width, steps] = [13, 16, 8];
    const embed = new Embedding(rng, vocab, width);
    const attn = new MultiHeadAttention(rng, width, 2);
    const norm1 = new LayerNorm(width);
    const ff = new Mlp(rng, [width, 32, width], 'gelu');
    const norm2 = new LayerNorm(width);
    const head = new Dense(rng, width, vocab);
    const layers = [embed, attn, norm1, ff, norm2, head];
    perturb(rng, layers, 0.1);
    const diff = await parity(
      'composed',
      [ids({ name: 'tokens', shape: ['batch', steps], dtype: 'int32' }, vocab), keep({ name: 'keep', shape: ['batch', steps] })],
      (b) => {
        const h = b.layer(embed, 'tokens');
        const h1 = b.layer(norm1, b.add(h, b.layer(attn, h, { causal: true, keyMask: 'keep' })));
        const h2 = b.layer(norm2, b.add(h1, b.layer(ff, h1)));
        return { logits: b.layer(head, h2) };
      },
      ({ tokens, keep: k }) => {
        const h = embed.apply(tokens) as tf.Tensor3D;
        const h1 = norm1.apply(tf.add(h, attn.apply(h, { causal: true, keyMask: k as tf.Tensor2D })));
        const h2 = norm2.apply(tf.add(h1, ff.apply(h1)));
        return { logits: head.apply(h2) };
      },
    );
    expect(diff).toBeLessThan(TOLERANCE);
    layers.forEach((l) => l.dispose());
  });
});

describe('the exported bytes', () => {
  it('parse back with onnx-proto: opset 17, symbolic batch, weights as initializers; ORT opens them', async () => {
    const rng = createRng('export-bytes');
    const mlp = new Mlp(rng, [4, 8, 3]);
    const bytes = exportOnnx((b) => ({ y: b.layer(mlp, 'x') }), [{ name: 'x', shape: ['batch', 4] }], { name: 'mlp' });
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const graph = model.graph!;
    expect(graph.name).toBe('mlp');
    expect((graph.input ?? []).map((i) => [i.name, i.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue))])).toEqual([['x', ['batch', 4]]]);
    expect((graph.output ?? []).map((o) => [o.name, o.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue))])).toEqual([['y', ['batch', 3]]]);
    const parameters = (graph.initializer ?? []).reduce((s, t) => s + (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1), 0);
    expect(parameters).toBe(mlp.count());
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    await session.release();
    mlp.dispose();
  });

  it('an unsupported layer, a shape mismatch and an unknown value are clear errors', () => {
    const rng = createRng('export-errors');
    const dense = new Dense(rng, 4, 3);
    const notALayer = new (class Conv2d {})();
    const x = [{ name: 'x', shape: ['batch', 4] }];
    expect(() => exportOnnx((b) => ({ y: b.layer(notALayer, 'x') }), x)).toThrow(/no exporter for layer Conv2d; supported: Dense, LayerNorm, Embedding, MultiHeadAttention, Mlp/);
    expect(() => exportOnnx((b) => ({ y: b.layer(dense, b.layer(dense, 'x')) }), x)).toThrow(/Dense 4->3 takes width 4, "dense" has shape \[batch, 3\]/);
    expect(() => exportOnnx((b) => ({ y: b.layer(dense, 'h') }), x)).toThrow(/no value named "h" in the graph \(inputs: x\)/);
    dense.dispose();
  });
});
