// The JEPA world model for states (the module the runner loads). See README.md.
import {
  createRng,
  forecastViews,
  sizeOf,
  type FitReport,
  type Forecast,
  type Query,
  type RunContext,
  type ScenarioSpec,
  type Episodes,
  type WorldModel,
  type WorldModelModule,
} from '@worldbench/core';
import { initBackend } from '@worldbench/neural';
import { onnxForecastBackend } from '@worldbench/onnx';
import { jepaConfig, type JepaConfig } from './config';
import { latentDiagnostics, type LatentDiagnostics } from './diagnostics';
import { forecastWith, tfjsRollout } from './forecast';
import { createGeneralist } from './generalist';
import { fitGeometry, layoutGeometry } from './geometry';
import { unreadable } from './layout';
import { buildNetworks, widthOf, zeroUnseenActions, type Geometry, type Networks } from './model';
import { OnnxRollout } from './onnx';
import { loadWeights, readMeta, saveModel } from './persist';
import { actionRowsSeen, buildTrainingSet, disposeTrainingSet } from './batch';
import { trainJepa, type TrainSummary } from './train';

export { jepaConfig, jepaDefaults, type JepaConfig } from './config';
export { updateTargetEncoder, initTargetEncoder, momentumAt } from './ema';
export { buildNetworks } from './model';
export { effectiveRank } from './diagnostics';
export { fitGeometry } from './geometry';

interface Fitted {
  summary: TrainSummary;
  diagnostics: LatentDiagnostics;
  params: number;
}

function disposeNetworks(nets: Networks | null): void {
  if (!nets) return;
  for (const n of [nets.online, nets.target, nets.predictor, nets.probe, ...(nets.anchor ? [nets.anchor] : [])])
    n.dispose();
}

class JepaModel implements WorldModel {
  private nets: Networks | null = null;
  private fitted: Fitted | null = null;
  /**
   * The ORT sessions of the forecast (forecastBackend 'onnx'), opened after fit or at the first forecast after load.
   */
  private onnx: OnnxRollout | null = null;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly view: string,
    private readonly config: JepaConfig,
    private geometry: Geometry,
  ) {}

  static restore(
    spec: ScenarioSpec,
    view: string,
    config: JepaConfig,
    geometry: Geometry,
    nets: Networks,
    fitted: Fitted | null,
  ): JepaModel {
    const m = new JepaModel(spec, view, config, geometry);
    m.nets = nets;
    m.fitted = fitted;
    return m;
  }

  async fit(data: Episodes, run: RunContext): Promise<FitReport> {
    await initBackend();
    await this.release();
    const geometry = fitGeometry(this.spec, this.view, this.config, data);
    this.geometry = geometry;
    const nets = buildNetworks(geometry, this.config, `${run.seed}/jepa`);
    this.nets = nets;
    const set = buildTrainingSet(geometry, data, this.view, this.config.realReadout === 'change');
    zeroUnseenActions(nets, actionRowsSeen(set));
    try {
      const summary = await trainJepa(nets, set, this.config, createRng(`${run.seed}/jepa/train`), run);
      const diagnostics = latentDiagnostics(nets, set);
      const params = nets.online.count() + nets.predictor.count() + nets.probe.count();
      this.fitted = { summary, diagnostics, params };
      run.log(
        `jepa: ${summary.steps} steps, ` +
          `latent loss ` +
          `${summary.final.prediction.toExponential(2)}, effective rank ` +
          `${diagnostics.effectiveRank.mean.toFixed(1)}/${diagnostics.effectiveRank.width}`,
      );
      if (this.config.forecastBackend === 'onnx') this.onnx = await OnnxRollout.open(nets, geometry);
      // the engine that trained, and ONNX Runtime beside it when the forecasts run there
      const backend = this.onnx ? onnxForecastBackend(summary.engine) : summary.engine;
      return {
        params,
        backend,
        notes: {
          steps: summary.steps,
          probeSteps: summary.probeSteps,
          batchSize: summary.batchSize,
          final: summary.final,
          probeFinal: summary.probeFinal,
        },
      };
    } finally {
      disposeTrainingSet(set);
    }
  }

  async forecast(q: Query): Promise<Forecast> {
    if (!this.nets) throw new Error('jepa: forecast() before fit()');
    if (q.view !== this.view)
      throw new Error(`jepa: this model forecasts view "${this.view}", the query asks for "${q.view}"`);
    const spec = this.spec.views[this.view];
    // a loaded model opens its ONNX sessions here
    const run =
      this.config.forecastBackend === 'tfjs'
        ? tfjsRollout(this.nets, this.geometry)
        : (this.onnx ??= await OnnxRollout.open(this.nets, this.geometry)).run;
    const { change } = this.nets.probe;
    // anchored real rollouts re-encode every k steps, k the rollout length the probe was trained to read
    const anchorEvery = this.config.realRollout === 'anchored' ? (this.fitted?.summary.rolloutSteps ?? 0) : 0;
    return {
      mean: await forecastWith(run, this.geometry, spec, q, change, this.config.categoricalRollout, anchorEvery),
    };
  }

  explain(): Record<string, unknown> {
    if (!this.fitted) return {};
    const { summary, diagnostics } = this.fitted;
    return {
      latent: {
        tokens: this.geometry.state.tokens,
        width: widthOf(this.geometry.state, this.config),
        ...(this.geometry.state.grid ? { mixing: 'local 3 x 3 (a token per cell)' } : {}),
        slotsPerToken: this.geometry.state.slots,
      },
      // who reads the context: the pointer token and the bits each token's row tells (pointer.ts)
      ...(this.geometry.context.tokens > 0 ? { context: { pointer: this.geometry.pointer } } : {}),
      diagnostics,
      training: {
        steps: summary.steps,
        probeSteps: summary.probeSteps,
        batchSize: summary.batchSize,
        rolloutSteps: summary.rolloutSteps,
        final: summary.final,
        probeFinal: summary.probeFinal,
        history: summary.history,
      },
    };
  }

  async save(dir: string): Promise<void> {
    if (!this.nets) throw new Error('jepa: save() before fit()');
    saveModel<{ spec: ScenarioSpec; fitted: Fitted | null }>(dir, this.nets, {
      view: this.view,
      config: this.config,
      geometry: this.geometry,
      extra: { spec: this.spec, fitted: this.fitted },
    });
  }

  async dispose(): Promise<void> {
    await this.release();
  }

  /** Releases the ORT sessions and the networks. */
  private async release(): Promise<void> {
    const onnx = this.onnx;
    this.onnx = null;
    await onnx?.release();
    disposeNetworks(this.nets);
    this.nets = null;
  }
}

const module: WorldModelModule<JepaConfig> = {
  card: {
    id: 'jepa',
    school: 'jepa',
    summary:
      'Predicts the next latent state (token latents, EMA target encoder, VICReg regularisation, multi-step latent ' +
      'rollouts); observations only through a probe on frozen latents.',
    references: [
      'Assran et al. 2023, Self-Supervised Learning from Images with a Joint-Embedding Predictive Architecture ' +
        '(I-JEPA)',
      'Assran et al. 2025, V-JEPA 2: Self-Supervised Video Models Enable Understanding, Prediction and Planning ' +
        '(V-JEPA 2-AC)',
      'Bardes et al. 2022, VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised Learning',
    ],
  },
  defaults: jepaConfig.defaults,
  config: jepaConfig,
  retiredKeys: jepaConfig.retiredKeys,
  supports(spec) {
    const reasons: string[] = [];
    for (const [name, t] of Object.entries(spec.context ?? {}))
      if (!(t.kind === 'int' || t.kind === 'token'))
        reasons.push(`context ${name} is ${t.kind}; jepa reads categorical context only`);
    if (reasons.length) return { views: [], reason: reasons.join('; ') };
    const views = forecastViews(spec).filter((v) => unreadable(v, spec.views[v]) === null && sizeOf(spec.views[v]) > 0);
    if (views.length) return { views };
    return {
      views: [],
      reason: forecastViews(spec)
        .map((v) => unreadable(v, spec.views[v]) ?? `${v} is empty`)
        .join('; '),
    };
  },
  async create(spec, view, config) {
    const why = unreadable(view, spec.views[view] ?? { shape: [], kind: 'image' });
    if (!spec.views[view] || why)
      throw new Error(`jepa cannot forecast view "${view}" of ${spec.id}: ${why ?? 'no such view'}`);
    const full = jepaConfig.resolve(config);
    return new JepaModel(spec, view, full, layoutGeometry(spec, view, full));
  },
  // the generalist protocols: one trunk for every world, its projections per world or per shape (generalist.ts)
  createGeneralist: async (worlds, config) => createGeneralist(worlds, config),
  async load(dir) {
    await initBackend();
    const meta = readMeta<{ spec: ScenarioSpec; fitted: Fitted | null }>(dir);
    const nets = buildNetworks(meta.geometry, meta.config, 'load');
    loadWeights(dir, nets, meta.shapes);
    for (const v of nets.target.params()) v.trainable = false;
    return JepaModel.restore(meta.extra.spec, meta.view, meta.config, meta.geometry, nets, meta.extra.fitted);
  },
};

export default module;
