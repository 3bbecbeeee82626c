// The Ops interface of @worldbench/neural written into an ONNX graph: tracing a network's `apply(ops, ...)` with
// an OnnxOps writes its graph. A value is the name of a graph value; weights become initializers (named by their
// modules' paths when the exporter was given the modules). The layer calls take the forms ORT runs fast (MatMul
// + Add on any leading dimensions, LayerNormalization, 4-D attention heads), computing what the tfjs kernels
// compute in the same order of float operations. A layer whose graph form deliberately differs from its tfjs
// form gets an exporter of its own (`layerExporter`), which its `apply` reaches through `ops.layer`.
import type { Dim, Module, Ops, AttentionMasks, Activation, tf } from '@worldbench/neural';
import { broadcastShapes, type ElementType, type OnnxBuilder, type ValueInfo } from './builder';

/** The graph form of a layer class: (ops, the layer, its inputs) -> its output. */
export interface LayerExporter {
  readonly layer: abstract new (...args: never[]) => Module;
  readonly export: (ops: OnnxOps, module: Module, ...inputs: string[]) => string;
}

/** Registers `write` as the graph form of every `layer` of this class (see Ops.layer). */
export function layerExporter<M extends Module>(
  layer: abstract new (...args: never[]) => M,
  write: (ops: OnnxOps, module: M, ...inputs: string[]) => string,
): LayerExporter {
  return { layer, export: write as LayerExporter['export'] };
}

export interface OnnxOpsOptions {
  /** Initializer names of weights (e.g. from Module.namedParams); others are called "param". */
  names?: ReadonlyMap<tf.Tensor, string>;
  exporters?: readonly LayerExporter[];
}

// ONNX TensorProto data types FLOAT, INT32
const CAST_TO: Record<'float32' | 'int32', number> = { float32: 1, int32: 6 };

export class OnnxOps implements Ops<string> {
  readonly runtime = 'onnx' as const;
  private readonly names: ReadonlyMap<tf.Tensor, string>;
  private readonly exporters: readonly LayerExporter[];

  constructor(
    /** The graph being written; for nodes the interface has no op for. */
    readonly graph: OnnxBuilder,
    options: OnnxOpsOptions = {},
  ) {
    this.names = options.names ?? new Map();
    this.exporters = options.exporters ?? [];
  }

  // region values --------------------------------------------------------------------------------------

  param(t: tf.Tensor): string {
    return this.graph.weight(t, this.names.get(t) ?? 'param');
  }

  constant(values: Float32Array | Int32Array, shape: number[]): string {
    return this.graph.constant(values, shape);
  }

  shape(x: string): Dim[] {
    return this.graph.shapeOf(x);
  }

  private dtype(x: string): ElementType {
    return this.graph.info(x).dtype;
  }

  /** A number as a scalar of `like`'s element type; a value as it is. */
  private operand(x: string | number, like: string): string {
    if (typeof x !== 'number') return x;
    return this.graph.scalar(x, 'scalar', this.dtype(like) === 'float32' ? 'float32' : 'int32');
  }

  private unary(op: string, x: string, attributes = {}): string {
    return this.graph.node(op, [x], this.graph.info(x), attributes);
  }

  // endregion
  // region elementwise ---------------------------------------------------------------------------------

  add(a: string, b: string | number): string {
    return this.graph.add(a, this.operand(b, a));
  }

  sub(a: string | number, b: string | number): string {
    if (typeof a === 'number' && typeof b === 'number')
      throw new Error('exportOnnx: sub of two numbers: compute it in JS');
    return typeof a === 'number'
      ? this.graph.sub(this.operand(a, b as string), b as string)
      : this.graph.sub(a, this.operand(b, a));
  }

  mul(a: string, b: string | number): string {
    return this.graph.mul(a, this.operand(b, a));
  }

  div(a: string | number, b: string | number): string {
    if (typeof a === 'number' && typeof b === 'number')
      throw new Error('exportOnnx: div of two numbers: compute it in JS');
    const [x, y] = typeof a === 'number' ? [this.operand(a, b as string), b as string] : [a, this.operand(b, a)];
    return this.graph.node('Div', [x, y], {
      shape: broadcastShapes(this.shape(x), this.shape(y)),
      dtype: this.dtype(x),
    });
  }

  /** ONNX Max, which broadcasts like the other elementwise ops. */
  maximum(a: string, b: string | number): string {
    const y = this.operand(b, a);
    return this.graph.node('Max', [a, y], {
      shape: broadcastShapes(this.shape(a), this.shape(y)),
      dtype: this.dtype(a),
    });
  }

  neg(x: string): string {
    return this.unary('Neg', x);
  }

  sqrt(x: string): string {
    return this.unary('Sqrt', x);
  }

  abs(x: string): string {
    return this.unary('Abs', x);
  }

  clip(x: string, lo: number, hi: number): string {
    return this.graph.node('Clip', [x, this.graph.scalar(lo), this.graph.scalar(hi)], this.graph.info(x));
  }

  relu(x: string): string {
    return this.unary('Relu', x);
  }

  /** GELU, tanh approximation, op for op as neural's `gelu`: 0.5 x (1 + tanh(c x (1 + a x^2))). */
  gelu(x: string): string {
    const g = this.graph;
    const x2 = g.mul(x, x);
    const inner = g.add(g.mul(x2, g.scalar(0.044715, 'gelu_a')), g.scalar(1, 'one'));
    const t = g.node('Tanh', [g.mul(g.mul(x, inner), g.scalar(Math.sqrt(2 / Math.PI), 'gelu_c'))], g.info(x));
    return g.mul(g.mul(x, g.scalar(0.5, 'half')), g.add(t, g.scalar(1, 'one')));
  }

  private compare(op: string, a: string, b: string): string {
    return this.graph.node(op, [a, b], { shape: broadcastShapes(this.shape(a), this.shape(b)), dtype: 'bool' });
  }

  less(a: string, b: string | number): string {
    return this.compare('Less', a, this.operand(b, a));
  }

  equal(a: string, b: string): string {
    return this.compare('Equal', a, b);
  }

  where(cond: string, a: string, b: string | number): string {
    const other = this.operand(b, a);
    const shape = broadcastShapes(broadcastShapes(this.shape(cond), this.shape(a)), this.shape(other));
    return this.graph.node('Where', [cond, a, other], { shape, dtype: this.dtype(a) });
  }

  cast(x: string, dtype: 'float32' | 'int32'): string {
    return this.graph.node('Cast', [x], { shape: this.shape(x), dtype }, { to: { int: CAST_TO[dtype] } });
  }

  stopGradient(x: string): string {
    return x; // a graph has no gradients
  }

  // endregion
  // region reductions and the last axis --------------------------------------------------------------

  private dropAxis(x: string, axis: number): Dim[] {
    return this.shape(x).filter((_, i) => i !== axis);
  }

  /** A sum over an axis of length 1 is a Squeeze: ReduceSum on a unit axis costs a full pass (ORT's reduce kernel). */
  sum(x: string, axis: number): string {
    if (this.shape(x)[axis] === 1)
      return this.graph.node(
        'Squeeze',
        [x, this.graph.int64s([axis], 'axes')],
        { shape: this.dropAxis(x, axis), dtype: this.dtype(x) },
        {},
        'sum',
      );
    return this.graph.node(
      'ReduceSum',
      [x, this.graph.int64s([axis], 'axes')],
      { shape: this.dropAxis(x, axis), dtype: this.dtype(x) },
      { keepdims: { int: 0 } },
      'sum',
    );
  }

  mean(x: string, axis: number): string {
    return this.graph.node(
      'ReduceMean',
      [x],
      { shape: this.dropAxis(x, axis), dtype: this.dtype(x) },
      { axes: { ints: [axis] }, keepdims: { int: 0 } },
      'mean',
    );
  }

  max(x: string, axis: number): string {
    return this.graph.node(
      'ReduceMax',
      [x],
      { shape: this.dropAxis(x, axis), dtype: this.dtype(x) },
      { axes: { ints: [axis] }, keepdims: { int: 0 } },
      'max',
    );
  }

  softmax(x: string): string {
    return this.unary('Softmax', x, { axis: { int: -1 } });
  }

  logSoftmax(x: string): string {
    return this.unary('LogSoftmax', x, { axis: { int: -1 } });
  }

  argMax(x: string, axis: number): string {
    return this.graph.node(
      'ArgMax',
      [x],
      { shape: this.dropAxis(x, axis), dtype: 'int64' },
      { axis: { int: axis }, keepdims: { int: 0 } },
      'argmax',
    );
  }

  /** Each id compared with 0..depth-1 (Equal, Cast): an id outside the range matches none, a zero row. */
  oneHot(ids: string, depth: number): string {
    const g = this.graph;
    const dtype = this.dtype(ids);
    const range = Array.from({ length: depth }, (_, i) => i);
    const rows =
      dtype === 'int64'
        ? g.constant(BigInt64Array.from(range.map(BigInt)), [depth], 'one_hot_rows')
        : g.constant(Int32Array.from(range), [depth], 'one_hot_rows');
    const column = g.reshape(ids, [...this.shape(ids).map(() => 0), 1]); //           [...S, 1]
    return this.cast(this.compare('Equal', column, rows), 'float32'); //              [...S, depth]
  }

  // endregion
  // region layout --------------------------------------------------------------------------------------

  reshape(x: string, shape: number[]): string {
    return this.graph.reshape(x, shape);
  }

  transpose(x: string, perm: number[]): string {
    return this.graph.transpose(x, perm);
  }

  concat(xs: string[], axis: number): string {
    const shapes = xs.map((x) => this.shape(x));
    const sizes = shapes.map((s) => s[axis]);
    const joined = sizes.every((s) => typeof s === 'number')
      ? (sizes as number[]).reduce((a, c) => a + c, 0)
      : `${xs[0]}_concat`;
    return this.graph.node(
      'Concat',
      xs,
      { shape: shapes[0].map((d, i) => (i === axis ? joined : d)), dtype: this.dtype(xs[0]) },
      { axis: { int: axis } },
      'concat',
    );
  }

  slice(x: string, axis: number, start: number, end: number): string {
    const g = this.graph;
    const shape = this.shape(x).map((d, i) => (i === axis ? end - start : d));
    return g.node(
      'Slice',
      [x, g.int64s([start], 'starts'), g.int64s([end], 'ends'), g.int64s([axis], 'axes')],
      { shape, dtype: this.dtype(x) },
      {},
      'slice',
    );
  }

  split(x: string, axis: number, parts: number): string[] {
    const size = this.shape(x)[axis];
    const part = typeof size === 'number' ? size / parts : `${x}_part`;
    const out: ValueInfo = { shape: this.shape(x).map((d, i) => (i === axis ? part : d)), dtype: this.dtype(x) };
    return this.graph.nodeOutputs(
      'Split',
      [x],
      Array.from({ length: parts }, () => out),
      { axis: { int: axis } },
      'split',
    );
  }

  padEnd(x: string, axis: number, count: number, value: number): string {
    const shape = this.shape(x);
    const pads = new Array<number>(2 * shape.length).fill(0);
    pads[shape.length + axis] = count;
    const size = shape[axis];
    const out = shape.map((d, i) => (i === axis ? (typeof size === 'number' ? size + count : `${x}_padded`) : d));
    return this.graph.node(
      'Pad',
      [x, this.graph.int64s(pads, 'pads'), this.operand(value, x)],
      { shape: out, dtype: this.dtype(x) },
      {},
      'padded',
    );
  }

  gather(x: string, axis: number, indices: string): string {
    const index =
      this.dtype(indices) === 'float32'
        ? this.graph.node('Cast', [indices], { shape: this.shape(indices), dtype: 'int64' }, { to: { int: 7 } }, 'ids')
        : indices; // 7: INT64
    const from = this.shape(x);
    const shape = [...from.slice(0, axis), ...this.shape(indices), ...from.slice(axis + 1)];
    return this.graph.node('Gather', [x, index], { shape, dtype: this.dtype(x) }, { axis: { int: axis } }, 'gathered');
  }

  // endregion
  // region layer calls -------------------------------------------------------------------------------

  matMul(a: string, b: string): string {
    return this.graph.matMul(a, b);
  }

  /** MatMul + Add (+ Relu) on any leading dimensions. */
  dense(x: string, w: string, b: string, activation: Activation = 'linear'): string {
    const [inputs, outputs] = this.shape(w);
    const shape = this.shape(x);
    const width = shape[shape.length - 1];
    if (typeof width === 'number' && width !== inputs)
      throw new Error(
        `exportOnnx: a dense layer ${inputs}->${outputs} takes width ${inputs}, "${x}" has shape [${shape.join(', ')}]`,
      );
    const y = this.graph.add(this.graph.matMul(x, w), b, 'dense');
    return activation === 'relu' ? this.graph.node('Relu', [y], this.graph.info(y), {}, 'dense_relu') : y;
  }

  /** ONNX LayerNormalization over the last axis (opset 17). */
  layerNorm(x: string, gain: string, bias: string, epsilon: number): string {
    return this.graph.node(
      'LayerNormalization',
      [x, gain, bias],
      this.graph.info(x),
      { axis: { int: -1 }, epsilon: { float: epsilon } },
      'layer_norm',
    );
  }

  /**
   * Heads split as [B, H, T, dh] (the same numbers as tfjs's [B*H, T, dh]), scaled scores, additive causal and
   * key padding masks, softmax, weighted values, heads merged: [B, T, D].
   */
  attention(q: string, k: string, v: string, heads: number, masks: AttentionMasks<string> = {}): string {
    const g = this.graph;
    const d = this.shape(q)[2];
    if (this.shape(q).length !== 3 || typeof d !== 'number')
      throw new Error(
        `exportOnnx: attention takes [batch, T, D] with a fixed D, "${q}" has shape [${this.shape(q).join(', ')}]`,
      );
    const dh = d / heads;
    const heads4 = (y: string) => g.reshape(y, [0, 0, heads, dh]); //               [B, L, H, dh]
    const qh = g.transpose(heads4(q), [0, 2, 1, 3]); //                            [B, H, T, dh]
    const kt = g.transpose(heads4(k), [0, 2, 3, 1]); //                            [B, H, dh, S]
    const vh = g.transpose(heads4(v), [0, 2, 1, 3]); //                            [B, H, S, dh]
    let scores = g.mul(g.matMul(qh, kt), g.scalar(1 / Math.sqrt(dh), 'attention_scale')); // [B, H, T, S]
    let mask: string | undefined = masks.causal ? this.causalMask(q) : undefined; // [T, T]
    if (masks.keyMask) {
      if (this.dtype(masks.keyMask) !== 'float32')
        throw new Error(`exportOnnx: keyMask "${masks.keyMask}" must be float32 (1 keep, 0 padding)`);
      const drop = g.mul(g.sub(g.scalar(1, 'one'), masks.keyMask), g.scalar(-1e9, 'mask_drop')); // [B, S]
      const padding = g.reshape(drop, [0, 1, 1, -1]); //                           [B, 1, 1, S]
      mask = mask ? g.add(mask, padding) : padding; //                             broadcasts to [B, 1, T, S]
    }
    if (mask) scores = g.add(scores, mask);
    const weights = g.node('Softmax', [scores], g.info(scores), { axis: { int: -1 } }, 'attention_weights');
    const out = g.transpose(g.matMul(weights, vh), [0, 2, 1, 3]); //                [B, T, H, dh]
    return g.reshape(out, [0, 0, d]); //                                           [B, T, D]
  }

  /**
   * Additive mask [T, T] for the sequence of `x` [B, T, D], as neural's causalMask: -1e9 above the diagonal, 0
   * elsewhere. A constant for a fixed T; for a symbolic T, made in the graph (-1e9 expanded to [T, T], the
   * upper triangle above the diagonal kept by Trilu).
   */
  private causalMask(x: string): string {
    const g = this.graph;
    const t = this.shape(x)[1];
    if (typeof t === 'number') {
      const m = new Float32Array(t * t);
      for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
      return g.constant(m, [t, t], 'causal_mask');
    }
    const shape = g.node('Shape', [x], { shape: [3], dtype: 'int64' }, {}, 'x_shape');
    const tt = g.node(
      'Gather',
      [shape, g.int64s([1, 1], 'time_axes')],
      { shape: [2], dtype: 'int64' },
      { axis: { int: 0 } },
      'mask_shape',
    );
    const filled = g.node(
      'Expand',
      [g.scalar(-1e9, 'mask_drop'), tt],
      { shape: [t, t], dtype: 'float32' },
      {},
      'mask_filled',
    );
    const one = g.constant(BigInt64Array.from([1n]), [], 'diagonal_offset');
    return g.node('Trilu', [filled, one], { shape: [t, t], dtype: 'float32' }, { upper: { int: 1 } }, 'causal_mask');
  }

  layer(module: Module, inputs: string[], own: () => string): string {
    const exporter = this.exporters.find((e) => module instanceof e.layer);
    return exporter ? exporter.export(this, module, ...inputs) : own();
  }

  // endregion
}
