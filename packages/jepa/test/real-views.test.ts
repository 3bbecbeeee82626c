// Real views' two structural choices for actions outside the training range (hidden-laws: the expert pushes only
// along +x, the test episodes in every direction): the predictor's linear action map, and the change readout,
// odd in the latent change.
import { beforeAll, describe, expect, it } from 'vitest';
import hiddenLaws from '@worldbench/hidden-laws';
import { createRng, quietRun } from '@worldbench/core';
import { initBackend, tf, tfjsOps as ops } from '@worldbench/neural';
import { disposeTrainingSet, inputOf, statesOf, windowBatch } from '../src/batch';
import { trainJepa } from '../src/train';
import { maxAbs, smallConfig, smallSetup } from './helpers';

beforeAll(async () => {
  await initBackend();
});

describe('real actions and the change readout (hidden-laws, dev seed 1, budget 256)', () => {
  it('an action component never varied in training has no effect, the step is affine in the action, and the change ' +
    'readout is odd', async () => {
    const { nets, set } = smallSetup(hiddenLaws, 256, 1, smallConfig);
    await trainJepa(nets, set, { ...smallConfig, minSteps: 6, maxSteps: 6 }, createRng('1/train'), quietRun(1));
    const map = nets.predictor.actionLinear;
    expect(map).not.toBeNull();
    expect(nets.predictor.actionTable).toBeNull();
    const [w, b] = [map!.w.arraySync() as number[][], map!.b.dataSync()];
    // training moved the map of a_x (the expert pushes (1, 0) on a quarter of the steps) and its bias...
    expect(Math.max(...w[0].map(Math.abs))).toBeGreaterThan(1e-4);
    expect(Math.max(...Array.from(b, Math.abs))).toBeGreaterThan(1e-4);
    // ...but a_y is 0 in every training action: its map is still exactly the zero it started at
    expect(Math.max(...w[1].map(Math.abs))).toBe(0);

    const measured = tf.tidy(() => {
      const batch = windowBatch(
        set,
        Int32Array.from({ length: 8 }, (_, i) => i),
        1,
      );
      const s0 = statesOf(batch.states, 0, 1, 2);
      const z = nets.online.apply(ops, inputOf(s0)) as tf.Tensor3D; //                    [8, N, D]
      const step = (a: number[]) =>
        nets.predictor.apply(
          ops,
          z,
          tf.tensor2d(Array.from({ length: 8 }, () => a).flat(), [8, 2]),
          null,
          s0.tokenMask,
          null,
        );
      const [zero, push, pull, both] = [step([0, 0]), step([0.7, 0]), step([-0.7, 0]), step([0.7, -0.9])];
      // the readout: no latent change reads as no change; the reversed latent change as the reversed change
      const d = tf.sub(push, z);
      return {
        affine: maxAbs(tf.sub(push, zero).dataSync(), tf.sub(zero, pull).dataSync()),
        ay: maxAbs(both.dataSync(), push.dataSync()),
        still: Math.max(...Array.from(nets.probe.apply(ops, z, z).dataSync(), Math.abs)),
        odd: maxAbs(
          nets.probe.apply(ops, tf.add(z, d), z).dataSync(),
          tf.neg(nets.probe.apply(ops, tf.sub(z, d), z)).dataSync(),
        ),
        moved: Math.max(...Array.from(nets.probe.apply(ops, push, z).dataSync(), Math.abs)),
      };
    });
    disposeTrainingSet(set);
    expect(measured.affine).toBeLessThan(1e-5); // P(z, a) - P(z, 0) = P(z, 0) - P(z, -a)
    expect(measured.ay).toBe(0); //                a_y changes nothing
    expect(measured.still).toBe(0);
    expect(measured.odd).toBeLessThan(1e-5);
    expect(measured.moved).toBeGreaterThan(1e-3); // the readout is not trivially zero
  }, 120_000);
});
