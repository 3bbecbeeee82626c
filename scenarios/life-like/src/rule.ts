// Life-like rules: B, the neighbour counts at which a dead cell is born, and S, the counts at which a live
// cell survives, held as bit masks over counts (bit n set = count n is in the set). Their B/S notation, their
// bit vectors (the hypotheses' assignment order), and the named rules of the world distribution.

/** A birth/survival rule: bit n of `birth` (of `survival`) is set when count n is in B (in S). */
export interface Rule {
  /** Bits 0..8 for the Moore neighbourhood. */
  readonly birth: number;
  readonly survival: number;
}

/** Neighbours of a cell in the Moore neighbourhood: counts run 0..8. */
export const MOORE_MAX_COUNT = 8;

/** "B3/S23" -> { birth: 0b1000, survival: 0b1100 }. Digits 0..8, in any order; S may be empty ("B2/S"). */
export function parseRule(notation: string): Rule {
  const match = /^B([0-8]*)\/S([0-8]*)$/.exec(notation);
  if (!match) throw new Error(`parseRule: "${notation}" is not B/S notation; expected e.g. "B3/S23" (digits 0-8)`);
  const mask = (digits: string) => [...digits].reduce((bits, d) => bits | (1 << Number(d)), 0);
  return { birth: mask(match[1]), survival: mask(match[2]) };
}

/** { birth: 0b1000, survival: 0b1100 } -> "B3/S23" (digits ascending). */
export function ruleNotation(rule: Rule, maxCount = MOORE_MAX_COUNT): string {
  const digits = (bits: number) =>
    Array.from({ length: maxCount + 1 }, (_, n) => n)
      .filter((n) => (bits >>> n) & 1)
      .join('');
  return `B${digits(rule.birth)}/S${digits(rule.survival)}`;
}

/** The rule as a bit vector: B0..B{maxCount}, then S0..S{maxCount} (the factored hypotheses' order). */
export function ruleBits(rule: Rule, maxCount = MOORE_MAX_COUNT): number[] {
  const bits: number[] = [];
  for (let n = 0; n <= maxCount; n++) bits.push((rule.birth >>> n) & 1);
  for (let n = 0; n <= maxCount; n++) bits.push((rule.survival >>> n) & 1);
  return bits;
}

/** Inverse of ruleBits: 2 (maxCount + 1) values, each 0 or 1. */
export function ruleFromBits(bits: ArrayLike<number>, maxCount = MOORE_MAX_COUNT): Rule {
  const width = maxCount + 1;
  if (bits.length !== 2 * width)
    throw new RangeError(
      `ruleFromBits: ${bits.length} bits; expected ${2 * width} (B0..B${maxCount}, S0..S${maxCount})`,
    );
  let birth = 0,
    survival = 0;
  for (let n = 0; n < width; n++) {
    if (bits[n]) birth |= 1 << n;
    if (bits[width + n]) survival |= 1 << n;
  }
  return { birth, survival };
}

export function sameRule(a: Rule, b: Rule): boolean {
  return a.birth === b.birth && a.survival === b.survival;
}

/**
 * The named rules that sampleWorld draws half of the time (uniformly among them). None has B0: a B0 rule
 * turns every dead cell with no live neighbour on, so on a torus it strobes (with S8 absent, a mostly empty
 * grid fills and empties on alternate steps) and says little about the other bits.
 */
export const NAMED_RULES: ReadonlyArray<{ readonly name: string; readonly notation: string }> = [
  { name: 'Conway', notation: 'B3/S23' },
  { name: 'HighLife', notation: 'B36/S23' },
  { name: 'Seeds', notation: 'B2/S' },
  { name: 'Day & Night', notation: 'B3678/S34678' },
  { name: 'Life without Death', notation: 'B3/S012345678' },
  { name: 'Maze', notation: 'B3/S12345' },
  { name: '2x2', notation: 'B36/S125' },
  { name: 'Morley', notation: 'B368/S245' },
  { name: 'Diamoeba', notation: 'B35678/S5678' },
  { name: 'Anneal', notation: 'B4678/S35678' },
  { name: 'Replicator', notation: 'B1357/S1357' },
  { name: '34 Life', notation: 'B34/S34' },
];

/** A named rule by its name (as in NAMED_RULES). */
export function namedRule(name: string): Rule {
  const entry = NAMED_RULES.find((r) => r.name === name);
  if (!entry)
    throw new Error(
      `namedRule: no rule named "${name}"; the named rules are ${NAMED_RULES.map((r) => r.name).join(', ')}`,
    );
  return parseRule(entry.notation);
}
