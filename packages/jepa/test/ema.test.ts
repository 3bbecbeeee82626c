// The target encoder: an EMA of the online encoder that never receives a gradient (src/ema.ts invariants), and
// neural's stopGradient it relies on.
import { beforeAll, describe, expect, it } from 'vitest';
import codeTrace from '@worldbench/code-trace';
import { createRng, quietRun } from '@worldbench/core';
import { initBackend, stopGradient, tf, tfjsOps } from '@worldbench/neural';
import { disposeTrainingSet, windowBatch } from '../src/batch';
import { momentumAt, updateTargetEncoder } from '../src/ema';
import { jepaLoss } from '../src/losses';
import { trainableParams, trainJepa } from '../src/train';
import { disposeNetworks, maxAbs, smallConfig, smallSetup, snapshot } from './helpers';

beforeAll(async () => {
  await initBackend();
});

describe('stopGradient', () => {
  it('is the identity forward and passes no gradient back', () => {
    const x = tf.variable(tf.tensor1d([1, -2, 3]));
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.add(tf.mul(stopGradient(x), x), stopGradient(tf.square(x)))),
      [x],
    );
    // d/dx [sg(x) * x + sg(x^2)] = sg(x) = x: only the unstopped factor carries gradient
    expect(value.dataSync()[0]).toBeCloseTo(1 + 4 + 9 + 1 + 4 + 9, 5);
    expect(Array.from(grads[x.name].dataSync())).toEqual([1, -2, 3]);
    tf.dispose([x, value, grads[x.name]]);
  });
});

describe('updateTargetEncoder', () => {
  it('moves each target weight to m * target + (1 - m) * online, and m = 1 leaves it untouched', () => {
    const rng = createRng('ema');
    const online = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor2d([[4, 5]]))];
    const target = [tf.variable(tf.tensor1d([0, 0, 0]), false), tf.variable(tf.tensor2d([[rng.normal(), 1]]), false)];
    const before = snapshot(target);
    updateTargetEncoder(target, online, 0.9);
    expect(maxAbs(target[0].dataSync(), [0.1, 0.2, 0.3])).toBeLessThan(1e-7);
    expect(maxAbs(target[1].dataSync(), [0.9 * before[1][0] + 0.4, 0.9 + 0.5])).toBeLessThan(1e-6);
    const after = snapshot(target);
    updateTargetEncoder(target, online, 1);
    expect(snapshot(target)).toEqual(after);
    expect(() => updateTargetEncoder(target, online.slice(0, 1), 0.5)).toThrow(/variables/);
    tf.dispose([...online, ...target]);
  });

  it('momentumAt runs a cosine from start to end', () => {
    expect(momentumAt(0, 101, 0.99, 1)).toBeCloseTo(0.99, 12);
    expect(momentumAt(50, 101, 0.99, 1)).toBeCloseTo(0.995, 12);
    expect(momentumAt(100, 101, 0.99, 1)).toBeCloseTo(1, 12);
  });
});

describe('target encoder in training', () => {
  it('is not trainable, receives no gradient even when made trainable, and changes only by the EMA rule', async () => {
    const { nets, set } = smallSetup(codeTrace, 64, 3);
    const target = nets.target.params();
    const online = nets.online.params();
    // invariant 1: the optimiser's list holds no target variable, and the target's variables are not trainable
    const params = trainableParams(nets);
    expect(target.every((v) => !v.trainable)).toBe(true);
    expect(params.some((p) => target.includes(p))).toBe(false);
    // it starts as a copy of the online encoder
    snapshot(target).forEach((t, i) => expect(maxAbs(t, online[i].dataSync())).toBe(0));

    // invariant 2: even as trainable variables, the loss gives them zero gradient (stop-gradient)
    const examples = Int32Array.from({ length: 16 }, (_, i) => i * 3);
    for (const v of target) v.trainable = true;
    const targetGrads = tf.tidy(() => {
      const batch = windowBatch(set, examples, smallConfig.rolloutSteps);
      const { grads } = tf.variableGrads(
        () => jepaLoss<tf.Tensor>(tfjsOps, nets, batch, smallConfig).total as tf.Scalar,
        [...target, ...online],
      );
      return {
        targetMax: Math.max(...target.map((v) => tf.max(tf.abs(grads[v.name])).dataSync()[0])),
        onlineMax: Math.max(...online.map((v) => tf.max(tf.abs(grads[v.name])).dataSync()[0])),
      };
    });
    for (const v of target) v.trainable = false;
    expect(targetGrads.targetMax).toBe(0);
    expect(targetGrads.onlineMax).toBeGreaterThan(1e-4); // the same loss does train the online encoder

    // invariant 3: over real training steps (trainJepa on neural's trainer, one step a call, the momentum held at
    // m), target_{s+1} = m * target_s + (1 - m) * online_{s+1}, exactly the EMA rule of the post-step hook
    const m = 0.9;
    const oneStep = {
      ...smallConfig,
      minSteps: 1,
      maxSteps: 1,
      probeFraction: 0,
      lr: 1e-2,
      emaMomentum: m,
      emaMomentumEnd: m,
    };
    for (let s = 0; s < 3; s++) {
      const before = snapshot(target);
      await trainJepa(nets, set, oneStep, createRng(`ema/${s}`), quietRun(0));
      const after = snapshot(target);
      after.forEach((t, i) => {
        const o = online[i].dataSync();
        const expected = Float32Array.from(t, (_, j) => m * before[i][j] + (1 - m) * o[j]);
        expect(maxAbs(t, expected)).toBeLessThan(1e-6);
      });
      expect(after.some((t, i) => maxAbs(t, before[i]) > 1e-5)).toBe(true); // and it does move
    }
    disposeTrainingSet(set);
    disposeNetworks(nets);
  });
});
