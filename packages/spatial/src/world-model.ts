// The spatial WorldModel: fit (stage 1 latent actions, stage 2 dynamics), forecast (rollouts, through ONNX
// Runtime unless forecastBackend = 'tfjs'), explain, save and load. With tokenizer = 'vq' a stage 0 trains
// the discrete patch tokenizer (tokenizer.ts) and the dynamics predicts token ids. The networks are in
// model.ts, the training loops in train.ts, the rollout loop in rollout.ts and its ONNX step in onnx.ts. With
// actions and disagreementHeads >= 2, act() chooses actions by the disagreement heads (disagreement.ts), trained on
// the last fit's data at the first act() or save() after it.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  block,
  createRng,
  type Rng,
  episodeCount,
  isCategorical,
  quietRun,
  sizeOf,
  tensor,
  type Episodes,
  type FitReport,
  type Forecast,
  type Query,
  type RunContext,
  type ScenarioSpec,
  type Tensor,
  type WorldModel,
} from '@worldbench/core';
import { backendName, initBackend, readWeights, tf, writeWeights } from '@worldbench/neural';
import { onnxForecastBackend } from '@worldbench/onnx';
import { fitActionSupport, onSupport, type ActionSupport } from './action-support';
import { spatialConfig, type SpatialConfig } from './config';
import { actionIds, buildSamples, buildTrainingData, pixelWeights, type Samples, type TrainingData } from './dataset';
import {
  candidateActionSequences,
  DisagreementHeads,
  imaginedDisagreement,
  onnxSpreadEngine,
  type SpreadEngine,
  tfjsSpreadEngine,
} from './disagreement';
import {
  actionClasses,
  codebookUsage,
  fitLatentMap,
  latentCodeOf,
  normalisedMutualInformation,
  pickLabelled,
  type LatentMap,
} from './latent-actions';
import { actionKindOf, Dynamics, type DynamicsShape, LatentActionModel, type ActionKind } from './model';
import { autoPatchSize, fromCore, patchGeometry, toCore, type PatchGeometry } from './patches';
import { OnnxRollout } from './onnx';
import { contextWindows, rollout, tfjsEngine, tfjsTokenEngine, type StepEngine } from './rollout';
import { PatchTokenizer, reconstructionError, trainTokenizer } from './tokenizer';
import {
  actionTable,
  type ActionTable,
  dataTensors,
  headData,
  latentCodes,
  membersFor,
  selfForcingFor,
  stepsFor,
  trainDynamics,
  trainHeads,
  trainLatentActionModel,
  trainTokenDynamics,
} from './train';

const FORMAT = 'spatial-v1';

/** The tokenizer geometry of a view under a config. */
export function geometryOf(spec: ScenarioSpec, view: string, config: SpatialConfig): PatchGeometry {
  const shape = spec.views[view].shape;
  const patch = config.patchSize > 0 ? config.patchSize : autoPatchSize(shape[0], shape[1]);
  const wrap =
    config.haloPadding === 'wrap' || (config.haloPadding === 'auto' && spec.tags.includes('cellular-automaton'));
  return patchGeometry(shape, patch, config.halo, wrap);
}

/** Past frames the dynamics reads: the config's, or 1 on discrete worlds and 3 elsewhere; at most the K observed. */
export function contextFramesOf(spec: ScenarioSpec, config: SpatialConfig): number {
  const wanted = config.contextFrames > 0 ? config.contextFrames : spec.tags.includes('discrete') ? 1 : 3;
  return Math.max(1, Math.min(wanted, spec.historySteps));
}

/** The dynamics' shape under a config: its sizes from `config`, the rest as the model works them out. */
export function dynamicsShape(
  config: SpatialConfig,
  geometry: PatchGeometry,
  contextFrames: number,
  action: ActionKind,
  tokens = 0,
): DynamicsShape {
  return {
    geometry,
    contextFrames,
    width: config.width,
    depth: config.depth,
    heads: config.heads,
    mlpRatio: config.mlpRatio,
    radius: config.attentionRadius,
    action,
    tokens,
  };
}

/**
 * Why this model has no act() on this scenario (null: it has one). act() needs actions to choose, and the disagreement
 * heads, which read the pixel dynamics' features.
 */
export function actUnavailable(spec: ScenarioSpec, config: SpatialConfig): string | null {
  if (!spec.action) return `${spec.id} has no actions`;
  if (config.disagreementHeads < 2) return 'disagreementHeads = 1: no heads to disagree, so no act()';
  if (config.tokenizer !== 'linear')
    return `tokenizer '${config.tokenizer}': the disagreement heads read the pixel dynamics' features only`;
  return null;
}

/**
 * At most this many training samples train the disagreement heads: their features are held in memory (4096 samples
 * of 64 tokens of width 64: 64 MB), and the heads need to see where the data lies, not every sample of it.
 */
const HEAD_SAMPLES = 4096;

/** Does this model train a latent action model on this scenario? */
function usesLatentActions(spec: ScenarioSpec, config: SpatialConfig): boolean {
  return spec.action !== null && (config.actionFree || config.latentActions > 0);
}

export class SpatialModel implements WorldModel {
  readonly geometry: PatchGeometry;
  readonly contextFrames: number;
  readonly action: ActionKind;
  /**
   * The dynamics networks (config ensemble / largeEnsemble): member 0 is what one network would be (same seeds);
   * forecasts average the members' rollouts.
   */
  members: Dynamics[] = [];
  lam: LatentActionModel | null = null;
  /** The discrete patch tokenizer (tokenizer = 'vq'), and its decoded patch of every code [K, pp]. */
  tokenizer: PatchTokenizer | null = null;
  private tokenTable: tf.Tensor2D | null = null;
  latentMap: LatentMap | null = null;
  /** Real actions: the training actions' axes and ranges the encoder reads them on (null: read as given). */
  actionSupport: ActionSupport | null = null;
  /** Forecast actions since the fit (or load), and how many of them lay outside the training actions' support. */
  private forecastActionCount = 0;
  private forecastActionsOutside = 0;
  /** The disagreement heads on member 0's trunk (null without act()). */
  heads: DisagreementHeads | null = null;
  /**
   * What the heads train on, kept from the last fit until the first act() or save() trains them (trainedHeads): a
   * protocol that never acts never pays for them, and the forecasts never depend on them.
   */
  private headsData: { d: TrainingData; samples: Samples; actions: ActionTable | null; rng: Rng } | null = null;
  /** Training transitions of the last fit (names act()'s random streams, so each round draws its own). */
  private fittedOn = 0;
  summary: Record<string, unknown> = {};
  /** The ORT sessions forecasts run through ('onnx' backend), one per member, opened after each fit and load. */
  private onnx: OnnxRollout[] = [];
  /** act()'s imagined step in ORT ('onnx' backend): compiled on the first act() after a fit or load. */
  private spread: Promise<{ engine: SpreadEngine; release: () => Promise<void> }> | null = null;
  /**
   * On-policy: the next action of each of B episodes [B, ...actionShape], the first action of the imagined sequence
   * the heads disagree on most. Absent (the runner reports on-policy n/a) where actUnavailable gives a reason.
   */
  readonly act?: (history: Episodes, run: RunContext) => Promise<Tensor>;
  readonly actUnavailable?: string;

  constructor(
    readonly spec: ScenarioSpec,
    readonly view: string,
    readonly config: SpatialConfig,
  ) {
    const v = spec.views[view];
    if (v?.kind !== 'image')
      throw new Error(
        `spatial: view "${view}" of ${spec.id} is not an image view; spatial forecasts image views only (see ` +
          `supports())`,
      );
    if (config.actionFree && spec.action && config.latentActions < 2)
      throw new Error(`spatial: actionFree needs latentActions >= 2 (a codebook), got ${config.latentActions}`);
    this.geometry = geometryOf(spec, view, config);
    this.contextFrames = contextFramesOf(spec, config);
    this.action = actionKindOf(spec.action, config.actionFree, config.latentActions);
    const unavailable = actUnavailable(spec, config);
    if (unavailable === null) this.act = (history, run) => this.chooseActions(history, run);
    else this.actUnavailable = unavailable;
  }

  /** The first dynamics network (the only one unless the model is an ensemble). */
  get dynamics(): Dynamics | null {
    return this.members[0] ?? null;
  }

  private build(seed: string, members: number): void {
    this.disposeNetworks();
    const rng = createRng(seed);
    const { config: c, geometry } = this;
    const tokens = c.tokenizer === 'vq' ? c.tokenCodes : 0;
    const shape = dynamicsShape(c, geometry, this.contextFrames, this.action, tokens);
    this.members = Array.from({ length: members }, (_, k) => new Dynamics(rng.fork(memberLabel(k)), shape));
    if (tokens > 0)
      this.tokenizer = new PatchTokenizer(rng.fork('tokenizer'), {
        pp: geometry.pp,
        width: c.width,
        codes: tokens,
        dim: c.tokenDim,
        commitment: c.commitment,
      });
    if (this.act)
      this.heads = new DisagreementHeads(rng.fork('disagreement-heads'), c.width, geometry.pp, c.disagreementHeads);
    if (usesLatentActions(this.spec, c))
      this.lam = new LatentActionModel(rng.fork('latent-actions'), {
        geometry,
        contextFrames: this.contextFrames,
        width: c.width,
        codes: c.latentActions,
        latentDim: c.latentDim,
        commitment: c.commitment,
      });
  }

  /**
   * Releases the previous ORT sessions and, with forecastBackend 'onnx', exports the fitted dynamics' step and opens
   * new ones.
   */
  private async openForecaster(): Promise<void> {
    await this.releaseForecaster();
    this.tokenTable?.dispose();
    this.tokenTable = this.tokenizer ? this.tokenizer.decodedTable() : null;
    if (this.config.forecastBackend === 'onnx')
      for (const member of this.members)
        this.onnx.push(await OnnxRollout.open(member, this.config.deadzone, this.tokenizer));
  }

  private async releaseForecaster(): Promise<void> {
    const onnx = this.onnx;
    this.onnx = [];
    for (const session of onnx) await session.release();
    const spread = this.spread;
    this.spread = null;
    if (spread) await (await spread).release();
  }

  /** The engine act()'s imagined steps run on: ORT (compiled once per fit) or tfjs, as forecasts. */
  private async spreadEngine(actionType: 'float32' | 'int32', A: number): Promise<SpreadEngine> {
    const { dynamics, heads } = this;
    if (this.config.forecastBackend === 'tfjs') return tfjsSpreadEngine(dynamics!, heads!, this.config.deadzone);
    this.spread ??= onnxSpreadEngine(dynamics!, heads!, this.config.deadzone, actionType, A);
    return (await this.spread).engine;
  }

  /**
   * What ran, as FitReport.backend reports it: the engines that trained (tfjs's backend, or the ONNX Runtime
   * training graph; the tfjs backend after a load), then ONNX Runtime when it forecasts.
   */
  private backend(trainedOn: readonly string[] = [backendName()]): string {
    const training = [...new Set(trainedOn)].join(', ');
    return this.onnx.length ? onnxForecastBackend(training) : training;
  }

  private disposeNetworks(): void {
    for (const member of this.members) member.dispose();
    this.lam?.dispose();
    this.heads?.dispose();
    this.tokenizer?.dispose();
    this.tokenTable?.dispose();
    this.members = [];
    this.heads = null;
    this.headsData = null;
    this.lam = null;
    this.tokenizer = null;
    this.tokenTable = null;
  }

  async fit(data: Episodes, run: RunContext): Promise<FitReport> {
    await initBackend();
    const { spec, config, geometry: g } = this;
    const seed = `${run.seed}/spatial`;
    await this.releaseForecaster();
    const d = buildTrainingData(g, data, this.view);
    if (d.transitions.count === 0) throw new Error('spatial: fit() got no valid transitions');
    this.build(seed, membersFor(config, d.transitions.count));
    this.summary = {};
    this.latentMap = null;
    this.actionSupport = null;
    this.forecastActionCount = this.forecastActionsOutside = 0;
    const rng = createRng(`${seed}/train`);
    const t = dataTensors(g, d);
    let actionTensor: tf.Tensor2D | null = null;
    let weights: tf.Tensor2D | null = null;
    try {
      const C = this.contextFrames;
      const base = buildSamples(d, C, 0);
      const selfForcing = selfForcingFor(config, d.transitions.count);
      const dyn = buildSamples(d, C, selfForcing.rolloutSteps);
      const dynSamples = this.tokenizer ? base : dyn; // the token dynamics trains on one-step samples
      const dynSteps = stepsFor(config, dynSamples.samples.count);
      const notes: Record<string, unknown> = {
        samples: dynSamples.samples.count,
        rolloutSteps: dynSamples.rollout,
        contextPadded: dynSamples.padded,
      };
      this.summary.tokenizer = {
        kind: config.tokenizer,
        patch: g.patch,
        halo: g.halo,
        padding: g.wrap ? 'wrap' : 'zero',
        tokensPerFrame: g.P,
      };

      // the engine that trained each stage (WORLDBENCH_TRAIN_ENGINE: tfjs, or the ONNX Runtime training graph)
      const engines: Record<string, string> = {};

      // stage 0 ('vq'): the discrete patch tokenizer, an autoencoder of the training frames' patches
      let ids: tf.Tensor2D | null = null;
      if (this.tokenizer) {
        run.log(`spatial: vq tokenizer, ${config.tokenizerSteps} steps`);
        const t0 = performance.now();
        const tt = await trainTokenizer(
          this.tokenizer,
          t.cores,
          config.batchSize,
          config.lr,
          config.tokenizerSteps,
          rng.fork('tokenizer'),
          run.signal,
        );
        const patches = tf.reshape(t.cores, [-1, g.pp]) as tf.Tensor2D;
        const frameIds = this.tokenizer.ids(patches);
        patches.dispose();
        ids = tf.tensor2d(frameIds, [d.frames.count, g.P], 'int32');
        engines.tokenizer = tt.result.engine;
        Object.assign(
          this.summary.tokenizer as object,
          this.tokenizerSummary(
            frameIds,
            t.cores,
            tt.restarts,
            tt.result.steps,
            round((performance.now() - t0) / 1000, 1),
          ),
        );
      }

      // stage 1: latent actions, learned without labels
      let codes: Int32Array | null = null;
      if (this.lam) {
        const lamSteps = stepsFor(config, base.samples.count, config.lamStepShare);
        run.log(`spatial: latent action model, ${lamSteps} steps`);
        const t0 = performance.now();
        const lt = await trainLatentActionModel(
          this.lam,
          t,
          base.samples,
          config,
          lamSteps,
          rng.fork('latent-actions'),
          run.signal,
        );
        const next = Int32Array.from(d.transitions.frame, (f) => f + 1);
        codes = latentCodes(this.lam, t, d.transitions.frame, next);
        this.summary.latentActions = this.latentActionSummary(d, codes, lt.restarts, lt.result.bestLoss);
        notes.latentSteps = lt.result.steps;
        engines.latentActions = lt.result.engine;
        notes.latentSeconds = round((performance.now() - t0) / 1000, 1);
      } else {
        this.summary.latentActions = {
          reason: spec.action
            ? 'latentActions = 0: no latent action model trained'
            : `${spec.id} has no actions: the dynamics runs unconditioned and no latent action model is trained`,
        };
      }

      // stage 2: dynamics, conditioned on true actions or on the latent codes
      if (this.action.kind === 'real' && config.actionSupport !== 'raw') {
        this.actionSupport = fitActionSupport(d.transitions.actions!, d.transitions.count, this.action.size);
        this.summary.actionSupport = this.actionSupportSummary();
      }
      actionTensor = this.actionTensor(d, codes);
      const M = this.members.length;
      run.log(
        `spatial: dynamics, ${dynSteps} steps on ${dynSamples.samples.count} samples (rollout ${dynSamples.rollout})` +
          (M > 1 ? `, ${M} members` : ''),
      );
      const t1 = performance.now();
      weights = tf.tensor2d(pixelWeights(d.frames, g.pixels, config.stdWeighting), [g.P, g.pp]);
      // every member: the same data and schedule, its own initial weights and batch order (member 0's are one
      // network's)
      const memberPhases = [];
      for (const [k, member] of this.members.entries()) {
        const memberRng = rng.fork(memberLabel(k));
        memberPhases.push(
          ids
            ? [
                await trainTokenDynamics(
                  member,
                  ids,
                  base.samples,
                  actionTensor,
                  config,
                  dynSteps,
                  memberRng,
                  run.signal,
                ),
              ]
            : await trainDynamics(
                member,
                t,
                dyn.samples,
                actionTensor,
                weights,
                { ...config, teacherShare: selfForcing.teacherShare },
                dynSteps,
                memberRng,
                run.signal,
              ),
        );
        if (actionTensor && this.action.kind !== 'real' && config.actionSupport !== 'raw')
          notes.untrainedActionIds = this.zeroUntrainedActionIds(member, actionTensor);
      }
      ids?.dispose();
      const phases = memberPhases[0];
      phases.forEach((p, k) => (engines[phases.length > 1 ? `dynamics${k}` : 'dynamics'] = p.engine));
      notes.steps = phases.map((p) => p.steps);
      notes.dynamicsSeconds = round((performance.now() - t1) / 1000, 1);
      // act()'s heads, on member 0's trunk: trained at the first act() or save() (explain().act says what they cost)
      this.headsData = this.heads ? { d, samples: base.samples, actions: actionTable(actionTensor), rng } : null;
      this.summary.act = this.heads
        ? { heads: this.heads.heads.length, trained: 'at the first act() or save()' }
        : { reason: this.actUnavailable ?? null };
      this.fittedOn = d.transitions.count;
      notes.bestLoss = phases.map((p) => round(p.bestLoss, 6));
      notes.stoppedEarly = phases.map((p) => p.stoppedEarly);
      if (M > 1)
        notes.ensemble = {
          members: M,
          steps: memberPhases.map((ps) => ps.map((p) => p.steps)),
          bestLoss: memberPhases.map((ps) => ps.map((p) => round(p.bestLoss, 6))),
        };
      this.summary.mode =
        this.action.kind === 'latent' ? 'action-free' : this.action.kind === 'none' ? 'no-actions' : 'true-actions';
      this.summary.training = notes;
      notes.engines = engines;
      await this.openForecaster();
      return { params: this.paramCount(), backend: this.backend(Object.values(engines)), notes };
    } finally {
      t.dispose();
      actionTensor?.dispose();
      weights?.dispose();
    }
  }

  private paramCount(): number {
    const dynamics = this.members.reduce((sum, member) => sum + member.count(), 0);
    return dynamics + (this.lam?.count() ?? 0) + (this.tokenizer?.count() ?? 0) + (this.heads?.count() ?? 0);
  }

  /**
   * Trains the disagreement heads on member 0's features of the one-step samples (at most HEAD_SAMPLES of them, drawn
   * from the seed), with the dynamics' schedule and step count. Returns explain().act.
   */
  private async fitHeads(
    d: TrainingData,
    samples: Samples,
    actions: ActionTable | null,
    rng: Rng,
    run: RunContext,
  ): Promise<Record<string, unknown>> {
    const heads = this.heads!;
    const t0 = performance.now();
    const all = Int32Array.from({ length: samples.count }, (_, i) => i);
    const rows =
      samples.count > HEAD_SAMPLES
        ? Int32Array.from(
            rng
              .fork('heads/samples')
              .shuffle([...all])
              .slice(0, HEAD_SAMPLES),
          )
        : all;
    const data = await headData(this.members[0], d.frames, samples, actions, rows);
    const steps = this.config.headStepRatio * stepsFor(this.config, rows.length);
    run.log(`spatial: ${heads.heads.length} disagreement heads, ${steps} steps on ${rows.length} samples`);
    const result = await trainHeads(heads, this.geometry.P, data, this.config, steps, rng.fork('heads'), run.signal);
    return {
      heads: heads.heads.length,
      horizon: this.config.actHorizon,
      candidates: this.config.actCandidates,
      samples: rows.length,
      steps: result.steps,
      bestLoss: round(result.bestLoss, 6),
      engine: result.engine,
      seconds: round((performance.now() - t0) / 1000, 1),
    };
  }

  /**
   * explain().tokenizer for 'vq': codebook usage over all training patches (codes used at all, and by >= 1% of
   * the patches: most patches are often one background code), perplexity, and the reconstruction mse per pixel
   * against the pixels' variance (the mse of predicting each pixel's mean).
   */
  private tokenizerSummary(
    ids: Int32Array,
    cores: tf.Tensor3D,
    restarts: number,
    steps: number,
    seconds: number | null,
  ): Record<string, unknown> {
    const usage = codebookUsage(ids, this.config.tokenCodes);
    const mse = reconstructionError(this.tokenizer!, cores, ids);
    const variance = tf.tidy(
      () =>
        tf
          .moments(tf.reshape(cores, [cores.shape[0], -1]), 0)
          .variance.mean()
          .dataSync()[0],
    );
    return {
      codebookSize: this.config.tokenCodes,
      used: usage.counts.filter((c) => c > 0).length,
      usedByOnePercent: usage.used,
      perplexity: round(usage.perplexity, 3),
      restarts,
      reconstructionMse: round(mse, 6),
      pixelVariance: round(variance, 6),
      steps,
      seconds,
    };
  }

  private latentActionSummary(
    d: TrainingData,
    codes: Int32Array,
    restarts: number,
    loss: number,
  ): Record<string, unknown> {
    const { spec, config } = this;
    const usage = codebookUsage(codes, config.latentActions);
    const classes = actionClasses(spec.action!, d.transitions.actions!, d.transitions.count);
    const out: Record<string, unknown> = {
      codebookSize: config.latentActions,
      counts: usage.counts,
      used: usage.used,
      perplexity: round(usage.perplexity, 3),
      nmi: round(normalisedMutualInformation(codes, classes), 4),
      trueActionClasses: isCategorical(spec.action!) ? 'the action values' : 'zero, or the dominant signed component',
      restarts,
      reconstructionLoss: round(loss, 5),
      transitions: codes.length,
    };
    if (config.actionFree) {
      const labelled = pickLabelled(spec.action!, classes, config.labelled);
      this.latentMap = fitLatentMap(spec.action!, d.transitions.actions!, codes, labelled);
      out.labelled = labelled.length;
      if (this.latentMap.kind === 'int') out.codeOfAction = this.latentMap.codeOfClass;
    }
    return out;
  }

  /**
   * Zeroes the action embedding rows no training transition used (their random initial values were never trained:
   * an unseen action then adds nothing rather than noise). `ids` [transitions, A] int32 as trained on. Returns how
   * many rows were zeroed.
   */
  private zeroUntrainedActionIds(member: Dynamics, ids: tf.Tensor2D): number {
    return member.actions!.table!.zeroRowsExcept(ids.dataSync());
  }

  /** explain().actionSupport: the axes kept, their stds and ranges, and the forecast actions outside them. */
  private actionSupportSummary(): Record<string, unknown> {
    const s = this.actionSupport!;
    const r = (xs: number[]) => xs.map((x) => round(x, 4));
    return {
      mode: this.config.actionSupport,
      mean: r(s.mean),
      axes: s.axes.map(r),
      flatAxes: s.flatAxes.map(r),
      std: r(s.std),
      low: r(s.low),
      high: r(s.high),
      forecastActions: this.forecastActionCount,
      forecastActionsOutside: this.forecastActionsOutside,
    };
  }

  /** Real actions [n * A] as the action encoder reads them: on the support's axes, or as given without one. */
  private encoderActions(values: Float32Array, n: number, forecast: boolean): void {
    if (!this.actionSupport) return;
    const outside = onSupport(this.actionSupport, values, n, this.config.actionSupport === 'clip', values);
    if (!forecast) return;
    this.forecastActionCount += n;
    this.forecastActionsOutside += outside;
    this.summary.actionSupport = this.actionSupportSummary();
  }

  /** The dynamics' action input of every transition row, as a tensor [transitions, A]. */
  private actionTensor(d: TrainingData, codes: Int32Array | null): tf.Tensor2D | null {
    const n = d.transitions.count;
    if (this.action.kind === 'none') return null;
    if (this.action.kind === 'latent') return tf.tensor2d(codes!, [n, 1], 'int32');
    const A = this.action.size;
    const spec = this.spec.action!;
    const values = this.action.kind === 'int' ? new Int32Array(n * A) : new Float32Array(n * A);
    for (let i = 0; i < n; i++) actionIds(spec, d.transitions.actions!.subarray(i * A, (i + 1) * A), values, i * A);
    if (values instanceof Float32Array) this.encoderActions(values, n, false);
    return tf.tensor2d(values, [n, A], this.action.kind === 'int' ? 'int32' : 'float32');
  }

  /**
   * The encoder input of `count` actions [count, ...actionShape]; `forecast`: they are a forecast's, counted in
   * explain().actionSupport (act()'s imagined ones are not).
   */
  private forecastActions(
    actions: Float32Array | null,
    count: number,
    forecast = true,
  ): { values: Float32Array | Int32Array | null; A: number } {
    const kind = this.action.kind;
    if (kind === 'none' || !actions) return { values: null, A: 0 };
    const spec = this.spec.action!;
    const A = sizeOf(spec);
    if (kind === 'latent') {
      if (!this.latentMap) throw new Error('spatial: action-free forecast before the latent map was fitted');
      return {
        values: Int32Array.from({ length: count }, (_, i) =>
          latentCodeOf(this.latentMap!, spec, actions.subarray(i * A, (i + 1) * A)),
        ),
        A: 1,
      };
    }
    const values = kind === 'int' ? new Int32Array(count * A) : new Float32Array(count * A);
    for (let i = 0; i < count; i++) actionIds(spec, actions.subarray(i * A, (i + 1) * A), values, i * A);
    if (values instanceof Float32Array) this.encoderActions(values, count, forecast);
    return { values, A };
  }

  /**
   * Each member's rollout of B histories in image layout [B * K * pixels] -> [B * H * pixels] image layout.
   */
  private async predict(
    history: Float32Array,
    B: number,
    K: number,
    actions: Float32Array | null,
    H: number,
  ): Promise<Float32Array[]> {
    const g = this.geometry;
    const cores = new Float32Array(history.length);
    for (let i = 0; i < B * K; i++)
      toCore(g, history.subarray(i * g.pixels, (i + 1) * g.pixels), cores.subarray(i * g.pixels, (i + 1) * g.pixels));
    const { values, A } = this.forecastActions(actions, B * H);
    const outs: Float32Array[] = [];
    for (const [k, member] of this.members.entries()) {
      const engine: StepEngine = this.onnx.length
        ? await this.onnx[k].engine(values ? A : 0)
        : this.tokenizer
          ? tfjsTokenEngine(member, this.tokenizer, this.tokenTable!)
          : tfjsEngine(member, this.config.deadzone);
      const predicted = await rollout(engine, member.shape, cores, B, K, values, A, H);
      const out = new Float32Array(predicted.length);
      for (let i = 0; i < B * H; i++)
        fromCore(
          g,
          predicted.subarray(i * g.pixels, (i + 1) * g.pixels),
          out.subarray(i * g.pixels, (i + 1) * g.pixels),
        );
      outs.push(out);
    }
    return outs;
  }

  /** The frames of B histories of K steps [B, K, ...frame] as one array [B * K * pixels] (image layout). */
  private historyFrames(history: Episodes): Float32Array {
    const hist = history.views[this.view];
    if (!hist) throw new Error(`spatial: the history has no view "${this.view}"`);
    const B = hist.shape[0],
      K = hist.shape[1],
      pixels = this.geometry.pixels;
    const out = new Float32Array(B * K * pixels);
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) out.set(block(hist, b, k), (b * K + k) * pixels);
    return out;
  }

  /** Actions [B, H, ...actionShape] as one array [B * H * A]. */
  private stepActions(actions: Tensor, B: number, H: number): Float32Array {
    const A = sizeOf(this.spec.action!);
    const out = new Float32Array(B * H * A);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) out.set(block(actions, b, h), (b * H + h) * A);
    return out;
  }

  /** The disagreement heads, trained on the last fit's data if they are not yet (the same whenever they train). */
  private async trainedHeads(run: RunContext): Promise<DisagreementHeads> {
    if (!this.heads) throw new Error('spatial: this model was saved without disagreement heads; refit it to act()');
    if (this.headsData) {
      const { d, samples, actions, rng } = this.headsData;
      this.summary.act = await this.fitHeads(d, samples, actions, rng, run);
      this.headsData = null;
    }
    return this.heads;
  }

  /**
   * The heads' disagreement summed over an imagined rollout from each of B windows [B]: from the last frames of each
   * history (`q.history`), under its actions `q.actions` [B, H, ...actionShape] (`q.horizon` = H steps). What act()
   * maximises over candidate actions.
   */
  async disagreement(q: Query): Promise<Float64Array> {
    if (!this.heads || !this.dynamics) throw new Error('spatial: disagreement() needs a fitted model with heads');
    if (!q.actions) throw new Error('spatial: disagreement() imagines under actions; the query has none');
    await this.trainedHeads(quietRun(0));
    const B = episodeCount(q.history);
    const K = q.history.views[this.view].shape[1];
    return this.imagine(this.historyFrames(q.history), B, K, this.stepActions(q.actions, B, q.horizon), q.horizon);
  }

  /**
   * Disagreement of n rows [n]: histories `frames` [n * K * pixels] (image layout), raw actions [n * H * A].
   */
  private async imagine(
    frames: Float32Array,
    n: number,
    K: number,
    actions: Float32Array,
    H: number,
  ): Promise<Float64Array> {
    const g = this.geometry;
    const cores = new Float32Array(frames.length);
    for (let i = 0; i < n * K; i++)
      toCore(g, frames.subarray(i * g.pixels, (i + 1) * g.pixels), cores.subarray(i * g.pixels, (i + 1) * g.pixels));
    const { values, A } = this.forecastActions(actions, n * H, false);
    const { halos, last } = contextWindows(this.dynamics!.shape, cores, K, 0, n);
    const engine = await this.spreadEngine(values instanceof Int32Array ? 'int32' : 'float32', A);
    return imaginedDisagreement(engine, halos, last, n, values!, A, H);
  }

  /**
   * act(): for each of B episodes, actCandidates random sequences of actHorizon actions (the same sequences for every
   * episode, drawn from a stream named by the seed, the last fit's size and the history's length), each imagined from
   * the episode's last frames; the first action of the sequence with the most disagreement. [B, ...actionShape].
   */
  private async chooseActions(history: Episodes, run: RunContext): Promise<Tensor> {
    if (!this.dynamics) throw new Error('spatial: act() before fit()');
    await this.trainedHeads(run);
    const spec = this.spec.action!;
    const A = sizeOf(spec),
      N = this.config.actCandidates,
      H = this.config.actHorizon;
    const B = episodeCount(history);
    const steps = history.views[this.view].shape[1];
    const rng = createRng(`${run.seed}/spatial/act/${this.fittedOn}/${steps}`);
    const sequences = candidateActionSequences(spec, N, H, rng); //                         [N * H * A]
    // only the last C frames matter to a rollout: each episode's, repeated for its N candidates
    const C = this.contextFrames,
      K = Math.min(C, steps),
      pixels = this.geometry.pixels;
    const frames = this.historyFrames(history);
    const out = tensor([B, ...spec.shape]);
    const perChunk = Math.max(1, Math.floor(256 / N)); // episodes imagined together (rows of the trunk's batch)
    for (let start = 0; start < B; start += perChunk) {
      const n = Math.min(perChunk, B - start);
      const rows = new Float32Array(n * N * K * pixels);
      const actions = new Float32Array(n * N * H * A);
      for (let b = 0; b < n; b++) {
        const window = frames.subarray(
          ((start + b) * steps + steps - K) * pixels,
          ((start + b) * steps + steps) * pixels,
        );
        for (let c = 0; c < N; c++) rows.set(window, (b * N + c) * K * pixels);
        actions.set(sequences, b * N * H * A);
      }
      const scores = await this.imagine(rows, n * N, K, actions, H);
      for (let b = 0; b < n; b++) {
        let best = 0;
        for (let c = 1; c < N; c++) if (scores[b * N + c] > scores[b * N + best]) best = c;
        block(out, start + b).set(sequences.subarray(best * H * A, best * H * A + A));
      }
    }
    return out;
  }

  /** The rollout of every member for a query [B, H, ...frame] each (one network: one rollout). */
  async memberForecasts(q: Query, run?: RunContext): Promise<Forecast[]> {
    if (!this.dynamics) throw new Error('spatial: forecast() before fit()');
    const hist = q.history.views[this.view];
    if (!hist) throw new Error(`spatial: the query has no view "${this.view}"`);
    const B = episodeCount(q.history),
      K = hist.shape[1],
      H = q.horizon;
    const history = this.historyFrames(q.history);
    const actions = q.actions ? this.stepActions(q.actions, B, H) : null;
    const outsideBefore = this.forecastActionsOutside;
    const outs = await this.predict(history, B, K, actions, H);
    const outside = this.forecastActionsOutside - outsideBefore;
    if (outside > 0)
      run?.log(
        `spatial: ${outside} of ${B * H} forecast actions lie outside the training actions' support; read on it ` +
          `(actionSupport=${this.config.actionSupport}, explain().actionSupport)`,
      );
    return outs.map((out) => ({ mean: tensor([B, H, ...this.spec.views[this.view].shape], out) }));
  }

  /** The members' rollouts averaged pixel by pixel (one network: its rollout). */
  async forecast(q: Query, run?: RunContext): Promise<Forecast> {
    const members = await this.memberForecasts(q, run);
    if (members.length === 1) return members[0];
    const mean = tensor(members[0].mean.shape);
    for (const m of members) for (let i = 0; i < mean.data.length; i++) mean.data[i] += m.mean.data[i] / members.length;
    return { mean };
  }

  explain(): Record<string, unknown> {
    return this.summary;
  }

  async save(dir: string): Promise<void> {
    if (!this.dynamics) throw new Error('spatial: save() before fit()');
    if (this.headsData) await this.trainedHeads(quietRun(0)); // a saved model acts as the fitted one would
    mkdirSync(dir, { recursive: true });
    const dynamicsShapes = this.members.map((member, k) => writeWeights(join(dir, memberFile(k)), member.params()));
    const lamShapes = this.lam ? writeWeights(join(dir, 'latent-actions.f32'), this.lam.params()) : null;
    const tokenizerShapes = this.tokenizer ? writeWeights(join(dir, 'tokenizer.f32'), this.tokenizer.params()) : null;
    const headShapes = this.heads ? writeWeights(join(dir, 'heads.f32'), this.heads.params()) : null;
    const meta = {
      format: FORMAT,
      spec: this.spec,
      view: this.view,
      config: this.config,
      members: this.members.length,
      dynamicsShapes,
      lamShapes,
      tokenizerShapes,
      headShapes,
      fittedOn: this.fittedOn,
      latentMap: this.latentMap,
      actionSupport: this.actionSupport,
      summary: this.summary,
    };
    writeFileSync(join(dir, 'spatial.json'), JSON.stringify(meta));
  }

  static async load(dir: string): Promise<SpatialModel> {
    await initBackend();
    const meta = JSON.parse(readFileSync(join(dir, 'spatial.json'), 'utf8'));
    if (meta.format !== FORMAT) throw new Error(`spatial: ${dir} holds format ${meta.format}, expected ${FORMAT}`);
    // saves from before a config field get its default
    const model = new SpatialModel(meta.spec, meta.view, spatialConfig.resolve(meta.config));
    // saves from before ensembles hold one network, and its shapes unwrapped
    const members: number = meta.members ?? 1;
    const shapes = meta.members ? meta.dynamicsShapes : [meta.dynamicsShapes];
    model.build('load', members); // initial weights are overwritten below
    model.members.forEach((member, k) => readWeights(join(dir, memberFile(k)), member.params(), shapes[k], 'spatial'));
    if (meta.lamShapes) {
      if (!model.lam)
        throw new Error('spatial: saved latent action weights, but the saved config builds no latent action model');
      readWeights(join(dir, 'latent-actions.f32'), model.lam.params(), meta.lamShapes, 'spatial');
    }
    if (model.tokenizer)
      readWeights(join(dir, 'tokenizer.f32'), model.tokenizer.params(), meta.tokenizerShapes, 'spatial');
    // saves from before the disagreement heads hold none: such a model forecasts, and its act() says to refit
    if (model.heads && meta.headShapes)
      readWeights(join(dir, 'heads.f32'), model.heads.params(), meta.headShapes, 'spatial');
    else if (model.heads) {
      model.heads.dispose();
      model.heads = null;
    }
    model.fittedOn = meta.fittedOn ?? 0;
    model.latentMap = meta.latentMap;
    model.actionSupport = meta.actionSupport ?? null;
    model.summary = meta.summary;
    await model.openForecaster();
    return model;
  }

  async dispose(): Promise<void> {
    await this.releaseForecaster();
    this.disposeNetworks();
  }
}

/** The rng label of dynamics member k: member 0 keeps one network's 'dynamics'. */
function memberLabel(k: number): string {
  return k === 0 ? 'dynamics' : `dynamics/${k}`;
}

/** The weights file of dynamics member k: member 0 keeps one network's name. */
function memberFile(k: number): string {
  return k === 0 ? 'dynamics.f32' : `dynamics-${k}.f32`;
}

function round(x: number | null, digits: number): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
