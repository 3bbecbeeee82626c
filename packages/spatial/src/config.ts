// The spatial model's typed config, its defaults and its validation. Every field can be overridden on the CLI:
// --model 'spatial[rolloutSteps=0]'.

export interface SpatialConfig {
  // region tokenizer
  /** Patch side in pixels; 0 picks the divisor of the frame side closest to 4 (32 -> 4, 30 -> 3 = one sprite tile, 24 -> 4). */
  patchSize: number;
  /** Halo pixels each patch token also reads from its neighbours: 1 covers a one-pixel move and a 3 x 3 neighbourhood rule. */
  halo: number;
  /** Halo outside the frame: 'zero', 'wrap' (a torus), or 'auto' (wrap for scenarios tagged 'cellular-automaton', whose grids are tori). */
  haloPadding: 'zero' | 'wrap' | 'auto';
  /**
   * 'linear': the dynamics embeds each patch's pixels (with halo) across the context frames and predicts each
   * patch's change. 'vq': a VQ autoencoder (tokenizer.ts) first turns each patch into one of `tokenCodes`
   * discrete tokens; the dynamics reads the context frames' tokens and predicts the next frame's token ids
   * (softmax over the codebook, cross-entropy, teacher forcing only), decoded by the tokenizer's decoder; a
   * patch whose id stays keeps its pixels. With 'vq', rolloutSteps, teacherShare, stdWeighting and deadzone do
   * not apply. 'vq' was far worse on the dev seeds (README: skill h = 1 0.05 vs 0.56 on bouncing-balls).
   */
  tokenizer: 'linear' | 'vq';
  /** Codebook size of the 'vq' tokenizer. */
  tokenCodes: number;
  /** Code width of the 'vq' tokenizer. */
  tokenDim: number;
  /** Training steps of the 'vq' tokenizer (each reconstructs every patch of `batchSize` frames; about 0.05 s a step). */
  tokenizerSteps: number;
  // endregion
  // region dynamics
  /**
   * Past frames the dynamics reads (capped by the scenario's historySteps). 0 = auto: 1 for scenarios tagged
   * 'discrete' (grid worlds and automata, whose frame is the whole state), else 3 (velocity and acceleration).
   * One frame also keeps a grid world's dynamics from reading an expert's next move off its last moves
   * (sprite-world offline: ΔtPSNR 0.07 dB with 3 frames, 0.62 dB with 1, budget 1024, seed 0).
   */
  contextFrames: number;
  /** Token width D. 64 trains in about a minute at budget 1024 on one tfjs-wasm thread. */
  width: number;
  /** Transformer blocks (attention across the patches of a frame, then a per-token MLP). */
  depth: number;
  /** Attention heads; width / heads = 16 per head. */
  heads: number;
  /** Each patch token attends to the (2r + 1)^2 patches around it (neighbourhood attention); 1 with depth 2 sees 5 x 5 patches. */
  attentionRadius: number;
  /** Hidden width of each block's MLP, as a multiple of `width`. */
  mlpRatio: number;
  /**
   * Forecast pixels whose predicted change is below this stay as they were: the residual head leaves faint
   * noise everywhere, which compounds over a rollout and which the bench's mse weighs heavily on pixels that
   * are almost never lit.
   */
  deadzone: number;
  /** Extra steps the model is trained on its own rollouts (self-forcing); 0 is pure teacher forcing. */
  rolloutSteps: number;
  /** Share of the training steps done with teacher forcing before self-forcing starts (rollouts cost a forward pass per step each). */
  teacherShare: number;
  /**
   * Share of the loss on the bench's mse scale (each pixel's error over its train std squared); the rest is plain MSE.
   * 1 cures faint noise on rarely lit pixels (hidden-laws h = 1 skill -70 -> 0.0) but costs bouncing-balls h = 1
   * (0.63 -> 0.50); 0.5 keeps most of both (seed 0, budget 1024).
   */
  stdWeighting: number;
  // endregion
  // region actions
  /** Train action-free: the dynamics is conditioned on latent actions only; true actions are mapped to latents with a few labelled transitions. */
  actionFree: boolean;
  /** Latent-action codebook size (Genie uses 8); 0 skips the latent action model unless actionFree. */
  latentActions: number;
  /** Width of the l2-normalised latent-action codes. */
  latentDim: number;
  /** Labelled transitions used to map true actions to latent actions in action-free mode (int actions: at most labelled / vocab of each value). */
  labelled: number;
  /** Weight of the latent action model's commitment loss (VQ-VAE's beta). */
  commitment: number;
  // endregion
  // region training
  /** Examples per step. */
  batchSize: number;
  /** Peak learning rate (Adam, warm-up then cosine decay). */
  lr: number;
  /** Passes over the training transitions; the step count is epochs * n / batchSize, clamped to [minSteps, maxSteps]. */
  epochs: number;
  /** At least this many steps, so tiny budgets still train. */
  minSteps: number;
  /** At most this many steps, so large budgets stay within the bench's time (a step count, not a clock: fits stay deterministic). */
  maxSteps: number;
  /** Share of the training transitions held out for early stopping (0: none). */
  holdout: number;
  /** Holdout evaluations (one per epoch-sized chunk) without improvement before stopping. */
  patience: number;
  /** Steps of the latent action model per step of the dynamics. */
  lamStepShare: number;
  // endregion
  // region forecasting
  /**
   * What runs the forecasts after a fit: 'onnx' exports the dynamics' rollout step and runs it in ONNX Runtime
   * (one thread; same forecasts as tfjs within 1e-4, several times faster), 'tfjs' keeps the training backend.
   */
  forecastBackend: 'onnx' | 'tfjs';
  // endregion
}

export const spatialDefaults: SpatialConfig = {
  patchSize: 0,
  halo: 1,
  haloPadding: 'auto',
  tokenizer: 'linear',
  tokenCodes: 64,
  tokenDim: 16,
  tokenizerSteps: 600,
  contextFrames: 0,
  width: 64,
  depth: 2,
  heads: 4,
  attentionRadius: 1,
  mlpRatio: 2,
  deadzone: 0.02,
  rolloutSteps: 1,
  teacherShare: 0.5,
  stdWeighting: 0.5,
  actionFree: false,
  latentActions: 8,
  latentDim: 16,
  labelled: 40,
  commitment: 0.25,
  batchSize: 32,
  lr: 2e-3,
  epochs: 8,
  minSteps: 30,
  maxSteps: 1200,
  holdout: 0.1,
  patience: 6,
  lamStepShare: 0.5,
  forecastBackend: 'onnx',
};

/**
 * The full config from the defaults and overrides; throws on an unknown key (listing the valid ones), a value
 * of the wrong type, or a value out of range. The runner checks key names and types of CLI overrides too;
 * this also covers configs passed in code (evaluateModel, tests).
 */
export function resolveSpatialConfig(overrides: object = {}): SpatialConfig {
  const valid = Object.keys(spatialDefaults);
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in spatialDefaults)) throw new Error(`spatial has no config key "${key}"; valid: ${valid.join(', ')}`);
    const want = typeof spatialDefaults[key as keyof SpatialConfig];
    if (typeof value !== want) throw new Error(`spatial config ${key} = ${JSON.stringify(value)}: expected a ${want}`);
  }
  const c: SpatialConfig = { ...spatialDefaults, ...overrides };
  const problems: string[] = [];
  if (!['zero', 'wrap', 'auto'].includes(c.haloPadding)) problems.push(`haloPadding is 'zero', 'wrap' or 'auto', got '${c.haloPadding}'`);
  if (!['linear', 'vq'].includes(c.tokenizer)) problems.push(`tokenizer is 'linear' or 'vq', got '${c.tokenizer}'`);
  if (!['onnx', 'tfjs'].includes(c.forecastBackend)) problems.push(`forecastBackend is 'onnx' or 'tfjs', got '${c.forecastBackend}'`);
  const ints: Array<[keyof SpatialConfig, number]> = [['patchSize', 0], ['halo', 0], ['contextFrames', 0], ['width', 1], ['depth', 0], ['heads', 1], ['attentionRadius', 0], ['mlpRatio', 1], ['rolloutSteps', 0], ['latentActions', 0], ['latentDim', 1], ['tokenCodes', 2], ['tokenDim', 1], ['tokenizerSteps', 1], ['labelled', 1], ['batchSize', 1], ['minSteps', 1], ['maxSteps', 1], ['patience', 1]];
  for (const [key, min] of ints) if (!Number.isInteger(c[key]) || (c[key] as number) < min) problems.push(`${key} is an integer >= ${min}, got ${c[key]}`);
  const shares: Array<keyof SpatialConfig> = ['teacherShare', 'stdWeighting', 'holdout', 'lamStepShare'];
  for (const key of shares) if (!((c[key] as number) >= 0 && (c[key] as number) <= 1)) problems.push(`${key} is in [0, 1], got ${c[key]}`);
  for (const key of ['lr', 'epochs'] as const) if (!(c[key] > 0)) problems.push(`${key} is > 0, got ${c[key]}`);
  for (const key of ['deadzone', 'commitment'] as const) if (!(c[key] >= 0)) problems.push(`${key} is >= 0, got ${c[key]}`);
  if (c.width % c.heads !== 0) problems.push(`width ${c.width} is not divisible by heads ${c.heads}`);
  if (problems.length) throw new Error(`spatial config: ${problems.join('; ')}`);
  return c;
}
