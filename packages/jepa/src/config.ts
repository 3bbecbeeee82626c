// The JEPA model's typed config. Every field is a `--model 'jepa[key=value]'` override of the bench.

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
   * How real actions enter the predictor. 'linear': a linear map of the action, zero at the start, is added to
   * each token's predicted next latent, so the action's effect extrapolates to actions outside the training
   * range and a component never varied in training has no effect (hidden-laws: the expert pushes only along
   * +x, the test episodes in every direction); 'token': the action is one more token the blocks attend to.
   */
  realActions: 'linear' | 'token';
  /**
   * Readout of real views. 'change': the probe reads (z_start, z_end - z_start) and returns the change of the
   * state, added to the last observation (its error scales with the change, not with the state); it is odd in
   * the latent change (model.ts `Probe`), so a reversed latent change reads as the reversed change; 'state':
   * the probe reads the predicted latent alone and returns the state.
   */
  realReadout: 'change' | 'state';
  /**
   * Who reads the context (a program). 'predictor': the latents are the state alone and the predictor's first
   * block reads the row each token points at (its value as the probe reads it); 'encoder': the encoder folds
   * the row at each token's value into the latents, and the predictor reads the new row in its last block.
   */
  contextRead: 'predictor' | 'encoder';
  /** Initial strength of the value-as-row-index pointer into the context (categorical states; 0: none): the pc token reads the instruction at pc from step 0. */
  pointerInit: number;
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
   * Passes over the training windows up to `largeFrom` windows, counted at `batchSize`: steps = passes * windows /
   * batchSize, clamped to [minSteps, maxSteps]. 6 keeps the quick bench grid under 5 minutes on 2 cores; more
   * epochs overfit at budget 1024 (code-trace, dev seed 3: 12 epochs 0.45, 24 epochs 0.39 accStep) and help from
   * 4096 on, where the passes grow (`largeFrom`; README).
   */
  epochs: number;
  /**
   * Training windows above which a dataset counts as large (train.ts): the passes grow as
   * epochs * sqrt(windows / largeFrom), and real views roll out `realRolloutSteps`. Budgets up to 1024 (the quick
   * grid, code-trace's overfitting budget) train as with `epochs` and `rolloutSteps`.
   */
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
  realActions: 'linear',
  realReadout: 'change',
  contextRead: 'predictor',
  pointerInit: 4,
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
  epochs: 6,
  largeFrom: 1024,
  minSteps: 24,
  maxSteps: 4000,
  probeFraction: 0.25,
  forecastBackend: 'onnx',
};
