// The pieces, checked against plain-loop references: patch layout and halos, neighbourhood attention, the
// straight-through quantiser, the mutual information and the latent-action map.
import { createRng } from '@worldbench/core';
import { initBackend, stopGradient, tf, tfjsOps as ops } from '@worldbench/neural';
import { beforeAll, describe, expect, it } from 'vitest';
import { NeighbourhoodAttention, neighbourhood } from '../src/attention';
import { spatialConfig, spatialDefaults } from '../src/config';
import {
  actionClasses,
  codebookUsage,
  fitLatentMap,
  latentCodeOf,
  normalisedMutualInformation,
  pickLabelled,
} from '../src/latent-actions';
import { autoPatchSize, fromCore, haloOf, haloPatches, patchGeometry, toCore } from '../src/patches';
import { membersFor, selfForcingFor } from '../src/train';
import { DeadCodeRestarts, VectorQuantizer } from '../src/vq';

beforeAll(async () => {
  await initBackend();
});

describe('patches', () => {
  it('picks the divisor closest to 4 and round-trips core layout', () => {
    expect([autoPatchSize(32, 32), autoPatchSize(30, 30), autoPatchSize(24, 24)]).toEqual([4, 3, 4]);
    const g = patchGeometry([6, 9], 3, 1, false);
    const image = Float32Array.from({ length: 54 }, (_, i) => i);
    const core = toCore(g, image);
    expect(Array.from(core.subarray(0, 9))).toEqual([0, 1, 2, 9, 10, 11, 18, 19, 20]); // patch (0, 0)
    expect(Array.from(core.subarray(9, 18))).toEqual([3, 4, 5, 12, 13, 14, 21, 22, 23]); // patch (0, 1)
    expect(Array.from(fromCore(g, core))).toEqual(Array.from(image));
  });

  it('reads halos with zero padding or wrapping, in JS and in tf alike', () => {
    const image = Float32Array.from({ length: 16 }, (_, i) => i + 1); // 4 x 4, values 1..16
    for (const wrap of [false, true]) {
      const g = patchGeometry([4, 4], 2, 1, wrap);
      const core = toCore(g, image);
      const halo = haloOf(g, core); // [P * 16]
      // patch 0 (top left), its 4 x 4 halo window covers rows -1..2, cols -1..2
      const expected: number[] = [];
      for (let r = -1; r <= 2; r++)
        for (let c = -1; c <= 2; c++) {
          const inside = r >= 0 && c >= 0;
          expected.push(inside ? image[r * 4 + c] : wrap ? image[((r + 4) % 4) * 4 + ((c + 4) % 4)] : 0);
        }
      expect(Array.from(halo.subarray(0, 16))).toEqual(expected);
      const viaTf = tf.tidy(() =>
        haloPatches(ops, g, tf.tensor2d(core, [1, 16]), tf.tensor1d(g.haloIndex, 'int32')).dataSync(),
      );
      expect(Array.from(viaTf)).toEqual(Array.from(halo));
    }
  });
});

describe('neighbourhood attention', () => {
  it('matches a plain-loop reference on token rows [n*P, D], masking neighbours outside the frame', () => {
    const rng = createRng('na');
    const rows = 3,
      cols = 4,
      P = rows * cols,
      D = 8,
      heads = 2,
      N = 2;
    const hood = neighbourhood(rows, cols, 1, false);
    const layer = new NeighbourhoodAttention(rng, D, heads, hood, false);
    const x = Float32Array.from({ length: N * P * D }, () => rng.normal());
    const got = tf.tidy(() => layer.apply(ops, tf.tensor2d(x, [N * P, D])).dataSync());
    const [q, k, v] = [layer.query, layer.key, layer.value].map((d) =>
      tf.tidy(() => d.apply(ops, tf.tensor2d(x, [N * P, D])).dataSync()),
    );
    const dh = D / heads;
    const mixed = new Float32Array(N * P * D);
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++)
        for (let h = 0; h < heads; h++) {
          const pr = Math.floor(p / cols),
            pc = p % cols;
          const keys: number[] = [];
          for (let j = 0; j < P; j++)
            if (Math.abs(Math.floor(j / cols) - pr) <= 1 && Math.abs((j % cols) - pc) <= 1) keys.push(j);
          const scores = keys.map((j) => {
            let s = 0;
            for (let e = 0; e < dh; e++) s += q[(n * P + p) * D + h * dh + e] * k[(n * P + j) * D + h * dh + e];
            return s / Math.sqrt(dh);
          });
          const top = Math.max(...scores);
          const w = scores.map((s) => Math.exp(s - top));
          const total = w.reduce((a, b) => a + b, 0);
          for (let e = 0; e < dh; e++)
            mixed[(n * P + p) * D + h * dh + e] = keys.reduce(
              (s, j, i) => s + (w[i] / total) * v[(n * P + j) * D + h * dh + e],
              0,
            );
        }
    const expected = tf.tidy(() => layer.output.apply(ops, tf.tensor2d(mixed, [N * P, D])).dataSync());
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i], 4);
    layer.dispose();
  });
});

describe('vector quantiser', () => {
  it('stopGradient passes values and blocks gradients', () => {
    const g = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.add(tf.mul(stopGradient(x), x), x)))(tf.tensor1d([1, 2, 3]))
        .dataSync(),
    );
    expect(Array.from(g)).toEqual([2, 3, 4]); // d/dx (sg(x) x + x) = sg(x) + 1
  });

  it('picks the nearest code by cosine and passes the gradient straight through', () => {
    const vq = new VectorQuantizer(createRng('vq'), 4, 3);
    const z = tf.tensor2d([0.3, -1, 2, 5, 0.1, -0.2], [2, 3]);
    const codes = vq.nearest(z);
    const cb = vq.codebook.dataSync();
    const cos = (a: number[], i: number) => {
      const c = [cb[i * 3], cb[i * 3 + 1], cb[i * 3 + 2]];
      return (a[0] * c[0] + a[1] * c[1] + a[2] * c[2]) / Math.hypot(...c) / Math.hypot(...a);
    };
    const rowsOfZ = [
      [0.3, -1, 2],
      [5, 0.1, -0.2],
    ];
    rowsOfZ.forEach((row, r) => {
      const best = [0, 1, 2, 3].sort((a, b) => cos(row, b) - cos(row, a))[0];
      expect(codes[r]).toBe(best);
    });
    // the straight-through output's gradient reaches the (normalised) encoder output unchanged
    const gradST = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(vq.quantise(ops, x).st, tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]))))(z)
        .dataSync(),
    );
    const gradDirect = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-8))),
              tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]),
            ),
          ),
        )(z)
        .dataSync(),
    );
    for (let i = 0; i < 6; i++) expect(gradST[i]).toBeCloseTo(gradDirect[i], 5);
    vq.dispose();
    z.dispose();
  });

  it('restarts the codes no row used onto the worst-reconstructed rows, only in the first 3/4 of the steps', () => {
    const vq = new VectorQuantizer(createRng('vq-restart'), 4, 2);
    const restarts = new DeadCodeRestarts(vq, createRng('restart'), 100);
    const codebook = () => Array.from(vq.codebook.dataSync());
    // 3 rows, all on codes 0 and 1; row 2 reconstructs worst, then row 0
    const rows = tf.tensor2d([1, 0, 0, 1, -1, 0], [3, 2]);
    restarts.record([0, 1, 0], [0.2, 0.1, 0.5], rows.dataSync(), 1);
    const before = codebook();
    restarts.restartDead(25);
    const after = codebook();
    expect(restarts.restarts).toBe(2); // codes 2 and 3
    expect(after.slice(0, 4)).toEqual(before.slice(0, 4)); // used codes stay
    for (const code of [2, 3]) {
      // the one candidate is row 2, (-1, 0), plus 0.01-scale noise
      expect(after[code * 2]).toBeCloseTo(-1, 1);
      expect(after[code * 2 + 1]).toBeCloseTo(0, 1);
    }
    // usage starts a new window: with nothing recorded every code is dead, but past 3/4 of the steps none restarts
    restarts.restartDead(80);
    expect(restarts.restarts).toBe(2);
    expect(codebook()).toEqual(after);
    vq.dispose();
    rows.dispose();
  });
});

describe('latent actions: mutual information and the map to true actions', () => {
  it('NMI is 1 for a relabelling, 0 for independent codes, and in between for a merge', () => {
    const a = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(normalisedMutualInformation(Int32Array.from([5, 5, 7, 7, 1, 1, 0, 0]), a)).toBeCloseTo(1, 10);
    expect(normalisedMutualInformation(Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]), a)).toBeCloseTo(0, 10);
    // merging 4 equal classes into 2 codes: I = ln 2, H(A) = ln 4, H(Z) = ln 2 -> 2 ln2 / (3 ln 2) = 2/3
    expect(normalisedMutualInformation(Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]), a)).toBeCloseTo(2 / 3, 10);
  });

  it('classes real actions by their dominant signed component; counts codebook usage', () => {
    const spec = { shape: [2], kind: 'real' as const };
    expect(Array.from(actionClasses(spec, Float32Array.from([0, 0, 0.5, 0.1, -0.2, 0.9, 0, -1]), 4))).toEqual([
      0, 1, 3, 4,
    ]);
    const usage = codebookUsage(Int32Array.from([0, 0, 1, 3]), 4);
    expect(usage.counts).toEqual([2, 1, 0, 1]);
    expect(usage.used).toBe(3);
    expect(usage.perplexity).toBeCloseTo(Math.exp(-(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25))), 10);
  });

  it('maps int actions to their majority code from a few labelled transitions, per class', () => {
    const spec = { shape: [1], kind: 'int' as const, vocab: 3 };
    const actions = Float32Array.from([0, 0, 0, 0, 1, 0, 1, 2, 2, 0]);
    const codes = Int32Array.from([4, 4, 4, 1, 6, 4, 6, 2, 2, 4]);
    const labelled = pickLabelled(spec, actionClasses(spec, actions, 10), 6); // at most 2 per class
    expect(Array.from(labelled)).toEqual([0, 1, 4, 6, 7, 8]);
    const map = fitLatentMap(spec, actions, codes, labelled);
    expect([0, 1, 2].map((a) => latentCodeOf(map, spec, Float32Array.of(a)))).toEqual([4, 6, 2]);
    const real = { shape: [2], kind: 'real' as const };
    const realMap = fitLatentMap(
      real,
      Float32Array.from([0, 0, 1, 0, 0, -1]),
      Int32Array.from([3, 5, 7]),
      Int32Array.from([0, 1, 2]),
    );
    expect(latentCodeOf(realMap, real, Float32Array.of(0.8, 0.1))).toBe(5); // nearest labelled action
  });
});

describe('selfForcingFor', () => {
  it('keeps rolloutSteps and teacherShare below largeFrom transitions, and takes the large ones from it', () => {
    const c = spatialDefaults;
    expect(selfForcingFor(c, c.largeFrom - 1)).toEqual({ rolloutSteps: c.rolloutSteps, teacherShare: c.teacherShare });
    expect(selfForcingFor(c, c.largeFrom)).toEqual({
      rolloutSteps: c.largeRolloutSteps,
      teacherShare: c.largeTeacherShare,
    });
    expect(selfForcingFor({ ...c, largeFrom: 10, largeRolloutSteps: 0 }, 64).rolloutSteps).toBe(0);
    // the teacher-forced twin of selfForcingGain stays teacher-forced on a large dataset
    expect(selfForcingFor({ ...c, rolloutSteps: 0 }, c.largeFrom).rolloutSteps).toBe(0);
  });
});

describe('membersFor', () => {
  it('trains one network below largeFrom transitions and largeEnsemble from it, unless ensemble is set', () => {
    const c = spatialDefaults;
    expect([membersFor(c, c.largeFrom - 1), membersFor(c, c.largeFrom)]).toEqual([1, c.largeEnsemble]);
    expect([membersFor({ ...c, ensemble: 2 }, 64), membersFor({ ...c, ensemble: 2 }, c.largeFrom)]).toEqual([2, 2]);
    expect(membersFor({ ...c, largeEnsemble: 1 }, c.largeFrom)).toBe(1);
  });
});

describe('config', () => {
  it('fills defaults, and rejects unknown keys (listing the valid ones), wrong types and out-of-range values', () => {
    expect(spatialConfig.resolve({ rolloutSteps: 0 })).toEqual({ ...spatialDefaults, rolloutSteps: 0 });
    expect(() => spatialConfig.resolve({ rollout: 0 })).toThrow(
      /no config key "rollout"; valid: patchSize, .*rolloutSteps/,
    );
    expect(() => spatialConfig.resolve({ actionFree: 'yes' })).toThrow(
      'spatial config: actionFree is true or false, got "yes"',
    );
    expect(() => spatialConfig.resolve({ haloPadding: 'mirror' })).toThrow(
      /haloPadding is 'zero' or 'wrap' or 'auto', got "mirror"/,
    );
    expect(() => spatialConfig.resolve({ teacherShare: 2, patience: 0 })).toThrow(
      /teacherShare is a number in \[0, 1\], got 2; patience is an integer >= 1, got 0/,
    );
    // rules between fields, once every field is valid
    expect(() => spatialConfig.resolve({ width: 62 })).toThrow(/width 62 is not divisible by heads 4/);
  });
});
