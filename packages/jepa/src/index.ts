// The JEPA world model for states (the module the runner loads). See README.md.
import {
  createRng,
  forecastViews,
  quietRun,
  sizeOf,
  type FitReport,
  type Forecast,
  type Query,
  type RunContext,
  type ScenarioSpec,
  type Episodes,
  type Tensor,
  type WorldModel,
  type WorldModelModule,
} from '@worldbench/core';
import { initBackend } from '@worldbench/neural';
import { actByDisagreement, type ActPlans } from './act';
import { onnxForecastBackend } from '@worldbench/onnx';
import { jepaConfig, type JepaConfig } from './config';
import { latentDiagnostics, type LatentDiagnostics } from './diagnostics';
import { forecastWith, tfjsRollout } from './forecast';
import { DisagreementHeads, trainHeads } from './ensemble';
import { createGeneralist } from './generalist';
import { fitGeometry, layoutGeometry } from './geometry';
import { unreadable } from './layout';
import { buildNetworks, widthOf, zeroUnseenActions, type Geometry, type Networks } from './model';
import { OnnxRollout } from './onnx';
import { loadHeads, loadWeights, readMeta, saveModel, type SavedExtra } from './persist';
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
  /** The disagreement heads' mean loss over their last tenth of steps; null until they are trained (or without). */
  headsLoss: number | null;
}

/** Why a model of this spec and config has no act() (null: it has one): it needs actions, and heads to disagree. */
function actUnavailable(spec: ScenarioSpec, config: JepaConfig): string | null {
  if (spec.action === null) return `${spec.id} has no actions`;
  if (config.actHeads < 2) return 'actHeads = 1: no heads to disagree (ensemble.ts)';
  return null;
}

function disposeNetworks(nets: Networks | null): void {
  if (!nets) return;
  for (const n of [nets.online, nets.target, nets.predictor, nets.probe, ...(nets.anchor ? [nets.anchor] : [])])
    n.dispose();
}

class JepaModel implements WorldModel {
  private nets: Networks | null = null;
  /** The disagreement heads of act() (null without act, and until the first act() or save() after a fit). */
  private heads: DisagreementHeads | null = null;
  /** The data of the last fit and its seed, kept until the heads are trained on it (`trainedHeads`). */
  private headsData: { data: Episodes; seed: number } | null = null;
  private fitted: Fitted | null = null;
  /** act() calls since the last fit (each draws from its own stream) and the last call's plans (receding horizon). */
  private actCalls = 0;
  private plans: ActPlans | null = null;
  /** Plan2Explore's choice of experience (act.ts); absent with actHeads = 1 or a world without actions. */
  readonly act?: (history: Episodes, run: RunContext) => Promise<Tensor>;
  readonly actUnavailable?: string;
  /**
   * The ORT sessions of the forecast (forecastBackend 'onnx'), opened after fit or at the first forecast after load.
   */
  private onnx: OnnxRollout | null = null;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly view: string,
    private readonly config: JepaConfig,
    private geometry: Geometry,
  ) {
    const unavailable = actUnavailable(spec, config);
    if (unavailable === null) this.act = (history, run) => this.explore(history, run);
    else this.actUnavailable = unavailable;
  }

  static restore(
    spec: ScenarioSpec,
    view: string,
    config: JepaConfig,
    geometry: Geometry,
    nets: Networks,
    heads: DisagreementHeads | null,
    fitted: Fitted | null,
  ): JepaModel {
    const m = new JepaModel(spec, view, config, geometry);
    m.nets = nets;
    m.heads = heads;
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
      // the heads of act() train at the first act() (or save()) after this fit, on the frozen latents: a protocol
      // that never acts never pays for them, and the networks above (so the forecasts) are the same without them
      this.headsData = this.act ? { data, seed: run.seed } : null;
      this.actCalls = 0;
      this.plans = null;
      const params = nets.online.count() + nets.predictor.count() + nets.probe.count();
      this.fitted = { summary, diagnostics, params, headsLoss: null };
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

  /** act(): the first action of the plan the heads disagree on most (act.ts); deterministic per seed and call. */
  private async explore(history: Episodes, run: RunContext): Promise<Tensor> {
    if (!this.nets) throw new Error('jepa: act() before fit()');
    const action = this.spec.action;
    if (!action) throw new Error(`jepa: ${this.spec.id} has no actions to choose`);
    const heads = await this.trainedHeads(run);
    const rng = createRng(`${run.seed}/jepa/act/${this.actCalls++}`);
    const { actions, plans } = await actByDisagreement(
      this.nets,
      heads,
      this.geometry,
      this.config,
      this.view,
      action,
      history,
      rng,
      this.plans,
    );
    this.plans = plans;
    return actions;
  }

  /**
   * The disagreement heads, trained on the last fit's data if they are not yet (ensemble.ts): from the fit's seed, so
   * the same whenever they are trained.
   */
  private async trainedHeads(run: RunContext): Promise<DisagreementHeads> {
    if (this.heads) return this.heads;
    const { nets, headsData, fitted } = this;
    const action = this.geometry.action;
    if (!nets || !action) throw new Error('jepa: act() before fit()');
    if (!headsData)
      throw new Error('jepa: this model was saved without its disagreement heads (an older save); refit it to act');
    const rng = createRng(`${headsData.seed}/jepa/heads`);
    const heads = new DisagreementHeads(rng.fork('init'), this.geometry, this.config, action);
    const set = buildTrainingSet(this.geometry, headsData.data, this.view, this.config.realReadout === 'change');
    try {
      const loss = await trainHeads(heads, nets, set, this.config, rng.fork('train'), run);
      if (fitted) fitted.headsLoss = loss;
    } catch (error) {
      heads.dispose();
      throw error;
    } finally {
      disposeTrainingSet(set);
    }
    this.heads = heads;
    this.headsData = null;
    return heads;
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
      // act()'s disagreement heads, once trained (ensemble.ts)
      ...(this.heads
        ? { act: { heads: this.heads.heads.length, params: this.heads.count(), loss: this.fitted.headsLoss } }
        : {}),
    };
  }

  async save(dir: string): Promise<void> {
    if (!this.nets) throw new Error('jepa: save() before fit()');
    // a model that acts saves its heads: trained now if no act() has asked for them yet
    if (this.headsData) await this.trainedHeads(quietRun(this.headsData.seed));
    saveModel<SavedExtra<Fitted>>(
      dir,
      this.nets,
      {
        view: this.view,
        config: this.config,
        geometry: this.geometry,
        extra: { spec: this.spec, fitted: this.fitted },
      },
      this.heads,
    );
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
    this.heads?.dispose();
    this.heads = null;
    this.headsData = null;
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
    const meta = readMeta<SavedExtra<Fitted>>(dir);
    const nets = buildNetworks(meta.geometry, meta.config, 'load');
    loadWeights(dir, nets, meta.shapes);
    for (const v of nets.target.params()) v.trainable = false;
    const { spec, fitted } = meta.extra;
    const action = meta.geometry.action;
    const heads =
      meta.heads && action ? new DisagreementHeads(createRng('load'), meta.geometry, meta.config, action) : null;
    if (heads) loadHeads(dir, heads, meta.heads as number[][]);
    return JepaModel.restore(spec, meta.view, meta.config, meta.geometry, nets, heads, fitted);
  },
};

export default module;
