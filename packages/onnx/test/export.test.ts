// exportOnnx: each network, written once against the Ops interface, computes in ONNX Runtime (traced by OnnxOps)
// what it computes in tfjs (tfjsOps): max abs difference < 1e-4 on seeded random inputs and weights, at two batch
// sizes through one symbolic batch dimension; every op of the interface likewise; a layer exporter replaces a
// layer's traced form; the bytes parse back with onnx-proto; shape mismatches are clear errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createRng, type Rng } from '@worldbench/core';
import {
  Dense,
  Embedding,
  LayerNorm,
  Mlp,
  type Module,
  MultiHeadAttention,
  initBackend,
  tf,
  tfjsOps,
  type Ops,
} from '@worldbench/neural';
import { exportOnnx, layerExporter, SESSION_OPTIONS, type ExportInput } from '../src/index';

const TOLERANCE = 1e-4;
const BATCHES = [2, 5];

beforeAll(async () => {
  await initBackend();
});

/** Moves every parameter off its initial value (zero biases, unit gains) by seeded N(0, scale^2) noise. */
function perturb(rng: Rng, layers: Module[], scale = 0.3): void {
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
const normal = (input: ExportInput): Feed => ({
  input,
  make: (rng, shape) => Float32Array.from({ length: size(shape) }, () => rng.normal()),
});
const ids = (input: ExportInput, vocab: number): Feed => ({
  input,
  make: (rng, shape) => Int32Array.from({ length: size(shape) }, () => rng.int(vocab)),
});
/** A key padding mask with at least the first key kept in each row. */
const keep = (input: ExportInput): Feed => ({
  input,
  make: (rng, shape) =>
    Float32Array.from({ length: size(shape) }, (_, i) => (i % shape[1] === 0 || rng.bernoulli(0.6) ? 1 : 0)),
});
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A network written once against the Ops interface: named inputs -> named outputs. */
type Net = <T>(ops: Ops<T>, inputs: Record<string, T>) => Record<string, T>;

/**
 * Traces `net` into ONNX, then for each batch size feeds the same seeded inputs to ORT and to `net` run by tfjs
 * (or to `reference`); returns the largest |difference| over all outputs and batch sizes.
 */
async function parity(
  seed: string,
  feeds: Feed[],
  net: Net,
  options: Parameters<typeof exportOnnx>[2] & { reference?: Net } = {},
): Promise<number> {
  const bytes = exportOnnx(
    (ops) => net(ops, Object.fromEntries(feeds.map((f) => [f.input.name, f.input.name]))),
    feeds.map((f) => f.input),
    options,
  );
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const reference = options.reference ?? net;
  let worst = 0;
  try {
    for (const batch of BATCHES) {
      const rng = createRng(`${seed}/${batch}`);
      const values = feeds.map((f) => {
        const shape = f.input.shape.map((d) => (typeof d === 'number' ? d : batch));
        return { name: f.input.name, shape, data: f.make(rng, shape) };
      });
      const result = await session.run(
        Object.fromEntries(
          values.map((v) => [
            v.name,
            new ort.Tensor(v.data instanceof Int32Array ? 'int32' : 'float32', v.data, v.shape),
          ]),
        ),
      );
      const expected = tf.tidy(() => {
        const out = reference(
          tfjsOps,
          Object.fromEntries(
            values.map((v) => [v.name, tf.tensor(v.data, v.shape, v.data instanceof Int32Array ? 'int32' : 'float32')]),
          ),
        );
        return Object.fromEntries(
          Object.entries(out).map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }]),
        );
      });
      expect(Object.keys(result).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const got = result[name];
        expect(got.dims, name).toEqual(want.shape);
        const data = got.data as Float32Array;
        for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(Number(data[i]) - want.data[i]));
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
    const diff = await parity('dense', [normal(x)], (ops, { x: xs }) => {
      const h = linear.apply(ops, xs);
      return {
        linear: h,
        relu: relu.apply(ops, xs),
        mlpRelu: mlpRelu.apply(ops, h),
        mlpGelu: mlpGelu.apply(ops, h),
        norm: norm.apply(ops, h),
        gelu: ops.gelu(h),
      };
    });
    expect(diff).toBeLessThan(TOLERANCE);
    // the comparison can fail: a network that differs in one bias is caught
    const other = await parity('dense', [normal(x)], (ops, { x: xs }) => ({ y: linear.apply(ops, xs) }), {
      reference: (ops, { x: xs }) => ({ y: ops.add(linear.apply(ops, xs), 1e-3) }),
    });
    expect(other).toBeGreaterThan(5e-4);
    layers.forEach((l) => l.dispose());
  });

  it('Embedding (int32 ids, 2-D)', async () => {
    const rng = createRng('export-embedding');
    const table = new Embedding(rng, 11, 8);
    perturb(rng, [table]);
    const diff = await parity(
      'embedding',
      [ids({ name: 'ids', shape: ['batch', 7], dtype: 'int32' }, 11)],
      (ops, i) => ({ e: table.apply(ops, i.ids) }),
    );
    expect(diff).toBeLessThan(TOLERANCE);
    table.dispose();
  });

  it(
    'MultiHeadAttention: self, causal, cross, key mask, causal + key mask; fixed and symbolic ' + 'sequence length',
    async () => {
      const rng = createRng('export-attention');
      const attn = new MultiHeadAttention(rng, 16, 4);
      perturb(rng, [attn], 0.1);
      const feeds = [
        normal({ name: 'x', shape: ['batch', 6, 16] }),
        normal({ name: 'ctx', shape: ['batch', 9, 16] }),
        keep({ name: 'keep', shape: ['batch', 6] }),
        keep({ name: 'ctxKeep', shape: ['batch', 9] }),
      ];
      const diff = await parity('attention', feeds, (ops, { x, ctx, keep: k, ctxKeep }) => ({
        self: attn.apply(ops, x),
        causal: attn.apply(ops, x, { causal: true }),
        cross: attn.apply(ops, x, { context: ctx }),
        masked: attn.apply(ops, x, { keyMask: k }),
        crossMasked: attn.apply(ops, x, { context: ctx, keyMask: ctxKeep }),
        causalMasked: attn.apply(ops, x, { causal: true, keyMask: k }),
      }));
      expect(diff).toBeLessThan(TOLERANCE);
      // a symbolic sequence length too (every symbolic dimension takes the batch size here: T = 2 and T = 5)
      const free = await parity(
        'attention-free-length',
        [normal({ name: 'x', shape: ['batch', 'time', 16] }), keep({ name: 'keep', shape: ['batch', 'time'] })],
        (ops, { x, keep: k }) => ({
          causal: attn.apply(ops, x, { causal: true }),
          causalMasked: attn.apply(ops, x, { causal: true, keyMask: k }),
        }),
      );
      expect(free).toBeLessThan(TOLERANCE);
      attn.dispose();
    },
  );

  it(
    'a composed network: embedding -> causal attention block (residual + LayerNorm, key mask) -> ' + 'MLP head',
    async () => {
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
        [
          ids({ name: 'tokens', shape: ['batch', steps], dtype: 'int32' }, vocab),
          keep({ name: 'keep', shape: ['batch', steps] }),
        ],
        (ops, { tokens, keep: k }) => {
          const h = embed.apply(ops, tokens);
          const h1 = norm1.apply(ops, ops.add(h, attn.apply(ops, h, { causal: true, keyMask: k })));
          const h2 = norm2.apply(ops, ops.add(h1, ff.apply(ops, h1)));
          return { logits: head.apply(ops, h2) };
        },
      );
      expect(diff).toBeLessThan(TOLERANCE);
      layers.forEach((l) => l.dispose());
    },
  );

  it(
    'every other op of the interface: elementwise, comparisons, where, reductions, (log) softmax, argMax, one-hot, ' +
      'layout, gather',
    async () => {
      const feeds = [
        normal({ name: 'x', shape: ['batch', 3, 4] }),
        ids({ name: 'ids', shape: ['batch', 5], dtype: 'int32' }, 6),
      ];
      const index = Int32Array.of(2, 0, 2, 1);
      const diff = await parity('ops', feeds, (ops, { x, ids: i }) => {
        const f = (y: typeof x) => ops.cast(y, 'float32');
        const [top, bottom] = ops.split(ops.concat([x, ops.neg(x)], 1), 1, 2);
        return {
          arithmetic: ops.sub(1, ops.mul(ops.add(ops.abs(x), 0.5), x)),
          divided: ops.add(ops.div(x, ops.add(ops.abs(x), 1)), ops.div(1, ops.add(ops.abs(x), 2))),
          larger: ops.maximum(ops.maximum(x, ops.neg(x)), 0.3),
          rooted: ops.sqrt(ops.add(ops.mul(x, x), 0.1)),
          logSoftmax: ops.logSoftmax(x),
          clipped: ops.clip(ops.relu(ops.sub(x, 0.1)), 0, 0.7),
          chosen: ops.where(ops.less(x, 0), ops.mul(x, 3), -1),
          equal: f(ops.equal(ops.argMax(x, 2), ops.argMax(ops.mul(x, 2), 2))),
          reduced: ops.concat([ops.sum(x, 1), ops.mean(x, 1), ops.max(x, 1)], 1),
          softmax: ops.softmax(x),
          argMax: f(ops.argMax(x, 1)),
          oneHot: ops.oneHot(ops.where(ops.less(i, 4), i, 9), 4),
          layout: ops.reshape(ops.transpose(ops.slice(ops.padEnd(x, 2, 2, 5), 2, 1, 5), [0, 2, 1]), [0, -1]),
          halves: ops.sub(top, bottom),
          gathered: ops.gather(x, 2, ops.constant(index, [4])),
          rows: ops.gather(ops.reshape(x, [-1, 4]), 0, ops.reshape(ops.slice(i, 1, 0, 2), [-1])),
          product: ops.matMul(x, ops.transpose(x, [0, 2, 1])),
          stopped: ops.stopGradient(x),
        };
      });
      expect(diff).toBeLessThan(TOLERANCE);
    },
  );
});

describe('the exported bytes', () => {
  it(
    'parse back with onnx-proto: opset 17, symbolic batch, weights as initializers named by their module paths; ' +
      'ORT opens them',
    async () => {
      const rng = createRng('export-bytes');
      const mlp = new Mlp(rng, [4, 8, 3]);
      const bytes = exportOnnx((ops) => ({ y: mlp.apply(ops, 'x') }), [{ name: 'x', shape: ['batch', 4] }], {
        name: 'mlp',
        modules: { mlp },
      });
      const model = onnxProto.onnx.ModelProto.decode(bytes);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
      const graph = model.graph!;
      expect(graph.name).toBe('mlp');
      expect(
        (graph.input ?? []).map((i) => [
          i.name,
          i.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue)),
        ]),
      ).toEqual([['x', ['batch', 4]]]);
      expect(
        (graph.output ?? []).map((o) => [
          o.name,
          o.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue)),
        ]),
      ).toEqual([['y', ['batch', 3]]]);
      const parameters = (graph.initializer ?? []).reduce(
        (s, t) => s + (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1),
        0,
      );
      expect(parameters).toBe(mlp.count());
      expect((graph.initializer ?? []).map((t) => t.name)).toEqual([
        'mlp.layers.0.w',
        'mlp.layers.0.b',
        'mlp.layers.1.w',
        'mlp.layers.1.b',
      ]);
      const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y']);
      await session.release();
      mlp.dispose();
    },
  );

  it(
    'a layer exporter replaces the traced form of its class (here: a Dense written as Gemm), ' + 'nothing else',
    async () => {
      const rng = createRng('export-exporter');
      const [a, b] = [new Dense(rng, 4, 3), new Mlp(rng, [3, 5, 2])];
      perturb(rng, [a, b]);
      class Gemm extends Dense {
        override apply<T>(ops: Ops<T>, x: T): T {
          return ops.layer(this, [x], () => super.apply(ops, x));
        }
      }
      const gemm = new Gemm(rng, 4, 3);
      perturb(rng, [gemm]);
      const written: string[] = [];
      const asGemm = layerExporter(Gemm, (ops, layer, x) => {
        written.push(x);
        return ops.graph.node('Gemm', [x, ops.param(layer.w), ops.param(layer.b)], {
          shape: ['batch', 3],
          dtype: 'float32',
        });
      });
      const net: Net = (ops, { x }) => ({ y: b.apply(ops, ops.add(a.apply(ops, x), gemm.apply(ops, x))) });
      const bytes = exportOnnx((ops) => net(ops, { x: 'x' }), [{ name: 'x', shape: ['batch', 4] }], {
        exporters: [asGemm],
      });
      const ops = onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
      expect(ops.filter((op) => op === 'Gemm')).toHaveLength(1);
      expect(ops.filter((op) => op === 'MatMul')).toHaveLength(3); // a and the two layers of b
      expect(written).toEqual(['x']);
      expect(
        await parity('exporter', [normal({ name: 'x', shape: ['batch', 4] })], net, { exporters: [asGemm] }),
      ).toBeLessThan(TOLERANCE);
      [a, b, gemm].forEach((l) => l.dispose());
    },
  );

  it('a shape mismatch and an unknown value are clear errors', () => {
    const rng = createRng('export-errors');
    const dense = new Dense(rng, 4, 3);
    const x = [{ name: 'x', shape: ['batch', 4] }];
    expect(() => exportOnnx((ops) => ({ y: dense.apply(ops, dense.apply(ops, 'x')) }), x)).toThrow(
      /a dense layer 4->3 takes width 4, "dense" has shape \[batch, 3\]/,
    );
    expect(() => exportOnnx((ops) => ({ y: dense.apply(ops, 'h') }), x)).toThrow(
      /no value named "h" in the graph \(inputs: x\)/,
    );
    dense.dispose();
  });
});
