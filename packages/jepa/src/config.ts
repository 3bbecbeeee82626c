// The JEPA model's typed config. Every field is a `--model 'jepa[key=value]'` override of the bench.
// Two choices are the design, not keys (README, *How it works*): real actions enter the predictor as a linear
// map, zero at the start, added to each token's next latent (the effect extrapolates to actions outside the
// training range; a component never varied in training has none), and the program (code-trace) is read by the
// pointer token alone (pointer.ts: a register reading rows by its value fingerprints the program).

export interface JepaConfig {
  /** Width D of every token (latent, context and predictor): 64 holds a 21-value register exactly and trains fast on wasm. */
  width: number;
  /** Attention heads (width / heads per head): 4 heads of 16 let the pc look up its row while registers look at each other. */
  heads: number;
  /** Transformer blocks of the context encoder: 2 are enough to mix the state tokens and read the current instruction. */
  encoderLayers: number;
  /** Transformer blocks of the predictor: 3, since one step of code-trace is a 3-hop computation (pc -> row -> operands -> result). */
  predictorLayers: number;
  /** Observed steps the encoder reads for real views (capped at the scenario's historySteps): 4 lets it infer an episode's hidden parameters (stiffness, gravity) from its motion. */
  historySteps: number;
  /**
   * Readout of real views. 'change': the probe reads (z_start, z_end - z_start) and returns the change of the
   * state, added to the last observation (its error scales with the change, not with the state); it is odd in
   * the latent change (model.ts `Probe`), so a reversed latent change reads as the reversed change; 'state':
   * the probe reads the predicted latent alone and returns the state.
   */
  realReadout: 'change' | 'state';
  /** Hidden width of each block's MLP, as a multiple of `width`: 2 (not the usual 4) halves the cost and loses nothing measurable here. */
  mlpRatio: number;
  /** Predictor steps fed its own outputs per training example (V-JEPA 2-AC rollout loss) for int/token views; 0 or 1 = teacher forcing only, on every view. */
  rolloutSteps: number;
  /**
   * The same for real views on large datasets (more than `largeFrom` windows; smaller ones use `rolloutSteps`: a
   * step costs ~3x at k = 8, and the quick grid must stay under 5 minutes). Their change readout decodes the
   * change over h steps from (z_0, zhat_h - z_0), and the probe learns it only for h <= k: with k = 2 it
   * extrapolates at h = 8 (README: dev seed 3, budget 4096, skill at h = 8 with k = 8 and 12 passes: hidden-laws
   * 0.907, bouncing-balls 0.742; with k = 2 and 24 passes: 0.855, 0.650).
   */
  realRolloutSteps: number;
  /** EMA momentum of the target encoder at the first step; short runs (hundreds of steps) need a target that follows quickly. */
  emaMomentum: number;
  /** EMA momentum at the last step, reached by a cosine schedule (I-JEPA raises it to 1: the target freezes as training ends). */
  emaMomentumEnd: number;
  /** Weight of the VICReg variance hinge (std of every latent dimension >= 1 across the batch, per token position): against collapse. */
  varianceWeight: number;
  /** Weight of the VICReg covariance penalty (off-diagonal covariance of the latents, per token position): spreads information over dimensions. */
  covarianceWeight: number;
  /** Hidden width of the readout probe's one hidden layer (0: a linear probe); the probe reads frozen latents only. */
  probeHidden: number;
  /** Also train the probe on the predictor's (frozen) rollout latents, which is what it decodes at forecast time. */
  probeOnPredictions: boolean;
  /** Peak learning rate of Adam (warm-up then cosine decay to a tenth). */
  lr: number;
  /** Decoupled weight decay (AdamW) of the encoder, predictor and probe; small: the datasets are small. */
  weightDecay: number;
  /** Training examples (rollout windows) per step, at most. */
  batchSize: number;
  /** State tokens per minibatch, at most: states of many tokens (grids in patches: 25-36 tokens) get smaller batches (10-15), since a step's cost grows with batch x tokens; code-trace (5 tokens) and the real views keep `batchSize`. */
  batchTokens: number;
  /**
   * Passes over the training windows up to `growFrom` windows, counted at `batchSize`: steps = passes * windows /
   * batchSize, clamped to [minSteps, maxSteps]. 12: at 6 the budgets 256 and 1024 were under-trained (dev seeds
   * 0-4, median: code-trace accStep 0.31 -> 0.47 at 256 and 0.50 -> 0.56 at 1024, hidden-laws skill h = 1
   * 0.32 -> 0.48 and 0.60 -> 0.69; README), and the quick grid stays under 5 minutes (2 min 23 s).
   */
  epochs: number;
  /**
   * Training windows above which the passes grow as epochs * sqrt(windows / growFrom): 4096 with 12 epochs is the
   * same curve as the earlier 6 * sqrt(windows / 1024) above 4096 windows, where it was chosen (README).
   */
  growFrom: number;
  /** Training windows above which real views roll out `realRolloutSteps` instead of `rolloutSteps` (train.ts `rolloutStepsFor`). */
  largeFrom: number;
  /** Fewest optimiser steps, so that tiny budgets still train. */
  minSteps: number;
  /** Most optimiser steps: caps the fit time of large budgets (deterministic, unlike a wall-clock cap). */
  maxSteps: number;
  /** Probe-only steps after the JEPA phase, as a fraction of its steps, on the final frozen latents (the probe trained alongside chased moving latents). */
  probeFraction: number;
  /**
   * Who runs the forecasts after a fit. 'onnx': the forecast's networks are exported to ONNX and run in ONNX
   * Runtime (one thread; same forecasts as tfjs within 1e-4, several times faster: README); 'tfjs': the
   * training backend runs them too. Training is always tfjs.
   */
  forecastBackend: 'onnx' | 'tfjs';
}

export const jepaDefaults: JepaConfig = {
  width: 64,
  heads: 4,
  encoderLayers: 2,
  predictorLayers: 3,
  historySteps: 4,
  realReadout: 'change',
  mlpRatio: 2,
  rolloutSteps: 2,
  realRolloutSteps: 8,
  emaMomentum: 0.99,
  emaMomentumEnd: 1,
  varianceWeight: 1,
  covarianceWeight: 0.04,
  probeHidden: 128,
  probeOnPredictions: true,
  lr: 2e-3,
  weightDecay: 1e-4,
  batchSize: 64,
  batchTokens: 384,
  epochs: 12,
  growFrom: 4096,
  largeFrom: 1024,
  minSteps: 24,
  maxSteps: 4000,
  probeFraction: 0.25,
  forecastBackend: 'onnx',
};

/** Keys of retired designs (README, *How it works*), with what became of each: a config naming one is refused with this. */
export const jepaRetiredKeys: Readonly<Record<string, string>> = {
  contextRead: "the program is read by the pointer token alone; the attention readers 'predictor' and 'encoder' let the registers fingerprint the program and were deleted",
  pointerInit: "the pointer strength of the attention readers of the program, deleted with contextRead",
  realActions: "real actions always enter as a linear map added to each token's next latent; 'token' (the action as one more token) was deleted",
};
