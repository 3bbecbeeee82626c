// What keeps rare values in jepa's latents: the anchor (a readout head trained with the online encoder) and the
// change weight of the latent loss (balanced from the training data's still and changing tokens).
import { beforeAll, describe, expect, it } from 'vitest';
import codeTrace from '@worldbench/code-trace';
import spriteWorld from '../../../scenarios/sprite-world/src/index';
import type { Scenario } from '@worldbench/core';
import { initBackend, tf, tfjsOps } from '@worldbench/neural';
import { disposeTrainingSet, stepBatchOf, tensorsOf, type TrainingSet, windowArrays } from '../src/batch';
import type { JepaConfig } from '../src/config';
import { changeWeightFor, jepaLoss, MAX_CHANGE_WEIGHT } from '../src/losses';
import { rolloutStepsFor } from '../src/schedule';
import { trainableParams } from '../src/train';
import { disposeNetworks, smallConfig, smallSetup } from './helpers';

beforeAll(async () => {
  await initBackend();
});

/** A categorical set of one slot per token, as changeWeightFor reads it: states [M, N] of each episode slot. */
function labelSet(states: number[][][], lengths: number[], mask?: number[][][]): TrainingSet {
  const N = states[0][0].length;
  const flat = states.flat();
  return {
    arrays: {
      states: {
        count: flat.length,
        labels: Int32Array.from(flat.flat()),
        tokenMask: Float32Array.from(mask ? mask.flat(2) : flat.flat().map(() => 1)),
        weights: new Float32Array(flat.length * N),
      },
      context: null,
      actions: null,
      changeRatio: null,
    },
    lengths: Int32Array.from(lengths),
    steps: states[0].length - 1,
    tokens: N,
  } as unknown as TrainingSet;
}

describe('changeWeightFor', () => {
  const balanced = { ...smallConfig, changeWeight: 0 };

  it('is the square root of the still-to-changed ratio over valid transitions and unmasked tokens', () => {
    // one episode slot of 3 states (2 transitions), 4 tokens: token 0 changes once; 7 still
    const set = labelSet(
      [
        [
          [0, 0, 0, 0],
          [1, 0, 0, 0],
          [1, 0, 0, 0],
        ],
      ],
      [2],
    );
    expect(changeWeightFor(set, balanced)).toBeCloseTo(Math.sqrt(7), 10);
    // the same episode cut after one transition (the rest is padding): 1 changed, 3 still
    expect(
      changeWeightFor(
        labelSet(
          [
            [
              [0, 0, 0, 0],
              [1, 0, 0, 0],
              [2, 2, 2, 2],
            ],
          ],
          [1],
        ),
        balanced,
      ),
    ).toBeCloseTo(Math.sqrt(3), 10);
    // a token masked out in the later state counts neither way: 1 changed, 2 still
    const masked = labelSet(
      [
        [
          [0, 0, 0, 5],
          [1, 0, 0, 6],
          [1, 0, 0, 0],
        ],
      ],
      [1],
      [
        [
          [1, 1, 1, 1],
          [1, 1, 1, 0],
          [1, 1, 1, 1],
        ],
      ],
    );
    expect(changeWeightFor(masked, balanced)).toBeCloseTo(Math.sqrt(2), 10);
  });

  it('is 1 without changes, at most MAX_CHANGE_WEIGHT, and a given weight as it is', () => {
    expect(
      changeWeightFor(
        labelSet(
          [
            [
              [3, 3],
              [3, 3],
            ],
          ],
          [1],
        ),
        balanced,
      ),
    ).toBe(1);
    const rare = Array.from({ length: 1000 }, (_, n) => n); // one change among 999 still tokens
    const set = labelSet([[rare, rare.map((v, n) => (n === 0 ? v + 1 : v))]], [1]);
    expect(changeWeightFor(set, balanced)).toBe(MAX_CHANGE_WEIGHT);
    expect(changeWeightFor(set, { ...smallConfig, changeWeight: 7 })).toBe(7);
  });

  it('gives a moving agent on a grid far more weight than a program whose registers change often', () => {
    const weight = (scenario: Scenario) => {
      const { nets, set } = smallSetup(scenario, 256, 0, balanced);
      const w = changeWeightFor(set, balanced);
      disposeTrainingSet(set);
      disposeNetworks(nets);
      return w;
    };
    const grid = weight(spriteWorld),
      program = weight(codeTrace);
    expect(grid).toBeGreaterThan(10);
    expect(program).toBeLessThan(5);
  });
});

describe('the anchor', () => {
  it('adds its readout loss of s_t to the total and trains the online encoder through it', () => {
    const lossAndEncoderGrads = (config: JepaConfig) => {
      const { nets, set } = smallSetup(spriteWorld, 64, 3, config);
      const n = set.startEpisode.length,
        B = 8,
        k = rolloutStepsFor(set, n, config);
      const examples = Int32Array.from({ length: B }, (_, i) => Math.floor((i * n) / B));
      const params = trainableParams(nets);
      const out = tf.tidy(() => {
        const batch = stepBatchOf(tensorsOf(windowArrays(set, examples, k)), B, k);
        const { value, grads } = tf.variableGrads(
          () => jepaLoss(tfjsOps, nets, batch, config).total as tf.Scalar,
          params,
        );
        const online = nets.online.params().map((p) => Array.from(grads[p.name].dataSync()));
        const anchor = (nets.anchor?.params() ?? []).map((p) => grads[p.name]?.dataSync()[0] ?? 0);
        return { loss: value.dataSync()[0], online, anchorParams: anchor.length };
      });
      disposeTrainingSet(set);
      disposeNetworks(nets);
      return out;
    };
    const without = lossAndEncoderGrads({ ...smallConfig, anchorWeight: 0 });
    const withAnchor = lossAndEncoderGrads({ ...smallConfig, anchorWeight: 1 });
    expect(without.anchorParams).toBe(0);
    expect(withAnchor.anchorParams).toBeGreaterThan(0);
    // the same networks (the anchor draws from its own stream) plus a cross-entropy over 7 tile values: ~log 7
    expect(withAnchor.loss - without.loss).toBeGreaterThan(0.5);
    const gap = Math.max(...withAnchor.online.flatMap((g, i) => g.map((v, j) => Math.abs(v - without.online[i][j]))));
    expect(gap).toBeGreaterThan(1e-4);
  });
});
