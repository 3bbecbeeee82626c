// The census of a generalist's parameters (generalist.ts): how many of them every world reads. Strict: an element of a
// weight counts as shared only when every world's networks read it; a world that reads some rows of a weight (a slice,
// a gather at fixed rows) shares those rows only. The reads are recorded, not declared: each group of worlds' forecast
// networks (online encoder, predictor, probe: onnx.ts's "encode" and "step" graphs) are traced through an Ops that
// notes, per weight, which of its elements each op reads (`recordReads`).
import type { Ops, tf } from '@worldbench/neural';
import type { Geometry, Networks } from './model';
import { exportForecastGraphs } from './onnx';

/**
 * The parameters of the networks the forecasts use (online encoder, predictor, probe; the target encoder is the online
 * one's EMA copy and the anchor trains only, as a specialist's FitReport.params counts), each once: `total`.
 */
export interface ParameterCensus {
  total: number;
  /** The elements every group's networks read (strict). */
  shared: number;
  /** shared / total. */
  share: number;
  /** The elements of the weights every group's networks hold, read whole or in part (the loose count). */
  held: number;
  /** held / total. */
  heldShare: number;
  /** Per group: its weights that not every group holds. */
  own: number[];
}

/** Weights -> a 0/1 mask of the elements read, [size]. */
export type Reads = Map<tf.Tensor, Uint8Array>;

/**
 * `ops` that also notes, in `reads`, which elements of each weight (`ops.param`) it reads: a slice or a gather at
 * constant indices of a weight (or of its stop-gradient) reads those entries along its axis; any other op that takes a
 * weight reads all of it. A slice or gather of a reshaped or transposed weight, or a gather at indices the data gives,
 * reads entries no trace can name: none are counted, so the census errs towards "not shared".
 */
export function recordReads<T>(ops: Ops<T>, reads: Reads): Ops<T> {
  const weights = new Map<T, { weight: tf.Tensor; view: boolean }>(); // a value -> the weight it is (or views)
  const constants = new Map<T, Float32Array | Int32Array>();
  const maskOf = (w: tf.Tensor) => {
    let mask = reads.get(w);
    if (!mask) reads.set(w, (mask = new Uint8Array(w.size)));
    return mask;
  };
  /** Marks the entries of `w` at `indices` along `axis` (all of them: null). */
  const mark = (w: tf.Tensor, axis: number | null, indices: Iterable<number> | null) => {
    const mask = maskOf(w);
    if (axis === null || indices === null) return void mask.fill(1);
    const a = axis < 0 ? axis + w.rank : axis;
    const inner = w.shape.slice(a + 1).reduce((p, n) => p * n, 1);
    const outer = w.shape.slice(0, a).reduce((p, n) => p * n, 1);
    const n = w.shape[a];
    for (const i of indices) for (let o = 0; o < outer; o++) mask.fill(1, (o * n + i) * inner, (o * n + i + 1) * inner);
  };
  return new Proxy(ops, {
    get(target, prop, receiver) {
      const f = Reflect.get(target, prop, receiver);
      if (typeof f !== 'function') return f;
      return (...args: unknown[]) => {
        const out = f.apply(target, args) as T;
        const source = weights.get(args[0] as T);
        switch (prop) {
          case 'param':
            weights.set(out, { weight: args[0] as tf.Tensor, view: false });
            maskOf(args[0] as tf.Tensor); // held and traced, even if no op reads it
            return out;
          case 'constant':
            constants.set(out, args[0] as Float32Array | Int32Array);
            return out;
          case 'shape':
            return out;
          case 'stopGradient':
          case 'reshape':
          case 'transpose':
          case 'cast':
            if (source) weights.set(out, { weight: source.weight, view: source.view || prop !== 'stopGradient' });
            return out;
          case 'slice': {
            const [, axis, start, end] = args as [T, number, number, number];
            if (source && !source.view)
              mark(
                source.weight,
                axis,
                Array.from({ length: end - start }, (_, i) => start + i),
              );
            return out;
          }
          case 'gather': {
            const [, axis, indices] = args as [T, number, T];
            const fixed = constants.get(indices);
            if (source && !source.view && fixed) mark(source.weight, axis, new Set(Array.from(fixed)));
            return out;
          }
        }
        for (const a of args.flat()) {
          const w = weights.get(a as T);
          if (w) mark(w.weight, null, null);
        }
        return out;
      };
    },
  });
}

/** What the forecast networks of one group read: its "encode" and "step" graphs traced through recordReads. */
export function forecastReads(nets: Networks, geometry: Geometry): Reads {
  const reads: Reads = new Map();
  exportForecastGraphs(nets, geometry, (ops) => recordReads(ops, reads));
  return reads;
}

/** The census of the groups' networks (each with its geometry), strict by what each group's forecasts read. */
export function parameterCensus(groups: readonly { nets: Networks; geometry: Geometry }[]): ParameterCensus {
  const sets = groups.map(
    ({ nets: n }) => new Set([...n.online.params(), ...n.predictor.params(), ...n.probe.params()]),
  );
  const reads = groups.map(({ nets, geometry }) => forecastReads(nets, geometry));
  const all = new Set(sets.flatMap((s) => [...s]));
  const size = (vars: Iterable<{ size: number }>) => [...vars].reduce((sum, v) => sum + v.size, 0);
  const everyGroup = [...all].filter((v) => sets.every((s) => s.has(v)));
  // an element is shared when every group's masks have it
  const shared = everyGroup.reduce((sum, v) => {
    const masks = reads.map((r) => r.get(v));
    let n = 0;
    for (let i = 0; i < v.size; i++) if (masks.every((m) => m?.[i] === 1)) n++;
    return sum + n;
  }, 0);
  const total = size(all);
  const held = size(everyGroup);
  return {
    total,
    shared,
    share: total > 0 ? shared / total : 0,
    held,
    heldShare: total > 0 ? held / total : 0,
    own: sets.map((s) => size([...s].filter((v) => !sets.every((o) => o.has(v))))),
  };
}
