// The common token space of a generalist jepa (generalist.ts): every world's values become tokens through value
// embeddings every world of their kind shares, and tokens are read back through one shared readout. What is left per
// view is small by construction: an embedding of each slot of a token (a patch's cell, a ball's x y vx vy, a program
// row's opcode and arguments), bound to the value by an elementwise product, so that "value u at slot j" is
//   values[u] ⊙ slots[j]                                                                                   [D]
// A view's tables are not its own weights but these products, computed in the graph (`BoundTable.table`): the
// specialist's table of S (V + 1) x D free rows becomes S x D of its own over a (V + 1) x D table shared by every
// categorical view (and the program), its real features map of (L S + 1) x D rows becomes S x D over an (L + 1) x D
// one, and its probe's last layer of H x S V becomes S x D behind one shared query layer (H x D) and values table.
//
// Shapes: D = width, V = the largest vocab of the worlds' categorical views and contexts (row V: a pad, no value), L
// the most history steps a real view reads (row 0: the token's presence flag), H = probeHidden.
import type { Rng } from '@worldbench/core';
import { constantVariable, Dense, Embedding, Module, type Ops, type tf } from '@worldbench/neural';
import { contextTableRows } from './inputs';
import type { ContextLayout, StateLayout } from './layout';

/** The input side: a token per categorical value, and the directions of a real element's value and history. */
export class ValueEmbedding extends Module {
  /** [V + 1, D]: categorical values 0..V-1 and, row V, the pad (a patch slot past the grid, a context's "none"). */
  readonly categorical: Embedding | null;
  /** [L + 1, D]: row 0 the token's presence flag, row 1 + l a real element's value (l = 0) or its l-th difference. */
  readonly real: Embedding | null;

  /** `vocab` 0: no categorical world; `lags` 0: no real world. Unit scale: the per-view slots set each view's. */
  constructor(rng: Rng, vocab: number, lags: number, width: number) {
    super();
    this.categorical = vocab > 0 ? new Embedding(rng.fork('categorical'), vocab + 1, width, 1) : null;
    this.real = lags > 0 ? new Embedding(rng.fork('real'), lags + 1, width, 1) : null;
  }
  parts() {
    return { categorical: this.categorical, real: this.real };
  }
}

/** The output side: the probe's hidden layer [H] -> a query token [D], read against each slot's value keys. */
export class Readout extends Module {
  readonly query: Dense; //                 [H, D]
  /** [V, D]: a categorical value's key (before its slot's binding); null without a categorical world. */
  readonly categorical: Embedding | null;
  /** [1, D]: a real value's key; null without a real world. */
  readonly real: Embedding | null;

  constructor(rng: Rng, hidden: number, vocab: number, real: boolean, width: number) {
    super();
    this.query = new Dense(rng.fork('query'), hidden, width);
    this.categorical = vocab > 0 ? new Embedding(rng.fork('categorical'), vocab, width, 1) : null;
    this.real = real ? new Embedding(rng.fork('real'), 1, width, 1) : null;
  }
  parts() {
    return { query: this.query, categorical: this.categorical, real: this.real };
  }
}

/**
 * A view's table [R, D] bound from shared values: row r = values[valueIds[r]] ⊙ slots[slotIds[r]]. Its own weights are
 * `slots` alone; `values` is the shared table (listed in its parts: a world reads it).
 */
export class BoundTable extends Module {
  readonly slots: Embedding; //                                                                           [S, D]
  readonly rows: number;

  constructor(
    rng: Rng,
    readonly values: Embedding,
    private readonly valueIds: Int32Array,
    private readonly slotIds: Int32Array,
    slots: number,
    std: number,
  ) {
    super();
    if (valueIds.length !== slotIds.length) throw new Error('jepa BoundTable: valueIds and slotIds differ in length');
    if (valueIds.some((u) => u < 0 || u >= values.vocab))
      throw new Error(`jepa BoundTable: a value past the shared table's ${values.vocab} rows`);
    this.rows = valueIds.length;
    this.slots = new Embedding(rng, slots, values.width, std);
  }

  /** The bound rows [R, D]. */
  table<T>(ops: Ops<T>): T {
    const value = ops.gather(ops.param(this.values.table), 0, ops.constant(this.valueIds, [this.rows])); //  [R, D]
    const slot = ops.gather(ops.param(this.slots.table), 0, ops.constant(this.slotIds, [this.rows])); //     [R, D]
    return ops.mul(value, slot);
  }

  /** As an embedding: ids (any shape I, in [0, R)) -> [...I, D]. */
  apply<T>(ops: Ops<T>, ids: T): T {
    return ops.gather(this.table(ops), 0, ids);
  }

  /** As a linear map without bias: x [..., R] -> [..., D]. */
  map<T>(ops: Ops<T>, x: T): T {
    const D = this.values.width;
    return ops.dense(x, this.table(ops), ops.constant(new Float32Array(D), [D]));
  }
  parts() {
    return { values: this.values, slots: this.slots };
  }
}

/**
 * A categorical state's embedding table, as the specialist's ids read it (inputs.ts: slot j's value u at row
 * j (V + 1) + u, u = V its pad): values[u] ⊙ slots[j], the view's pad at the shared pad row. Scale 1/sqrt(S) per
 * row, as the specialist's table, so a token (the sum of its S slots) starts at unit scale.
 */
export function boundStateTable(rng: Rng, layout: StateLayout, values: Embedding): BoundTable {
  const { slots: S, vocab: V } = layout;
  const pad = values.vocab - 1;
  const valueIds = Int32Array.from({ length: S * (V + 1) }, (_, r) => (r % (V + 1) < V ? r % (V + 1) : pad));
  const slotIds = Int32Array.from({ length: S * (V + 1) }, (_, r) => Math.floor(r / (V + 1)));
  return new BoundTable(rng, values, valueIds, slotIds, S, 1 / Math.sqrt(S));
}

/**
 * A real state's features map [L S + 1, D] (inputs.ts: feature l S + j is slot j's value (l = 0) or its l-th
 * difference, the last the token's presence): real[1 + l] ⊙ slots[j], and real[0] ⊙ slots[S] for the flag. Scale: the
 * specialist's Dense (glorot over L S + 1 inputs and D outputs).
 */
export function boundFeatures(rng: Rng, layout: StateLayout, real: Embedding): BoundTable {
  const { slots: S, lags: L } = layout;
  const valueIds = Int32Array.from({ length: L * S + 1 }, (_, f) => (f < L * S ? 1 + Math.floor(f / S) : 0));
  const slotIds = Int32Array.from({ length: L * S + 1 }, (_, f) => (f < L * S ? f % S : S));
  return new BoundTable(rng, real, valueIds, slotIds, S + 1, Math.sqrt(2 / (L * S + 1 + real.width)));
}

/**
 * A context's embedding table, as encodeContext's ids read it (inputs.ts: part by part, slot j's value u at
 * offset + j V_part + u, and the part's "none" row last): values[u] ⊙ slots[part's j], the "none" row the pad bound
 * to the part's own last slot. Scale 0.02, as the specialist's table (a LayerNorm follows).
 */
export function boundContextTable(rng: Rng, layout: ContextLayout, values: Embedding): BoundTable {
  const pad = values.vocab - 1;
  const valueIds: number[] = [],
    slotIds: number[] = [];
  let slotBase = 0;
  for (const part of layout.parts) {
    for (let j = 0; j < part.slots; j++)
      for (let u = 0; u < part.vocab; u++) valueIds.push(u), slotIds.push(slotBase + j);
    valueIds.push(pad), slotIds.push(slotBase + part.slots);
    slotBase += part.slots + 1;
  }
  if (valueIds.length !== contextTableRows(layout))
    throw new Error('jepa boundContextTable: rows differ from inputs.ts');
  return new BoundTable(rng, values, Int32Array.from(valueIds), Int32Array.from(slotIds), slotBase, 0.02);
}

/**
 * A probe's last layer through the shared readout: the hidden layer's h [..., H] -> q = query(h) [..., D], then per
 * output o = (slot j, value u) the score q · (values[u] ⊙ slots[j]) + bias[o] (a real view: u the real key). Its own
 * weights: slots [S, D] and bias [outputs]. Keys at 1/sqrt(D), so an output starts at the scale of the specialist's
 * glorot layer.
 */
export class BoundHead extends Module {
  readonly keys: BoundTable; //                                                                     [outputs, D]
  readonly bias: tf.Variable; //                                                                    [outputs]

  constructor(
    rng: Rng,
    layout: StateLayout,
    readonly readout: Readout,
  ) {
    super();
    const { slots: S, vocab: V } = layout;
    const categorical = layout.kind === 'categorical';
    const values = categorical ? readout.categorical : readout.real;
    if (!values) throw new Error(`jepa BoundHead: the shared readout has no ${layout.kind} keys`);
    const outputs = categorical ? S * V : S;
    const valueIds = Int32Array.from({ length: outputs }, (_, o) => (categorical ? o % V : 0));
    const slotIds = Int32Array.from({ length: outputs }, (_, o) => (categorical ? Math.floor(o / V) : o));
    this.keys = new BoundTable(rng.fork('keys'), values, valueIds, slotIds, S, 1 / Math.sqrt(values.width));
    this.bias = constantVariable([outputs], 0);
  }

  /** h [..., H] -> [..., outputs]; `frozen`: every weight under stop-gradient (the predictor's value pointer). */
  apply<T>(ops: Ops<T>, h: T, frozen: boolean): T {
    const hold = (x: T) => (frozen ? ops.stopGradient(x) : x);
    const { query } = this.readout;
    const q = ops.dense(h, hold(ops.param(query.w)), hold(ops.param(query.b))); //                 [..., D]
    const keys = hold(ops.transpose(this.keys.table(ops), [1, 0])); //                              [D, outputs]
    return ops.dense(q, keys, hold(ops.param(this.bias)));
  }
  /** The readout's query layer and this head's keys (with the one values table they bind): what it reads. */
  parts() {
    return { query: this.readout.query, keys: this.keys, bias: this.bias };
  }
}
