// The Ops interface written into an ONNX graph that also gets its gradient: the forward ops go into the graph
// as OnnxOps writes them (most through it), each differentiable op is recorded on a tape with its reverse-mode
// rule, and `gradients(loss)` walks the tape backwards, writing the gradient graph into the same graph. Trained
// weights are graph inputs (not initializers), so one session runs a training step for any weights: weights
// and data in, loss and gradients out. Any network written as `apply(ops, ...)` trains this way.
//
// A value is live when it depends on a trained weight; only live values are taped and get gradients, and a
// rule computes only the input gradients that are needed (dx of a data input is never written).
import type { Activation, AttentionMasks, Dim, Module, Ops, tf } from '@worldbench/neural';
import { broadcastShapes, type OnnxBuilder, type ValueInfo } from '../builder';
import { OnnxOps } from '../onnx-ops';

/** Gradients of a recorded op's inputs from its outputs' gradients; `need[i]` says whether input i wants one. */
type Rule = (grads: (string | undefined)[], need: boolean[]) => (string | undefined)[];

interface TapeEntry {
  inputs: string[];
  outputs: string[];
  rule: Rule;
}

const INT64 = 7; // ONNX TensorProto INT64

export class GradOps implements Ops<string> {
  readonly runtime = 'onnx' as const;
  private readonly inner: OnnxOps;
  private readonly tape: TapeEntry[] = [];
  private readonly live = new Set<string>();

  constructor(
    readonly graph: OnnxBuilder,
    /** Trained weights -> the graph input holding each (declared by the caller). */
    private readonly trained: ReadonlyMap<tf.Tensor, string>,
    /** Initializer names of the other weights (fixed tensors: index tables, frozen networks). */
    names: ReadonlyMap<tf.Tensor, string> = new Map(),
    /** Fed weights -> the graph input holding each: read from an input each step, never differentiated. */
    private readonly fed: ReadonlyMap<tf.Tensor, string> = new Map(),
  ) {
    this.inner = new OnnxOps(graph, { names });
    for (const name of trained.values()) this.live.add(name);
  }

  // region the tape ----------------------------------------------------------------------------------------

  /** Whether `x` depends on a trained weight. */
  isLive(x: string | number): boolean {
    return typeof x === 'string' && this.live.has(x);
  }

  /** Records `outputs` made from `inputs` with `rule`, when any input is live (numbers are never live). */
  private record(inputs: (string | number)[], outputs: string[], rule: Rule): void {
    const names = inputs.map((x) => (typeof x === 'string' ? x : ''));
    if (!names.some((x) => this.live.has(x))) return;
    for (const o of outputs) this.live.add(o);
    this.tape.push({ inputs: names, outputs, rule });
  }

  private unary(inputs: (string | number)[], out: string, rule: Rule): string {
    this.record(inputs, [out], rule);
    return out;
  }

  /**
   * Writes the gradient graph of the scalar `loss` and returns the gradient of each of `wrt` (a zero tensor of its
   * shape for a value the loss does not depend on).
   */
  gradients(loss: string, wrt: string[]): string[] {
    const shape = this.shape(loss);
    if (shape.length !== 0)
      throw new Error(`GradOps: the loss must be a scalar, "${loss}" has shape [${shape.join(', ')}]`);
    const grads = new Map<string, string>([[loss, this.graph.scalar(1, 'one')]]);
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const entry = this.tape[i];
      const outGrads = entry.outputs.map((o) => grads.get(o));
      if (outGrads.every((g) => g === undefined)) continue;
      const need = entry.inputs.map((x) => this.live.has(x));
      const inGrads = entry.rule(outGrads, need);
      entry.inputs.forEach((x, k) => {
        const g = inGrads[k];
        if (!need[k] || g === undefined) return;
        const known = grads.get(x);
        grads.set(x, known === undefined ? g : this.graph.add(known, g, 'grad_sum'));
      });
    }
    return wrt.map((w) => grads.get(w) ?? this.zerosLike(w));
  }

  // endregion
  // region graph helpers -----------------------------------------------------------------------------------

  private info(x: string): ValueInfo {
    return this.graph.info(x);
  }

  private node(op: string, inputs: string[], out: ValueInfo, attributes = {}, prefix = op): string {
    return this.graph.node(op, inputs, out, attributes, prefix);
  }

  /** The runtime shape of x (int64 [rank]): works for symbolic dimensions. */
  private shapeOf(x: string): string {
    return this.node('Shape', [x], { shape: [this.shape(x).length], dtype: 'int64' }, {}, 'shape');
  }

  private zerosLike(x: string): string {
    return this.node('ConstantOfShape', [this.shapeOf(x)], this.info(x), {}, 'zeros');
  }

  /** Where(cond, g, 0). */
  private keepWhere(cond: string, g: string): string {
    const shape = broadcastShapes(this.shape(cond), this.shape(g));
    return this.node('Where', [cond, g, this.graph.scalar(0, 'zero')], { shape, dtype: 'float32' }, {}, 'masked');
  }

  private bool(op: string, a: string, b: string): string {
    return this.node(op, [a, b], { shape: broadcastShapes(this.shape(a), this.shape(b)), dtype: 'bool' });
  }

  /** ReduceSum over `axes`. */
  private reduceSum(x: string, axes: number[], keepdims: boolean): string {
    const shape = this.shape(x);
    const out = keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
    return this.node(
      'ReduceSum',
      [x, this.graph.int64s(axes, 'axes')],
      { shape: out, dtype: 'float32' },
      { keepdims: { int: keepdims ? 1 : 0 } },
      'grad_reduced',
    );
  }

  /** The gradient g of a broadcast result, summed back to the shape of the operand `like`. */
  private unbroadcast(g: string, like: string | number): string {
    if (typeof like === 'number') return g;
    const gs = this.shape(g);
    const ls = this.shape(like);
    const lead = gs.length - ls.length;
    const ones = ls.flatMap((d, i) => (d === 1 && gs[lead + i] !== 1 ? [lead + i] : []));
    let out = ones.length ? this.reduceSum(g, ones, true) : g;
    if (lead > 0)
      out = this.reduceSum(
        out,
        Array.from({ length: lead }, (_, i) => i),
        false,
      );
    return out;
  }

  private unsqueeze(x: string, axis: number): string {
    const shape = [...this.shape(x)];
    shape.splice(axis, 0, 1);
    return this.node('Unsqueeze', [x, this.graph.int64s([axis], 'axes')], { shape, dtype: this.info(x).dtype });
  }

  /** Entries of the int64 vector `v` at `indices`. */
  private pick(v: string, indices: number[]): string {
    return this.node(
      'Gather',
      [v, this.graph.int64s(indices, 'at')],
      { shape: [indices.length], dtype: 'int64' },
      {
        axis: { int: 0 },
      },
    );
  }

  private gemm(a: string, b: string, shape: Dim[], transA = false, transB = false): string {
    return this.node(
      'Gemm',
      [a, b],
      { shape, dtype: 'float32' },
      { transA: { int: transA ? 1 : 0 }, transB: { int: transB ? 1 : 0 } },
    );
  }

  /** y [N, O] back to the leading dimensions of x [..., I]: [..., O] (read at run time: any may be symbolic). */
  private unflatten(y: string, x: string, outputs: Dim): string {
    const xs = this.shape(x);
    const lead = this.pick(
      this.shapeOf(x),
      xs.slice(0, -1).map((_, i) => i),
    );
    const shape = this.node(
      'Concat',
      [lead, this.graph.int64s([outputs as number], 'width')],
      { shape: [xs.length], dtype: 'int64' },
      { axis: { int: 0 } },
      'shape',
    );
    return this.node('Reshape', [y, shape], { shape: [...xs.slice(0, -1), outputs], dtype: 'float32' }, {}, 'dense');
  }

  /** Swaps the last two axes. */
  private transposeLast(x: string): string {
    const r = this.shape(x).length;
    const perm = Array.from({ length: r }, (_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.graph.transpose(x, perm);
  }

  // endregion
  // region values --------------------------------------------------------------------------------------

  param(t: tf.Tensor): string {
    return this.trained.get(t) ?? this.fed.get(t) ?? this.inner.param(t);
  }

  constant(values: Float32Array | Int32Array, shape: number[]): string {
    return this.inner.constant(values, shape);
  }

  shape(x: string): Dim[] {
    return this.inner.shape(x);
  }

  // endregion
  // region elementwise ---------------------------------------------------------------------------------

  add(a: string, b: string | number): string {
    return this.unary([a, b], this.inner.add(a, b), ([g], need) => [
      need[0] ? this.unbroadcast(g as string, a) : undefined,
      need[1] ? this.unbroadcast(g as string, b) : undefined,
    ]);
  }

  sub(a: string | number, b: string | number): string {
    return this.unary([a, b], this.inner.sub(a, b), ([g], need) => [
      need[0] ? this.unbroadcast(g as string, a) : undefined,
      need[1] ? this.unbroadcast(this.inner.neg(g as string), b) : undefined,
    ]);
  }

  mul(a: string, b: string | number): string {
    return this.unary([a, b], this.inner.mul(a, b), ([g], need) => [
      need[0] ? this.unbroadcast(this.inner.mul(g as string, b), a) : undefined,
      need[1] ? this.unbroadcast(this.inner.mul(g as string, a), b) : undefined,
    ]);
  }

  /** da = g / b, db = -g a / b^2 = -g out / b. */
  div(a: string | number, b: string | number): string {
    const out = this.inner.div(a, b);
    return this.unary([a, b], out, ([g], need) => [
      need[0] ? this.unbroadcast(this.inner.div(g as string, b), a) : undefined,
      need[1] ? this.unbroadcast(this.inner.neg(this.inner.div(this.inner.mul(g as string, out), b)), b) : undefined,
    ]);
  }

  /** The gradient goes to a where a >= b, else to b (tfjs's rule). */
  maximum(a: string, b: string | number): string {
    return this.unary([a, b], this.inner.maximum(a, b), ([g], need) => {
      const first = this.bool('GreaterOrEqual', a, typeof b === 'number' ? this.graph.scalar(b) : b);
      const shape = broadcastShapes(this.shape(first), this.shape(g as string));
      const second = () =>
        this.node(
          'Where',
          [first, this.graph.scalar(0, 'zero'), g as string],
          { shape, dtype: 'float32' },
          {},
          'masked',
        );
      return [
        need[0] ? this.unbroadcast(this.keepWhere(first, g as string), a) : undefined,
        need[1] ? this.unbroadcast(second(), b) : undefined,
      ];
    });
  }

  neg(x: string): string {
    return this.unary([x], this.inner.neg(x), ([g]) => [this.inner.neg(g as string)]);
  }

  /** dx = g / (2 sqrt(x)). */
  sqrt(x: string): string {
    const out = this.inner.sqrt(x);
    return this.unary([x], out, ([g]) => [this.inner.div(g as string, this.inner.mul(out, 2))]);
  }

  abs(x: string): string {
    return this.unary([x], this.inner.abs(x), ([g]) => [
      this.inner.mul(g as string, this.node('Sign', [x], this.info(x))),
    ]);
  }

  /** The gradient passes where lo <= x <= hi (tfjs's clipByValue rule). */
  clip(x: string, lo: number, hi: number): string {
    return this.unary([x], this.inner.clip(x, lo, hi), ([g]) => {
      const inside = this.bool(
        'And',
        this.bool('GreaterOrEqual', x, this.graph.scalar(lo)),
        this.bool('LessOrEqual', x, this.graph.scalar(hi)),
      );
      return [this.keepWhere(inside, g as string)];
    });
  }

  relu(x: string): string {
    return this.unary([x], this.inner.relu(x), ([g]) => [
      this.keepWhere(this.bool('Greater', x, this.graph.scalar(0, 'zero')), g as string),
    ]);
  }

  /** d/dx gelu = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c x (1 + a x^2)) (kernels.ts). */
  gelu(x: string): string {
    return this.unary([x], this.inner.gelu(x), ([g]) => {
      const o = this.inner;
      const c = Math.sqrt(2 / Math.PI);
      const x2 = o.mul(x, x);
      const t = this.node('Tanh', [o.mul(o.mul(x, o.add(o.mul(x2, 0.044715), 1)), c)], this.info(x));
      const sech2 = o.sub(1, o.mul(t, t));
      const inner = o.mul(o.add(o.mul(x2, 3 * 0.044715), 1), c);
      return [o.mul(g as string, o.add(o.mul(o.add(t, 1), 0.5), o.mul(o.mul(o.mul(x, 0.5), sech2), inner)))];
    });
  }

  less(a: string, b: string | number): string {
    return this.inner.less(a, b);
  }

  equal(a: string, b: string): string {
    return this.inner.equal(a, b);
  }

  where(cond: string, a: string, b: string | number): string {
    return this.unary([cond, a, b], this.inner.where(cond, a, b), ([g], need) => {
      const zero = this.graph.scalar(0, 'zero');
      const shape = broadcastShapes(this.shape(cond), this.shape(g as string));
      const other = () => this.node('Where', [cond, zero, g as string], { shape, dtype: 'float32' }, {}, 'masked');
      return [
        undefined,
        need[1] ? this.unbroadcast(this.keepWhere(cond, g as string), a) : undefined,
        need[2] ? this.unbroadcast(other(), b) : undefined,
      ];
    });
  }

  cast(x: string, dtype: 'float32' | 'int32'): string {
    const out = this.inner.cast(x, dtype);
    if (dtype === 'float32' && this.info(x).dtype === 'float32') this.record([x], [out], ([g]) => [g]);
    return out;
  }

  /** An Identity node: a new value that is not live, so no gradient flows back through it. */
  stopGradient(x: string): string {
    return this.node('Identity', [x], this.info(x), {}, 'stopped');
  }

  // endregion
  // region reductions and the last axis --------------------------------------------------------------

  /** g broadcast back over the reduced `axis` of x. */
  private spread(g: string, x: string, axis: number): string {
    if (this.shape(x)[axis] === 1) return this.unsqueeze(g, axis);
    return this.node('Expand', [this.unsqueeze(g, axis), this.shapeOf(x)], this.info(x), {}, 'spread');
  }

  sum(x: string, axis: number): string {
    return this.unary([x], this.inner.sum(x, axis), ([g]) => [this.spread(g as string, x, axis)]);
  }

  mean(x: string, axis: number): string {
    return this.unary([x], this.inner.mean(x, axis), ([g]) => {
      const n = this.shape(x)[axis];
      const count =
        typeof n === 'number'
          ? this.graph.scalar(n, 'count')
          : this.node(
              'Cast',
              [this.pick(this.shapeOf(x), [axis])],
              { shape: [1], dtype: 'float32' },
              {
                to: { int: 1 },
              },
            );
      return [this.node('Div', [this.spread(g as string, x, axis), count], this.info(x))];
    });
  }

  /** The gradient goes to every entry equal to the maximum (tfjs's rule). */
  max(x: string, axis: number): string {
    const out = this.inner.max(x, axis);
    return this.unary([x], out, ([g]) => {
      const at = this.node('Cast', [this.bool('Equal', x, this.unsqueeze(out, axis))], this.info(x), {
        to: { int: 1 },
      });
      return [this.inner.mul(at, this.unsqueeze(g as string, axis))];
    });
  }

  /** dx = y (g - sum(g y)) over the last axis. */
  softmax(x: string): string {
    const y = this.inner.softmax(x);
    return this.unary([x], y, ([g]) => {
      const last = this.shape(x).length - 1;
      const dot = this.reduceSum(this.inner.mul(g as string, y), [last], true);
      return [this.inner.mul(y, this.inner.sub(g as string, dot))];
    });
  }

  /** dx = g - softmax(x) sum(g) over the last axis, softmax(x) = exp(out). */
  logSoftmax(x: string): string {
    const out = this.inner.logSoftmax(x);
    return this.unary([x], out, ([g]) => {
      const total = this.reduceSum(g as string, [this.shape(x).length - 1], true);
      return [this.inner.sub(g as string, this.inner.mul(this.node('Exp', [out], this.info(out)), total))];
    });
  }

  argMax(x: string, axis: number): string {
    return this.inner.argMax(x, axis);
  }

  oneHot(ids: string, depth: number): string {
    return this.inner.oneHot(ids, depth);
  }

  // endregion
  // region layout --------------------------------------------------------------------------------------

  reshape(x: string, shape: number[]): string {
    return this.unary([x], this.inner.reshape(x, shape), ([g]) => [
      this.node('Reshape', [g as string, this.shapeOf(x)], this.info(x), {}, 'grad_reshaped'),
    ]);
  }

  transpose(x: string, perm: number[]): string {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return this.unary([x], this.inner.transpose(x, perm), ([g]) => [this.graph.transpose(g as string, inverse)]);
  }

  /** The gradient is split back into the parts' sizes along `axis` (read at run time: any may be symbolic). */
  concat(xs: string[], axis: number): string {
    return this.unary(xs, this.inner.concat(xs, axis), ([g]) => {
      const sizes = this.node(
        'Concat',
        xs.map((x) => this.pick(this.shapeOf(x), [axis])),
        { shape: [xs.length], dtype: 'int64' },
        { axis: { int: 0 } },
        'sizes',
      );
      return this.graph.nodeOutputs(
        'Split',
        [g as string, sizes],
        xs.map((x) => this.info(x)),
        { axis: { int: axis } },
        'grad_part',
      );
    });
  }

  /** The gradient is padded with zeros to x's extent along `axis`. */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.unary([x], this.inner.slice(x, axis, start, end), ([g]) => {
      const rank = this.shape(x).length;
      const size = this.shape(x)[axis];
      const before = new Array<number>(rank).fill(0);
      before[axis] = start;
      let pads: string;
      if (typeof size === 'number') {
        const after = new Array<number>(rank).fill(0);
        after[axis] = size - end;
        pads = this.graph.int64s([...before, ...after], 'pads');
      } else {
        // after[axis] = size - end, read at run time
        const rest = this.node('Sub', [this.pick(this.shapeOf(x), [axis]), this.graph.int64s([end], 'end')], {
          shape: [1],
          dtype: 'int64',
        });
        const parts = [this.graph.int64s([...before, ...new Array<number>(axis).fill(0)], 'pads'), rest];
        if (axis < rank - 1) parts.push(this.graph.int64s(new Array<number>(rank - 1 - axis).fill(0), 'pads'));
        pads = this.node('Concat', parts, { shape: [2 * rank], dtype: 'int64' }, { axis: { int: 0 } }, 'pads');
      }
      return [this.node('Pad', [g as string, pads], this.info(x), {}, 'grad_padded')];
    });
  }

  split(x: string, axis: number, parts: number): string[] {
    const outs = this.inner.split(x, axis, parts);
    this.record([x], outs, (grads) => [
      this.node(
        'Concat',
        grads.map((g, i) => g ?? this.zerosLike(outs[i])),
        this.info(x),
        { axis: { int: axis } },
        'grad_joined',
      ),
    ]);
    return outs;
  }

  padEnd(x: string, axis: number, count: number, value: number): string {
    return this.unary([x], this.inner.padEnd(x, axis, count, value), ([g]) => {
      const gr = this.graph;
      const inputs = [g as string, gr.int64s([0], 'starts'), gr.int64s([-count], 'ends'), gr.int64s([axis], 'axes')];
      return [this.node('Slice', inputs, this.info(x), {}, 'grad_unpadded')];
    });
  }

  /**
   * The gradient of a gather is a scatter-add (ScatterND, reduction add: repeated indices sum) of g into zeros of
   * x's shape, with the gathered axis moved to the front and back.
   */
  gather(x: string, axis: number, indices: string): string {
    return this.unary([x, indices], this.inner.gather(x, axis, indices), ([g], need) => {
      if (!need[0]) return [undefined, undefined];
      const xs = this.shape(x);
      const s = this.shape(indices).length;
      const rest = xs.map((_, i) => i).filter((i) => i !== axis);
      const front = [axis, ...rest]; //                              x as [X_axis, ...before, ...after]
      const frontShape = front.map((i) => xs[i]);
      const zeros = this.node(
        'ConstantOfShape',
        [this.pick(this.shapeOf(x), front)],
        { shape: frontShape, dtype: 'float32' },
        {},
        'zeros',
      );
      // g [...before, ...S, ...after] -> [...S, ...before, ...after]
      const gPerm = [
        ...Array.from({ length: s }, (_, i) => axis + i),
        ...Array.from({ length: axis }, (_, i) => i),
        ...Array.from({ length: xs.length - 1 - axis }, (_, i) => axis + s + i),
      ];
      const updates = axis === 0 ? (g as string) : this.graph.transpose(g as string, gPerm);
      const ids = this.node('Cast', [indices], { shape: this.shape(indices), dtype: 'int64' }, { to: { int: INT64 } });
      const scattered = this.node(
        'ScatterND',
        [zeros, this.unsqueeze(ids, s), updates],
        { shape: frontShape, dtype: 'float32' },
        { reduction: { string: 'add' } },
        'grad_scattered',
      );
      const back = [
        ...Array.from({ length: axis }, (_, i) => i + 1),
        0,
        ...rest.slice(axis).map((_, i) => axis + 1 + i),
      ];
      return [axis === 0 ? scattered : this.graph.transpose(scattered, back), undefined];
    });
  }

  // endregion
  // region layer calls -------------------------------------------------------------------------------

  /** da = g @ b^T, db = a^T @ g (Gemm with transposes for 2-D; MatMul of transposes else), summed to each shape. */
  matMul(a: string, b: string): string {
    const out = this.inner.matMul(a, b);
    return this.unary([a, b], out, ([g], need) => {
      const [as, bs] = [this.shape(a), this.shape(b)];
      if (as.length === 2 && bs.length === 2)
        return [
          need[0] ? this.gemm(g as string, b, as, false, true) : undefined,
          need[1] ? this.gemm(a, g as string, bs, true, false) : undefined,
        ];
      return [
        need[0] ? this.unbroadcast(this.graph.matMul(g as string, this.transposeLast(b)), a) : undefined,
        need[1] ? this.unbroadcast(this.graph.matMul(this.transposeLast(a), g as string), b) : undefined,
      ];
    });
  }

  /**
   * act(x @ w + b) as one Gemm (+ Relu) on x flattened to [N, I]; backward dW = x^T g, db = sum(g), dx = g w^T,
   * each one Gemm or ReduceSum.
   */
  dense(x: string, w: string, b: string, activation: Activation = 'linear'): string {
    const [inputs, outputs] = this.shape(w);
    const xs = this.shape(x);
    if (typeof xs[xs.length - 1] === 'number' && xs[xs.length - 1] !== inputs)
      throw new Error(
        `GradOps: a dense layer ${inputs}->${outputs} takes width ${inputs}, "${x}" has [${xs.join(', ')}]`,
      );
    const flat = xs.length === 2 ? x : this.graph.reshape(x, [-1, inputs as number]); //    [N, I]
    const n = this.shape(flat)[0];
    const z = this.node('Gemm', [flat, w, b], { shape: [n, outputs], dtype: 'float32' }, {}, 'dense');
    const y = activation === 'relu' ? this.node('Relu', [z], this.info(z), {}, 'dense_relu') : z; // [N, O]
    const out = xs.length === 2 ? y : this.unflatten(y, x, outputs); //                     [..., O]
    this.record([x, w, b], [out], ([g], need) => {
      let gy = xs.length === 2 ? (g as string) : this.graph.reshape(g as string, [-1, outputs as number]); // [N, O]
      if (activation === 'relu') gy = this.keepWhere(this.bool('Greater', y, this.graph.scalar(0, 'zero')), gy);
      const dx = () => {
        const d = this.gemm(gy, w, [n, inputs], false, true); //                            [N, I]
        return xs.length === 2 ? d : this.node('Reshape', [d, this.shapeOf(x)], this.info(x), {}, 'grad_dx');
      };
      return [
        need[0] ? dx() : undefined,
        need[1] ? this.gemm(flat, gy, [inputs, outputs], true, false) : undefined,
        need[2] ? this.reduceSum(gy, [0], false) : undefined,
      ];
    });
    return out;
  }

  /**
   * ONNX LayerNormalization, its Mean and InvStdDev outputs kept for the closed-form gradient (kernels.ts):
   * dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g gain; dgain = sum g xhat, dbias = sum g.
   */
  layerNorm(x: string, gain: string, bias: string, epsilon: number): string {
    const xs = this.shape(x);
    const stat: ValueInfo = { shape: [...xs.slice(0, -1), 1], dtype: 'float32' };
    const [y, mean, rstd] = this.graph.nodeOutputs(
      'LayerNormalization',
      [x, gain, bias],
      [this.info(x), stat, stat],
      { axis: { int: -1 }, epsilon: { float: epsilon } },
      'layer_norm',
    );
    this.record([x, gain, bias], [y], ([g], need) => {
      const o = this.inner;
      const last = xs.length - 1;
      const d = xs[last] as number;
      const xhat = o.mul(o.sub(x, mean), rstd); //                                       [..., D]
      const leading = Array.from({ length: last }, (_, i) => i);
      const dxhat = o.mul(g as string, gain);
      const dx = () => {
        const width = this.graph.scalar(d, 'count');
        const meanD = this.node('Div', [this.reduceSum(dxhat, [last], true), width], stat);
        const meanDX = this.node('Div', [this.reduceSum(o.mul(dxhat, xhat), [last], true), width], stat);
        return o.mul(rstd, o.sub(o.sub(dxhat, meanD), o.mul(xhat, meanDX)));
      };
      return [
        need[0] ? dx() : undefined,
        need[1] ? this.reduceSum(o.mul(g as string, xhat), leading, false) : undefined,
        need[2] ? this.reduceSum(g as string, leading, false) : undefined,
      ];
    });
    return y;
  }

  /**
   * OnnxOps's attention (heads as [B, H, T, dh], scaled scores, additive masks, softmax, weighted values) written
   * with this interface's own ops, so its gradient follows from theirs.
   */
  attention(q: string, k: string, v: string, heads: number, masks: AttentionMasks<string> = {}): string {
    const d = this.shape(q)[2];
    if (this.shape(q).length !== 3 || typeof d !== 'number')
      throw new Error(
        `GradOps: attention takes [batch, T, D] with a fixed D, "${q}" has [${this.shape(q).join(', ')}]`,
      );
    const dh = d / heads;
    const heads4 = (y: string) => this.reshape(y, [0, 0, heads, dh]); //               [B, L, H, dh]
    const qh = this.transpose(heads4(q), [0, 2, 1, 3]); //                            [B, H, T, dh]
    const kt = this.transpose(heads4(k), [0, 2, 3, 1]); //                            [B, H, dh, S]
    const vh = this.transpose(heads4(v), [0, 2, 1, 3]); //                            [B, H, S, dh]
    let scores = this.mul(this.matMul(qh, kt), 1 / Math.sqrt(dh)); //                [B, H, T, S]
    let mask: string | undefined;
    if (masks.causal) {
      const t = this.shape(q)[1];
      if (typeof t !== 'number') throw new Error('GradOps: causal attention needs a fixed sequence length');
      const m = new Float32Array(t * t);
      for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
      mask = this.constant(m, [t, t]); //                                             [T, T]
    }
    if (masks.keyMask) {
      const drop = this.mul(this.sub(1, masks.keyMask), -1e9); //                    [B, S]
      const padding = this.reshape(drop, [0, 1, 1, -1]); //                          [B, 1, 1, S]
      mask = mask ? this.add(mask, padding) : padding;
    }
    if (mask) scores = this.add(scores, mask);
    const weights = this.softmax(scores);
    const out = this.transpose(this.matMul(weights, vh), [0, 2, 1, 3]); //            [B, T, H, dh]
    return this.reshape(out, [0, 0, d]); //                                           [B, T, D]
  }

  /** A layer trains as its own computation (an export form is for inference graphs only). */
  layer(_module: Module, _inputs: string[], own: () => string): string {
    return own();
  }

  // endregion
}
