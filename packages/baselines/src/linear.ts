// linear: ridge least squares from (last observation, action, 1) to the next observation, rolled out
// autoregressively. Fitted to the change of the observation, so the ridge prior is persistence.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  block,
  episodeCount,
  forecastViews,
  isCategorical,
  sizeOf,
  tensor,
  transitionArrays,
  type ScenarioSpec,
  type TensorSpec,
  type WorldModel,
  type WorldModelModule,
} from '@worldbench/core';
import { linearConfig, type LinearConfig } from './config';
import { fitRidge, predictRidge, type RidgeFit } from './ridge';

/** Action features: raw values for real actions, one-hot per element for categorical ones. */
function actionFeatureSize(action: TensorSpec | null): number {
  if (!action) return 0;
  return isCategorical(action) ? sizeOf(action) * (action.vocab as number) : sizeOf(action);
}

function writeActionFeatures(action: TensorSpec, a: ArrayLike<number>, out: Float64Array, at: number): void {
  if (!isCategorical(action)) {
    for (let i = 0; i < a.length; i++) out[at + i] = a[i];
    return;
  }
  const vocab = action.vocab as number;
  for (let i = 0; i < a.length; i++) {
    for (let c = 0; c < vocab; c++) out[at + i * vocab + c] = 0;
    const c = Math.min(vocab - 1, Math.max(0, Math.round(a[i])));
    out[at + i * vocab + c] = 1;
  }
}

/** The bounds a view's values are known to lie in ([-inf, inf] when unknown). */
function valueRange(t: TensorSpec): [number, number] {
  if (t.range) return [t.range[0], t.range[1]];
  if (t.kind === 'image') return [0, 1];
  if (isCategorical(t)) return [0, (t.vocab as number) - 1];
  return [-Infinity, Infinity];
}

interface LinearState {
  spec: ScenarioSpec;
  view: string;
  config: LinearConfig;
  fit: RidgeFit | null;
}

function linearModel(state: LinearState): WorldModel {
  const { spec, view } = state;
  const D = sizeOf(spec.views[view]);
  const A = actionFeatureSize(spec.action);
  const F = D + A;
  // forecasts stay inside the view's known range, which also keeps long rollouts of image views bounded
  const [lo, hi] = valueRange(spec.views[view]);
  return {
    async fit(data) {
      const { x, y, a, n } = transitionArrays(data, view);
      const features = new Float64Array(n * F),
        targets = new Float64Array(n * D);
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < D; d++) {
          features[i * F + d] = x[i * D + d];
          targets[i * D + d] = y[i * D + d] - x[i * D + d];
        }
        if (spec.action && a)
          writeActionFeatures(
            spec.action,
            a.subarray(i * sizeOf(spec.action), (i + 1) * sizeOf(spec.action)),
            features,
            i * F + D,
          );
      }
      state.fit = fitRidge(features, targets, n, F, D, state.config.ridge);
      return { params: F * D + D, backend: 'js' };
    },
    async forecast(q) {
      if (!state.fit) throw new Error('linear: forecast before fit');
      const hist = q.history.views[view]; // [B, K, ...viewShape]
      const B = episodeCount(q.history);
      const K = hist.shape[1];
      const out = tensor([B, q.horizon, ...spec.views[view].shape]); // [B, H, ...viewShape]
      // all B windows step together: one pass over the weights per step
      const phi = new Float64Array(B * F),
        delta = new Float64Array(B * D);
      for (let h = 0; h < q.horizon; h++) {
        for (let b = 0; b < B; b++) {
          const current = h === 0 ? block(hist, b, K - 1) : block(out, b, h - 1);
          phi.set(current, b * F);
          if (spec.action && q.actions) writeActionFeatures(spec.action, block(q.actions, b, h), phi, b * F + D);
        }
        predictRidge(state.fit, phi, delta, B);
        for (let b = 0; b < B; b++) {
          const next = block(out, b, h);
          for (let d = 0; d < D; d++) next[d] = Math.min(hi, Math.max(lo, phi[b * F + d] + delta[b * D + d]));
        }
      }
      return { mean: out };
    },
    async save(dir) {
      if (!state.fit) throw new Error('linear: save before fit');
      mkdirSync(dir, { recursive: true });
      const { featureMean, featureStd, targetMean, weights } = state.fit;
      writeFileSync(
        join(dir, 'linear.json'),
        JSON.stringify({ spec, view, config: state.config, features: F, targets: D }),
      );
      for (const [name, arr] of Object.entries({ featureMean, featureStd, targetMean, weights }))
        writeFileSync(join(dir, `${name}.f64`), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
    },
  };
}

function readF64(path: string): Float64Array {
  const buf = readFileSync(path);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const module: WorldModelModule<LinearConfig> = {
  card: {
    id: 'linear',
    school: 'baseline',
    summary: 'Ridge least squares from (last observation, action, 1) to the next observation, rolled out step by step.',
  },
  defaults: linearConfig.defaults,
  config: linearConfig,
  supports: (spec) => ({ views: forecastViews(spec) }),
  create: async (spec, view, config) => linearModel({ spec, view, config: linearConfig.resolve(config), fit: null }),
  load: async (dir) => {
    const meta = JSON.parse(readFileSync(join(dir, 'linear.json'), 'utf8'));
    const fit: RidgeFit = {
      featureMean: readF64(join(dir, 'featureMean.f64')),
      featureStd: readF64(join(dir, 'featureStd.f64')),
      targetMean: readF64(join(dir, 'targetMean.f64')),
      weights: readF64(join(dir, 'weights.f64')),
      features: meta.features,
      targets: meta.targets,
    };
    return linearModel({ spec: meta.spec, view: meta.view, config: meta.config, fit });
  },
};
export default module;
