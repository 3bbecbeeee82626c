// The re-anchored rollout of a real view read by its change: blocks of k steps, each started from the decoded states
// of the block before (lag 0 the standardised state, lag l the change from l to l - 1 steps back, in deltaStd units).
import { describe, expect, it } from 'vitest';
import { reanchoredRollout, type RolloutInput, type RolloutNetworks } from '../src/forecast';

const N = 2,
  S = 2,
  L = 3,
  b = 2;
// deltaStd / std per slot; slot 1 of token 1 is a pad slot (0)
const ratio = Float32Array.from([0.5, 0.25, 0.5, 0]);

/** x [b, N, L S]: lag 0 a standardised state, lag 1 the last step's change (a velocity), lag 2 the one before. */
function inputOf(H: number): RolloutInput {
  const x = new Float32Array(b * N * L * S);
  for (let i = 0; i < b; i++)
    for (let n = 0; n < N; n++)
      for (let j = 0; j < S; j++) {
        const base = (i * N + n) * L * S;
        x[base + j] = 0.1 * (i + 1) + n - j; //          lag 0
        x[base + S + j] = 0.3 * (i + 1) - 0.2 * n + j; //  lag 1: the velocity, in deltaStd units
        x[base + 2 * S + j] = 0.3 * (i + 1) - 0.2 * n + j;
      }
  return {
    count: b,
    horizon: H,
    x,
    tokenMask: new Float32Array(b * N).fill(1),
    contextIds: null,
    contextSlots: 0,
    actionsAt: () => null,
  };
}

/**
 * A fake network that forecasts constant velocity (the change over h steps is h times lag 1) but, like a probe
 * trained on rollouts of k steps, cannot read a change further than k steps: beyond k it repeats the change at k.
 */
function constantVelocity(k: number, seen: RolloutInput[]): RolloutNetworks {
  return (input) => {
    seen.push(input);
    const x = input.x as Float32Array;
    const out = new Float32Array(input.count * input.horizon * N * S);
    for (let i = 0; i < input.count; i++)
      for (let h = 0; h < input.horizon; h++)
        for (let n = 0; n < N; n++)
          for (let j = 0; j < S; j++)
            out[((i * input.horizon + h) * N + n) * S + j] = Math.min(h + 1, k) * x[(i * N + n) * L * S + S + j];
    return out;
  };
}

describe('reanchoredRollout', () => {
  it('reads no latent further than k steps: constant velocity holds to the horizon', async () => {
    const k = 2,
      H = 7;
    const seen: RolloutInput[] = [];
    const input = inputOf(H);
    const out = await reanchoredRollout(constantVelocity(k, seen), k, L, ratio)(input);
    // blocks of 2, 2, 2, 1 steps, each with its own steps' actions
    expect(seen.map((s) => s.horizon)).toEqual([2, 2, 2, 1]);
    const x = input.x as Float32Array;
    for (let i = 0; i < b; i++)
      for (let h = 0; h < H; h++)
        for (let n = 0; n < N; n++)
          for (let j = 0; j < S; j++) {
            const got = out[((i * H + h) * N + n) * S + j];
            // the change from the last observation after h + 1 steps, as the plain rollout would report it
            const want = ratio[n * S + j] === 0 ? 0 : (h + 1) * x[(i * N + n) * L * S + S + j];
            expect(got).toBeCloseTo(want, 5);
          }
    // the second block starts from the state two steps on, its lags the block's last two changes
    const second = seen[1].x as Float32Array;
    expect(second[0]).toBeCloseTo(x[0] + 2 * x[S] * ratio[0], 6);
    expect(second[S]).toBeCloseTo(x[S], 6);
    expect(second[2 * S]).toBeCloseTo(x[S], 6);
    // a pad slot is never touched
    expect(second[(0 * N + 1) * L * S + 1]).toBe(x[(0 * N + 1) * L * S + 1]);
  });

  it('is the plain rollout up to k steps, and the plain rollout saturates beyond them', async () => {
    const k = 3,
      seen: RolloutInput[] = [];
    const plain = constantVelocity(k, seen);
    const short = inputOf(3);
    expect(await reanchoredRollout(plain, k, L, ratio)(short)).toEqual(await plain(short));
    const long = inputOf(6);
    const latent = (await plain(long)) as Float32Array;
    const anchored = await reanchoredRollout(plain, k, L, ratio)(long);
    // step 6 of window 0, token 0, slot 0: the plain rollout stops at 3 x velocity, the anchored one reaches 6 x
    const v = (long.x as Float32Array)[S];
    expect(latent[5 * N * S]).toBeCloseTo(3 * v, 6);
    expect(anchored[5 * N * S]).toBeCloseTo(6 * v, 5);
  });
});
