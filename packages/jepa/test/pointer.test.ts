// The pointer into the context (pointer.ts): chosen from the data (code-trace: the pc,
// wherever it sits in the state), none without a categorical one-element state or a context; and the
// predictor's step reads the program only through the row at the pointer's value.
import { beforeAll, describe, expect, it } from 'vitest';
import codeTrace from '@worldbench/code-trace';
import hiddenLaws from '@worldbench/hidden-laws';
import { createRng, jobWorld, trainingSet } from '@worldbench/core';
import { initBackend, tf, tfjsOps as ops } from '@worldbench/neural';
import { contextLayout, stateLayout } from '../src/layout';
import { choosePointer } from '../src/pointer';
import { disposeTrainingSet } from '../src/batch';
import { disposeNetworks, maxAbs, smallConfig, smallSetup } from './helpers';

beforeAll(async () => {
  await initBackend();
});

describe('choosePointer', () => {
  it("picks code-trace's pc on dev seeds 0-9 at budgets 64, 256 and 1024, by a clear margin over the registers", () => {
    const state = stateLayout(codeTrace.spec, 'state');
    const context = contextLayout(codeTrace.spec);
    for (const budget of [64, 256, 1024])
      for (let seed = 0; seed < 10; seed++) {
        const data = trainingSet(codeTrace, jobWorld(codeTrace, seed), 'behavior', budget, seed).observed;
        const choice = choosePointer(state, context, data, 'state');
        const bits = (choice as { bits: number[] }).bits;
        // seed 9's first two programs halt at once: at budget 64 no state ever changes, so no row tells anything
        if (budget === 64 && seed === 9) {
          expect(choice?.token).toBeNull();
          expect(Math.max(...bits)).toBeLessThan(1e-9);
          continue;
        }
        expect(choice?.token, `budget ${budget} seed ${seed}`).toBe(0);
        // the instruction at pc tells > 1 bit about which elements change; a register's row (any row of the
        // program: a fingerprint of the episode) much less (measured: pc 1.0-1.7 bits, registers <= 1.0 at 64, <= 0.3
        // at 1024)
        expect(bits[0], `budget ${budget} seed ${seed}`).toBeGreaterThan(1.3 * Math.max(...bits.slice(1)));
      }
  });

  it('follows the pc when it is not the first token (the layout reads the state in another order)', () => {
    // token 3 holds element 0, the pc
    const state = { ...stateLayout(codeTrace.spec, 'state'), elementOf: [3, 1, 4, 0, 2] };
    const data = trainingSet(codeTrace, jobWorld(codeTrace, 2), 'behavior', 256, 2).observed;
    expect(choosePointer(state, contextLayout(codeTrace.spec), data, 'state')?.token).toBe(3);
  });

  it('has no pointer without a context, or for a real state', () => {
    const data = trainingSet(hiddenLaws, jobWorld(hiddenLaws, 1), 'behavior', 64, 1).observed;
    expect(
      choosePointer(stateLayout(hiddenLaws.spec, 'state'), contextLayout(hiddenLaws.spec), data, 'state'),
    ).toBeNull();
    const ct = trainingSet(codeTrace, jobWorld(codeTrace, 1), 'behavior', 64, 1).observed;
    expect(choosePointer(stateLayout(codeTrace.spec, 'state'), { parts: [], tokens: 0 }, ct, 'state')).toBeNull();
  });
});

describe("the predictor's step reads the program through the pointer's row only", () => {
  it("redrawing every other row changes nothing; redrawing the pointer's row does", () => {
    const { geometry, nets, set } = smallSetup(codeTrace, 256, 5, smallConfig);
    expect(nets.predictor.gather?.token).toBe(0); // the pc reads the program (else nothing would)
    try {
      tf.tidy(() => {
        const rng = createRng('other-rows');
        const B = 8,
          N = geometry.state.tokens,
          R = geometry.context.tokens,
          D = smallConfig.width;
        const ids = (set.context as tf.Tensor3D).slice([0, 0, 0], [B, R, -1]);
        const at = 2; // every token's value reads row 2: a hard one-hot, so no other row carries weight
        const values = tf.oneHot(tf.fill([B, N], at, 'int32'), R).toFloat() as tf.Tensor3D;
        // a random program in the chosen rows (ids stay within the table: rows of the episode's own program, one
        // that differs from the row redrawn)
        const raw = ids.arraySync() as number[][][];
        const redraw = (keep: (r: number) => boolean) =>
          tf.tensor3d(
            raw
              .map((rows) =>
                rows.map((row, r) =>
                  keep(r) ? row : (rows.find((other) => other.join() !== row.join()) ?? rows[rng.int(R)]),
                ),
              )
              .flat(2),
            ids.shape,
            'int32',
          );
        const z = tf.tensor3d(
          Float32Array.from({ length: B * N * D }, () => rng.normal()),
          [B, N, D],
        );
        // the output projection starts at zero: made random so the blocks' inputs show in the step
        nets.predictor.out.w.assign(
          tf.tensor(
            Float32Array.from({ length: nets.predictor.out.w.size }, () => 0.3 * rng.normal()),
            nets.predictor.out.w.shape,
          ),
        );
        const mask = tf.ones([B, N]) as tf.Tensor2D;
        const step = (c: tf.Tensor3D) =>
          nets.predictor.apply(ops, z, null, nets.predictor.embedContext(ops, c), mask, values).dataSync();
        expect(maxAbs(step(ids), z.dataSync())).toBeGreaterThan(0.1);
        expect(maxAbs(step(ids), step(redraw((r) => r === at)))).toBeLessThan(1e-6);
        expect(maxAbs(step(ids), step(redraw((r) => r !== at)))).toBeGreaterThan(1e-3);
      });
    } finally {
      disposeNetworks(nets);
      disposeTrainingSet(set);
    }
  });
});
