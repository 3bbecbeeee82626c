// Which state token is a pointer into the context: the one whose value, read as a row index, tells the most
// about the next step (code-trace: the pc, whose row is the instruction to run). Chosen from the training data
// before the networks are built, so the predictor can read the context through that token alone
// (contextRead 'gather', model.ts): a token that reads rows by a value that is no row index (a register)
// would hand the predictor a fingerprint of the program, which 32 training programs let it memorise.
// Pure data, no tfjs.
import { block, episodeCount, lengthOf, type Episodes, type Tensor } from '@worldbench/core';
import type { ContextLayout, StateLayout } from './layout';

export interface PointerChoice {
  /** The pointer token, or null when no token's row says anything about the next step. */
  token: number | null;
  /**
   * Per state token: bits of information the row at its value gives about which tokens change next (Miller-Madow
   * corrected; the best slot of the row).
   */
  bits: number[];
}

/**
 * The pointer token of a categorical state of one element per token, against a context of R rows (null when
 * the state or the context does not fit that). For each token n and each slot j of the rows, the information
 * gain I(change pattern; slot j of the row at value_n) over the training transitions, where the change pattern
 * says which tokens differ at the next step and a value outside 0..R-1 reads as "no row"; the token with the
 * largest gain (over its best slot) is the pointer if that gain is above `minBits`.
 */
export function choosePointer(
  state: StateLayout,
  context: ContextLayout,
  data: Episodes,
  view: string,
  minBits = 0.05,
): PointerChoice | null {
  const R = context.tokens;
  if (R === 0 || state.kind !== 'categorical' || state.slots !== 1) return null;
  const N = state.tokens;
  const v = data.views[view];
  const rowsOf = contextRows(context, data.context);
  const width = Math.max(...context.parts.map((p) => p.slots));
  const patterns = new Counts();
  // per (token, slot): counts of the row's value and of (row value, pattern)
  const conditions = Array.from({ length: N * width }, () => new Counts());
  const joint = Array.from({ length: N * width }, () => new Counts());
  for (let e = 0; e < episodeCount(data); e++) {
    const rows = rowsOf(e);
    for (let t = 0; t < lengthOf(data, e); t++) {
      const now = block(v, e, t),
        next = block(v, e, t + 1);
      let pattern = '';
      for (let n = 0; n < N; n++) pattern += now[state.elementOf[n]] === next[state.elementOf[n]] ? '0' : '1';
      patterns.add(pattern);
      for (let n = 0; n < N; n++) {
        const r = now[state.elementOf[n]];
        const inside = Number.isInteger(r) && r >= 0 && r < R;
        for (let j = 0; j < width; j++) {
          const c = inside ? String(rows[r * width + j]) : 'none';
          conditions[n * width + j].add(c);
          joint[n * width + j].add(`${c}|${pattern}`);
        }
      }
    }
  }
  if (patterns.total === 0) return null;
  const hPattern = patterns.entropy();
  const bits = Array.from({ length: N }, (_, n) =>
    Math.max(
      ...Array.from(
        { length: width },
        (_, j) => hPattern - (joint[n * width + j].entropy() - conditions[n * width + j].entropy()),
      ),
    ),
  );
  const best = bits.reduce((b, x, n) => (x > bits[b] ? n : b), 0);
  return { token: bits[best] > minBits ? best : null, bits };
}

/** Value counts with the Miller-Madow corrected entropy (bits): the plug-in estimate plus (K - 1) / (2 n ln 2). */
class Counts {
  private readonly counts = new Map<string, number>();
  total = 0;
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total += 1;
  }
  entropy(): number {
    let h = 0;
    for (const c of this.counts.values()) h -= (c / this.total) * Math.log2(c / this.total);
    return h + (this.counts.size - 1) / (2 * this.total * Math.LN2);
  }
}

/**
 * Episode e -> its context rows as values [R * width] (parts concatenated, each row padded with NaN to the widest
 * part).
 */
function contextRows(context: ContextLayout, tensors: Record<string, Tensor>): (e: number) => Float64Array {
  const width = Math.max(...context.parts.map((p) => p.slots));
  return (e) => {
    const rows = new Float64Array(context.tokens * width).fill(Number.NaN);
    let row = 0;
    for (const part of context.parts) {
      const values = block(tensors[part.name], e);
      for (let r = 0; r < part.tokens; r++, row++)
        for (let j = 0; j < part.slots; j++) rows[row * width + j] = values[r * part.slots + j];
    }
    return rows;
  };
}
