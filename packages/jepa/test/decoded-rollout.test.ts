// The decoded rollout of a categorical view: each step starts from the state the probe read one step before,
// encoded again (ids j * (V + 1) + value per slot; value V a pad slot, left as it is).
import { describe, expect, it } from 'vitest';
import { decodedRollout, type RolloutInput, type RolloutNetworks } from '../src/forecast';

describe('decodedRollout', () => {
  it('feeds each step the decoded state of the step before, one step at a time, with that step’s actions', async () => {
    const V = 5,
      S = 2,
      N = 2,
      b = 2,
      H = 3;
    const calls: Array<{ horizon: number; ids: number[]; action: number[] }> = [];
    // a fake network: one step adds the step's action to every value (mod V), for any horizon it is asked
    const step: RolloutNetworks = (input) => {
      const ids = input.ids as Int32Array;
      calls.push({ horizon: input.horizon, ids: [...ids], action: [...(input.actionsAt(0) as Int32Array)] });
      const out = new Float32Array(b * input.horizon * N * S);
      for (let i = 0; i < b; i++)
        for (let k = 0; k < N * S; k++) {
          const value = ids[i * N * S + k] % (V + 1);
          const a = (input.actionsAt(0) as Int32Array)[i];
          out[i * input.horizon * N * S + k] = value === V ? 0 : (value + a) % V;
        }
      return out;
    };
    // window 0: values 1, 2, 3 and a pad slot; window 1: 0, 4, 4, 4 (slot j's ids are offset by j * (V + 1))
    const values = [1, 2, 3, V, 0, 4, 4, 4];
    const ids = Int32Array.from(values, (v, at) => (at % S) * (V + 1) + v);
    const input: RolloutInput = {
      count: b,
      horizon: H,
      ids,
      tokenMask: new Float32Array(b * N).fill(1),
      contextIds: null,
      contextSlots: 0,
      actionsAt: (h) => Int32Array.from([h + 1, 1]), // window 0 adds h + 1 at step h, window 1 adds 1
    };
    const out = await decodedRollout(step, V)(input);
    expect(calls.map((c) => c.horizon)).toEqual([1, 1, 1]);
    expect(calls.map((c) => c.action)).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    // window 0, first token, slot 0 (value 1): +1, +2, +3 -> 2, 4, 2 (mod 5); the pad slot keeps its id throughout
    const at = (i: number, h: number, k: number) => out[(i * H + h) * N * S + k];
    expect([at(0, 0, 0), at(0, 1, 0), at(0, 2, 0)]).toEqual([2, 4, 2]);
    expect(calls.every((c) => c.ids[3] === 1 * (V + 1) + V)).toBe(true);
    // window 1, slot 1 of token 0 (value 4): +1 each step -> 0, 1, 2; its ids are re-encoded with the slot offset
    expect([at(1, 0, 1), at(1, 1, 1), at(1, 2, 1)]).toEqual([0, 1, 2]);
    expect(calls[2].ids[N * S + 1]).toBe(1 * (V + 1) + 1);
  });
});
