// Tables of categorical outcomes keyed by a context: what a discrete world learns by counting. A key is a
// number (a configuration encoded by neighbourhoods.ts, or a path of values in movers.ts); an outcome is one of
// `vocab` values. The table's evidence is the Dirichlet-multinomial marginal likelihood of its outcomes, key by
// key: the code length of the data when each key's outcome distribution is learned as it is read (the
// prequential code of the table), so a table with more keys pays for each key it had to learn, and tables of
// different context classes fitted to the same outcomes are compared fairly (MDL).
import { logGamma } from './evidence';

/**
 * The Dirichlet prior's weight per outcome (Krichevsky-Trofimov's 1/2): a key seen n times with one outcome
 * costs about (vocab - 1) / 2 * log n nats, like a BIC term per free probability of the key.
 */
export const OUTCOME_PRIOR = 0.5;

export class OutcomeTable {
  /** key -> counts of each outcome [vocab]. */
  private readonly counts = new Map<number, Int32Array>();
  constructor(readonly vocab: number) {}

  add(key: number, outcome: number): void {
    let c = this.counts.get(key);
    if (!c) this.counts.set(key, (c = new Int32Array(this.vocab)));
    c[outcome]++;
  }

  /** Distinct keys seen. */
  get size(): number {
    return this.counts.size;
  }

  /** log p(outcomes | keys) under a symmetric Dirichlet(OUTCOME_PRIOR) per key, exact. */
  logEvidence(): number {
    const a = OUTCOME_PRIOR,
      V = this.vocab;
    const perKey = logGamma(V * a),
      perOutcome = logGamma(a);
    let total = 0;
    for (const c of this.counts.values()) {
      let n = 0;
      for (let v = 0; v < V; v++) {
        if (c[v] === 0) continue;
        n += c[v];
        total += logGamma(a + c[v]) - perOutcome;
      }
      total += perKey - logGamma(V * a + n);
    }
    return total;
  }

  /** The table as decisions: each key's most frequent outcomes (more than one only on a tie). */
  decide(): Decisions {
    const out = new Map<number, number[]>();
    for (const [key, c] of this.counts) {
      let best = 0;
      for (let v = 0; v < this.vocab; v++) if (c[v] > best) best = c[v];
      const top: number[] = [];
      for (let v = 0; v < this.vocab; v++) if (c[v] === best) top.push(v);
      out.set(key, top);
    }
    return new Decisions(out);
  }

  /** Keys whose outcomes disagree (a deterministic world shows none), and how many observations they hold. */
  conflicts(): { keys: number; observations: number } {
    let keys = 0,
      observations = 0;
    for (const c of this.counts.values()) {
      let kinds = 0,
        n = 0;
      for (let v = 0; v < this.vocab; v++) if (c[v] > 0) kinds++, (n += c[v]);
      if (kinds > 1) keys++, (observations += n);
    }
    return { keys, observations };
  }
}

/** What a fitted table answers: the outcome of a key seen in training, or undefined for an unseen one. */
export class Decisions {
  constructor(private readonly top: Map<number, number[]>) {}

  get size(): number {
    return this.top.size;
  }

  /**
   * The key's outcome; on a tie, `stay` when it is among the most frequent (no change is the simpler answer), else the
   * smallest.
   */
  get(key: number, stay = -1): number | undefined {
    const t = this.top.get(key);
    if (!t) return undefined;
    return t.length > 1 && t.includes(stay) ? stay : t[0];
  }

  has(key: number): boolean {
    return this.top.has(key);
  }

  /** The outcome most keys answer, with its share of the keys (for explain()). */
  commonest(): { outcome: number; share: number } | null {
    const tally = new Map<number, number>();
    for (const t of this.top.values()) tally.set(t[0], (tally.get(t[0]) ?? 0) + 1);
    let outcome = -1,
      n = 0;
    for (const [o, c] of tally) if (c > n || (c === n && o < outcome)) [outcome, n] = [o, c];
    return outcome < 0 ? null : { outcome, share: n / this.top.size };
  }

  /** [key, outcomes...] rows, sorted by key (a deterministic save). */
  toJSON(): number[][] {
    return [...this.top.entries()].sort((a, b) => a[0] - b[0]).map(([k, t]) => [k, ...t]);
  }

  static fromJSON(rows: number[][]): Decisions {
    return new Decisions(new Map(rows.map(([k, ...t]) => [k, t])));
  }
}
