// From Episodes (float32 ndarrays) to the typed arrays the networks read, following the layouts in
// layout.ts. No tfjs here either: the training loop uploads these once per fit, the forecast per query.
import { block, episodeCount, lengthOf, stepsPerEpisode, type Episodes, type Tensor } from '@worldbench/core';
import { maskIndexOf, type ActionLayout, type ContextLayout, type StateLayout } from './layout';

/** Encoded states: M states of N tokens of `slots` values each. */
export interface StateArrays {
  count: number;
  /** Categorical: embedding row of each slot, slot * (V + 1) + value (pad value V). [M, N, slots] */
  ids?: Int32Array;
  /**
   * Real: encoder input per token, for each lag l the standardised value (l = 0) or difference to the step before (l >=
   * 1), 0 where masked. [M, N, lags * slots]
   */
  x?: Float32Array;
  /** Real: probe targets, the standardised current values. [M, N, slots] */
  targets?: Float32Array;
  /** 1 for a real token, 0 for padding (a masked-out object). [M, N] */
  tokenMask: Float32Array;
  /** Loss weight of each slot: 1 for a real element, 0 for padding and pad slots. [M, N, slots] */
  weights: Float32Array;
  /** Probe targets. Categorical: the class of each slot (0 at pad slots). [M, N, slots] */
  labels?: Int32Array;
}

/** Fills per-element standardisation stats of a real layout from observed episodes (unmasked, valid steps). */
export function fitStandardisation(layout: StateLayout, ep: Episodes, view: string): void {
  if (layout.kind !== 'real') return;
  const v = ep.views[view];
  const m = layout.maskView ? ep.views[layout.maskView] : null;
  const sum = new Float64Array(layout.size),
    sq = new Float64Array(layout.size),
    n = new Float64Array(layout.size);
  for (let e = 0; e < episodeCount(ep); e++)
    for (let t = 0; t <= lengthOf(ep, e); t++) {
      const s = block(v, e, t);
      const mk = m ? block(m, e, t) : null;
      for (let i = 0; i < layout.size; i++) {
        if (mk && mk[maskIndexOf(layout, i)] < 0.5) continue;
        if (!Number.isFinite(s[i])) continue;
        sum[i] += s[i];
        sq[i] += s[i] * s[i];
        n[i] += 1;
      }
    }
  {
    const dq = new Float64Array(layout.size),
      dn = new Float64Array(layout.size);
    for (let e = 0; e < episodeCount(ep); e++)
      for (let t = 1; t <= lengthOf(ep, e); t++) {
        const s = block(v, e, t),
          prev = block(v, e, t - 1);
        const mk = m ? block(m, e, t) : null;
        for (let i = 0; i < layout.size; i++) {
          if ((mk && mk[maskIndexOf(layout, i)] < 0.5) || !Number.isFinite(s[i]) || !Number.isFinite(prev[i])) continue;
          dq[i] += (s[i] - prev[i]) ** 2;
          dn[i] += 1;
        }
      }
    const pooled =
      Math.sqrt(
        Array.from(dq).reduce((a, b) => a + b, 0) /
          Math.max(
            1,
            Array.from(dn).reduce((a, b) => a + b, 0),
          ),
      ) || 1;
    layout.deltaStd = Array.from(dq, (q, i) =>
      dn[i] < 2 ? pooled : Math.max(Math.sqrt(q / dn[i]), 0.1 * pooled, 1e-6),
    );
  }
  const all = Array.from(n).reduce((a, b) => a + b, 0);
  const pooledStd = Math.sqrt(
    Math.max(
      1e-12,
      Array.from(sq).reduce((a, b) => a + b, 0) / Math.max(1, all) -
        (Array.from(sum).reduce((a, b) => a + b, 0) / Math.max(1, all)) ** 2,
    ),
  );
  layout.mean = Array.from(sum, (s, i) => (n[i] > 0 ? s / n[i] : 0));
  // an element that never varies (or is never seen) is scaled by the pooled std, not by ~0
  layout.std = Array.from(sq, (q, i) => {
    if (n[i] < 2) return pooledStd;
    const variance = q / n[i] - (layout.mean as number[])[i] ** 2;
    return Math.max(Math.sqrt(Math.max(0, variance)), 0.1 * pooledStd, 1e-6);
  });
}

/**
 * Encodes `count` states: state(i, lag) gives the view values of the i-th state's step `lag` steps back
 * (0: the state itself; callers clamp at the episode start), maskOf(i) its mask values (or null).
 * Non-finite values (steps past an episode's length) are encoded as zeros with weight 0.
 */
export function encodeStates(
  layout: StateLayout,
  count: number,
  state: (i: number, lag: number) => Float32Array,
  maskOf: (i: number) => Float32Array | null,
): StateArrays {
  const { tokens: N, slots: S, vocab: V, lags: L } = layout;
  const out: StateArrays = { count, tokenMask: new Float32Array(count * N), weights: new Float32Array(count * N * S) };
  if (layout.kind === 'categorical') {
    out.ids = new Int32Array(count * N * S);
    out.labels = new Int32Array(count * N * S);
  } else {
    out.x = new Float32Array(count * N * L * S);
    out.targets = new Float32Array(count * N * S);
  }
  for (let m = 0; m < count; m++) {
    const s = state(m, 0);
    const history = Array.from({ length: L }, (_, l) => (l === 0 ? s : state(m, l)));
    const mk = maskOf(m);
    for (let n = 0; n < N; n++) {
      let anyReal = false;
      for (let j = 0; j < S; j++) {
        const at = (m * N + n) * S + j;
        const i = layout.elementOf[n * S + j];
        const real = i >= 0 && Number.isFinite(s[i]) && !(mk && mk[maskIndexOf(layout, i)] < 0.5);
        if (real) anyReal = true;
        out.weights[at] = real ? 1 : 0;
        if (layout.kind === 'categorical') {
          const value = real ? Math.min(V - 1, Math.max(0, Math.round(s[i]))) : V;
          (out.ids as Int32Array)[at] = j * (V + 1) + value;
          (out.labels as Int32Array)[at] = real ? value : 0;
        } else {
          const z = real ? (s[i] - (layout.mean as number[])[i]) / (layout.std as number[])[i] : 0;
          (out.targets as Float32Array)[at] = z;
          const base = (m * N + n) * L * S;
          (out.x as Float32Array)[base + j] = z;
          for (let l = 1; l < L; l++) {
            const d = (history[l - 1][i] - history[l][i]) / (layout.deltaStd as number[])[i];
            (out.x as Float32Array)[base + l * S + j] = real && Number.isFinite(d) ? d : 0;
          }
        }
      }
      out.tokenMask[m * N + n] = anyReal ? 1 : 0;
    }
  }
  return out;
}

/** Every step of every episode slot (E * (T + 1) states, index e * (T + 1) + t). */
export function encodeEpisodeStates(layout: StateLayout, ep: Episodes, view: string): StateArrays {
  const v = ep.views[view];
  const m = layout.maskView ? ep.views[layout.maskView] : null;
  const steps = stepsPerEpisode(ep) + 1;
  return encodeStates(
    layout,
    episodeCount(ep) * steps,
    (i, lag) => block(v, Math.floor(i / steps), Math.max(0, (i % steps) - lag)),
    (i) => (m ? block(m, Math.floor(i / steps), i % steps) : null),
  );
}

/** Writes the view values of decoded states back: categorical classes or de-standardised features, 0 at padding. */
export function decodeInto(layout: StateLayout, values: Float32Array, tokenValues: Float32Array, at: number): void {
  // tokenValues: [N, slots] decoded per slot (class index or standardised feature)
  const S = layout.slots;
  for (let n = 0; n < layout.tokens; n++)
    for (let j = 0; j < S; j++) {
      const i = layout.elementOf[n * S + j];
      if (i < 0) continue;
      const y = tokenValues[n * S + j];
      values[at + i] =
        layout.kind === 'categorical' ? y : y * (layout.std as number[])[i] + (layout.mean as number[])[i];
    }
}

/** Context embedding rows [E, R, slots]: part offset + slot * V + value. Null when the scenario has no context. */
export function encodeContext(
  layout: ContextLayout,
  context: Record<string, Tensor>,
  count: number,
): { ids: Int32Array; slots: number } | null {
  if (layout.tokens === 0) return null;
  const slots = Math.max(...layout.parts.map((p) => p.slots));
  const ids = new Int32Array(count * layout.tokens * slots);
  for (let e = 0; e < count; e++) {
    let row = 0,
      offset = 0;
    for (const part of layout.parts) {
      const values = block(context[part.name], e);
      for (let r = 0; r < part.tokens; r++, row++)
        for (let j = 0; j < slots; j++) {
          // a slot past this part's row width points at the part's shared "none" row (its last)
          const id =
            j < part.slots
              ? offset + j * part.vocab + Math.min(part.vocab - 1, Math.max(0, Math.round(values[r * part.slots + j])))
              : offset + part.slots * part.vocab;
          ids[(e * layout.tokens + row) * slots + j] = id;
        }
      offset += part.slots * part.vocab + 1;
    }
  }
  return { ids, slots };
}

/** Rows of the context embedding table a layout needs. */
export function contextTableRows(layout: ContextLayout): number {
  return layout.parts.reduce((s, p) => s + p.slots * p.vocab + 1, 0);
}

/** Actions [M, A]: real values, or categorical embedding rows slot * V + value. */
export function encodeActions(
  layout: ActionLayout,
  count: number,
  action: (i: number) => Float32Array,
): { x?: Float32Array; ids?: Int32Array } {
  const A = layout.size;
  if (layout.kind === 'real') {
    const x = new Float32Array(count * A);
    for (let m = 0; m < count; m++) {
      const a = action(m);
      for (let j = 0; j < A; j++) x[m * A + j] = Number.isFinite(a[j]) ? a[j] : 0;
    }
    return { x };
  }
  const V = layout.vocab;
  const ids = new Int32Array(count * A);
  for (let m = 0; m < count; m++) {
    const a = action(m);
    for (let j = 0; j < A; j++)
      ids[m * A + j] = j * V + (Number.isFinite(a[j]) ? Math.min(V - 1, Math.max(0, Math.round(a[j]))) : 0);
  }
  return { ids };
}
