// Forecasting through ONNX Runtime: the exported rollout step gives the tfjs rollout's forecasts within 1e-4
// (random weights, every kind of action input, both paddings, C = 1, 2 and 3, with and without deadzone),
// fitted models (true actions, action-free) forecast through ORT as the forecastBackend=tfjs switch does,
// FitReport.backend says which backend forecasts, and sessions are released (on release, refit, dispose).
import {
  createRng,
  evaluationSet,
  evaluationWindows,
  jobWorld,
  quietRun,
  trainingSet,
  type Rng,
} from '@worldbench/core';
import { backendName, initBackend, tf } from '@worldbench/neural';
import { ORT_ENGINE, ORT_VERSION, requestedEngine } from '@worldbench/onnx';
import spriteWorld from '@worldbench/sprite-world';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import spatial, { spatialConfig, spatialDefaults, type SpatialConfig } from '../src/index';
import { Dynamics, type ActionKind } from '../src/model';
import { OnnxRollout } from '../src/onnx';
import { patchGeometry } from '../src/patches';
import { rollout, tfjsEngine, tfjsTokenEngine } from '../src/rollout';
import { PatchTokenizer } from '../src/tokenizer';
import { dynamicsShape } from '../src/world-model';

const TOLERANCE = 1e-4;
/** The small dynamics of the exported-step checks (random weights): width 32, 2 blocks of 2 heads, radius 1. */
const SMALL: SpatialConfig = { ...spatialDefaults, width: 32, depth: 2, heads: 2, mlpRatio: 2, attentionRadius: 1 };

beforeAll(async () => {
  await initBackend();
});

/** Moves every parameter off its initial value (the zero head, unit gains) by seeded N(0, scale^2) noise. */
function perturb(rng: Rng, dynamics: Dynamics, scale: number): void {
  for (const p of dynamics.params()) {
    const noise = Float32Array.from({ length: p.size }, () => scale * rng.normal());
    tf.tidy(() => p.assign(tf.add(p, tf.tensor(noise, p.shape))));
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('the exported rollout step', () => {
  it(
    'rolls out what the tfjs step rolls out (max abs < 1e-4), for every action input; release frees the ' + 'sessions',
    async () => {
      // the wrapped 2-row grid repeats neighbours (rows r - 1 and r + 1 are the same row)
      const cases: Array<{ action: ActionKind; C: number; frame: number[]; wrap: boolean; deadzone: number }> = [
        { action: { kind: 'none' }, C: 3, frame: [12, 16], wrap: false, deadzone: 0.02 },
        { action: { kind: 'real', size: 2 }, C: 3, frame: [8, 16], wrap: true, deadzone: 0 },
        { action: { kind: 'int', size: 2, vocab: 5 }, C: 1, frame: [12, 16, 2], wrap: false, deadzone: 0.02 },
        { action: { kind: 'latent', codes: 8 }, C: 2, frame: [12, 16], wrap: true, deadzone: 0 },
      ];
      const [B, K, H] = [5, 4, 6];
      for (const [i, c] of cases.entries()) {
        const rng = createRng(`onnx-step/${i}`);
        const geometry = patchGeometry(c.frame, 4, 1, c.wrap);
        const dynamics = new Dynamics(rng.fork('init'), dynamicsShape(SMALL, geometry, c.C, c.action));
        perturb(rng.fork('perturb'), dynamics, 0.02);
        const history = Float32Array.from({ length: B * K * geometry.pixels }, () => rng.next());
        const A = c.action.kind === 'none' ? 0 : c.action.kind === 'latent' ? 1 : c.action.size;
        const ids = (n: number) =>
          Int32Array.from({ length: n }, (_, j) =>
            c.action.kind === 'int' ? (j % A) * c.action.vocab + rng.int(c.action.vocab) : rng.int(8),
          );
        const actions =
          c.action.kind === 'none'
            ? null
            : c.action.kind === 'real'
              ? Float32Array.from({ length: B * H * A }, () => rng.normal())
              : ids(B * H * A);
        const onnx = await OnnxRollout.open(dynamics, c.deadzone);
        const engine = await onnx.engine(A);
        // chunks of 3: two chunks
        const viaTfjs = await rollout(
          tfjsEngine(dynamics, c.deadzone),
          dynamics.shape,
          history,
          B,
          K,
          actions,
          A,
          H,
          3,
        );
        const viaOrt = await rollout(engine, dynamics.shape, history, B, K, actions, A, H, 3);
        expect(maxDiff(viaOrt, viaTfjs), `case ${i} (${c.action.kind})`).toBeLessThan(TOLERANCE);
        // the forecasts are not trivially equal: most values are inside (0, 1), not clipped
        expect(viaTfjs.filter((x) => x > 0 && x < 1).length).toBeGreaterThan(viaTfjs.length / 2);
        if (actions) {
          // a model with actions forecast without them runs unconditioned on both sides (a second ORT session)
          const free = await rollout(await onnx.engine(0), dynamics.shape, history, B, K, null, 0, 2);
          expect(
            maxDiff(free, await rollout(tfjsEngine(dynamics, c.deadzone), dynamics.shape, history, B, K, null, 0, 2)),
          ).toBeLessThan(TOLERANCE);
        }
        await onnx.release();
        await expect(rollout(engine, dynamics.shape, history, B, K, actions, A, 1)).rejects.toThrow();
        dynamics.dispose();
      }
    },
  );
});

describe('the exported token step (tokenizer = vq)', () => {
  it(
    'rolls out what the tfjs token step rolls out (max abs < 1e-4): argmax ids decoded by a gather, ' + 'fed back',
    async () => {
      const cases: Array<{ action: ActionKind; C: number; wrap: boolean }> = [
        { action: { kind: 'none' }, C: 3, wrap: false },
        { action: { kind: 'real', size: 2 }, C: 2, wrap: true },
        { action: { kind: 'int', size: 2, vocab: 5 }, C: 1, wrap: false },
      ];
      const [B, K, H, codes] = [5, 4, 6, 16];
      for (const [i, c] of cases.entries()) {
        const rng = createRng(`onnx-token-step/${i}`);
        const geometry = patchGeometry([12, 16], 4, 1, c.wrap);
        const dynamics = new Dynamics(rng.fork('init'), dynamicsShape(SMALL, geometry, c.C, c.action, codes));
        perturb(rng.fork('perturb'), dynamics, 0.3);
        dynamics.copy!.assign(tf.tensor1d([0.5])); // a copy bonus that does not drown the head's logits
        const tokenizer = new PatchTokenizer(rng.fork('tokenizer'), {
          pp: geometry.pp,
          width: 16,
          codes,
          dim: 8,
          commitment: 0.25,
        });
        const table = tokenizer.decodedTable();
        const history = Float32Array.from({ length: B * K * geometry.pixels }, () => rng.next());
        const A = c.action.kind === 'real' || c.action.kind === 'int' ? c.action.size : 0;
        const actions =
          c.action.kind === 'none'
            ? null
            : c.action.kind === 'real'
              ? Float32Array.from({ length: B * H * A }, () => rng.normal())
              : Int32Array.from({ length: B * H * A }, (_, j) => (j % A) * 5 + rng.int(5));
        const onnx = await OnnxRollout.open(dynamics, 0, tokenizer);
        const viaTfjs = await rollout(
          tfjsTokenEngine(dynamics, tokenizer, table),
          dynamics.shape,
          history,
          B,
          K,
          actions,
          A,
          H,
          3,
        );
        const viaOrt = await rollout(await onnx.engine(A), dynamics.shape, history, B, K, actions, A, H, 3);
        expect(maxDiff(viaOrt, viaTfjs), `case ${i} (${c.action.kind})`).toBeLessThan(TOLERANCE);
        // not trivially equal: the forecasts are decoded patches (other than the history's), and they change over the
        // horizon
        expect(
          maxDiff(
            viaTfjs.subarray(0, geometry.pixels),
            history.subarray((K - 1) * geometry.pixels, K * geometry.pixels),
          ),
        ).toBeGreaterThan(0.1);
        expect(
          maxDiff(
            viaTfjs.subarray(0, geometry.pixels),
            viaTfjs.subarray((H - 1) * geometry.pixels, H * geometry.pixels),
          ),
        ).toBeGreaterThan(0.01);
        await onnx.release();
        table.dispose();
        tokenizer.dispose();
        dynamics.dispose();
      }
    },
  );
});

describe('SpatialModel forecasts through ONNX Runtime', () => {
  it('rejects an unknown forecastBackend, naming the valid ones', () => {
    expect(() => spatialConfig.resolve({ forecastBackend: 'gpu' })).toThrow(
      /forecastBackend is 'onnx' or 'tfjs', got "gpu"/,
    );
  });

  it('forecasts fitted sprite-world models (true int actions; action-free latent codes) as forecastBackend=tfjs ' +
    'does, reports the backend, releases its sessions', {
    tags: ['slow'],
  }, async () => {
    const seed = 0;
    const world = jobWorld(spriteWorld, seed);
    const train = trainingSet(spriteWorld, world, 'behavior', 128, seed).observed;
    const test = evaluationSet(spriteWorld, world, 'test', seed, { count: 8, horizon: 8 });
    const { query } = evaluationWindows(spriteWorld.spec, test, 'frame', 8);
    const fit = async (config: Partial<SpatialConfig>) => {
      const model = await spatial.create(spriteWorld.spec, 'frame', {
        ...spatialDefaults,
        minSteps: 20,
        maxSteps: 20,
        lr: 6e-3,
        latentActions: 0,
        holdout: 0,
        rolloutSteps: 0,
        ...config,
      });
      const report = await model.fit(train, quietRun(seed));
      return { model, report, forecast: (await model.forecast(query, quietRun(seed))).mean.data };
    };
    const release = vi.spyOn(OnnxRollout.prototype, 'release');
    const ort = await fit({});
    const tfjs = await fit({ forecastBackend: 'tfjs' });
    // the engine that trained (WORLDBENCH_TRAIN_ENGINE), then ONNX Runtime when it forecasts
    const trainedOn = requestedEngine() === 'onnx' ? ORT_ENGINE : backendName();
    expect(ort.report.backend).toBe(`${trainedOn}+onnxruntime ${ORT_VERSION}`);
    expect(tfjs.report.backend).toBe(trainedOn);
    expect(maxDiff(ort.forecast, tfjs.forecast)).toBeLessThan(TOLERANCE);
    // the fitted model does move pixels (a forecast that only repeated the last frame would agree trivially;
    // measured 126 pixels moved by > 0.05 at h = 8; 20 steps at the default lr move none: the deadzone drops them)
    const last = query.history.views.frame;
    const [K, pixels] = [last.shape[1], 30 * 30];
    let moved = 0;
    for (let b = 0; b < 8; b++)
      for (let p = 0; p < pixels; p++)
        if (Math.abs(tfjs.forecast[(b * 8 + 7) * pixels + p] - last.data[(b * K + K - 1) * pixels + p]) > 0.05) moved++;
    expect(moved).toBeGreaterThan(20);
    // action-free: true actions mapped to latent codes, the codes fed to the exported step (a short fit: plumbing)
    const short: Partial<SpatialConfig> = { actionFree: true, latentActions: 8, minSteps: 10, maxSteps: 10 };
    const [latentOrt, latentTfjs] = [await fit(short), await fit({ ...short, forecastBackend: 'tfjs' })];
    expect(maxDiff(latentOrt.forecast, latentTfjs.forecast)).toBeLessThan(TOLERANCE);
    // a refit releases the previous sessions, dispose the last ones; the tfjs models have none to release
    expect(release).toHaveBeenCalledTimes(0);
    await latentOrt.model.fit(train, quietRun(seed));
    expect(release).toHaveBeenCalledTimes(1);
    for (const m of [latentOrt.model, latentTfjs.model, ort.model, tfjs.model]) await m.dispose?.();
    expect(release).toHaveBeenCalledTimes(3);
    release.mockRestore();
  });
});
