// The spatial model's config: one row per field (type, default, range or choices, and why). Every field can be
// overridden on the CLI (--model 'spatial[rolloutSteps=0]'); `pnpm bench list --config spatial` prints the table.
// The measurements behind the defaults are in docs/experiments/ (spatial-*.md).
import { defineConfig, z, type ConfigOf } from '@worldbench/core';

const count = (min: number) => z.number().int().min(min);
const share = () => z.number().min(0).max(1);

export const spatialConfig = defineConfig(
  'spatial',
  {
    // region tokenizer
    patchSize: count(0)
      .default(0)
      .describe(
        'Patch side in pixels; 0 picks the divisor of the frame side closest to 4 (32 -> 4, 30 -> 3 = one tile).',
      ),
    halo: count(0)
      .default(1)
      .describe(
        'Halo pixels each patch token also reads from its neighbours: 1 covers a one-pixel move and a 3 x 3 rule.',
      ),
    haloPadding: z
      .enum(['zero', 'wrap', 'auto'])
      .default('auto')
      .describe(
        "Halo outside the frame: 'wrap' (a torus), 'zero', or 'auto' (wrap for 'cellular-automaton' scenarios).",
      ),
    // 'linear': the dynamics embeds each patch's pixels (with halo) across the context frames and predicts each
    // patch's change. 'vq': a VQ autoencoder (tokenizer.ts) first turns each patch into one of `tokenCodes`
    // tokens; the dynamics predicts the next frame's token ids (cross-entropy, teacher forcing only), decoded by
    // the tokenizer; rolloutSteps, teacherShare, stdWeighting and deadzone do not apply. 'vq' was far worse on the
    // dev seeds (README, *How it works*).
    tokenizer: z
      .enum(['linear', 'vq'])
      .default('linear')
      .describe(
        "'linear' predicts each patch's change from its pixels; 'vq' predicts discrete patch tokens (worse here).",
      ),
    tokenCodes: count(2).default(64).describe("Codebook size of the 'vq' tokenizer."),
    tokenDim: count(1).default(16).describe("Code width of the 'vq' tokenizer."),
    tokenizerSteps: count(1)
      .default(600)
      .describe("Training steps of the 'vq' tokenizer (each reconstructs every patch of batchSize frames)."),
    // endregion
    // region dynamics
    // One frame also keeps a grid world's dynamics from reading an expert's next move off its last moves.
    contextFrames: count(0)
      .default(0)
      .describe(
        "Past frames the dynamics reads; 0 = auto: 1 for 'discrete' scenarios (the frame is the state), else 3.",
      ),
    width: count(1)
      .default(64)
      .describe('Token width D: 64 trains in about a minute at budget 1024 on one tfjs-wasm thread.'),
    depth: count(0)
      .default(2)
      .describe('Transformer blocks (attention across the patches of a frame, then a per-token MLP).'),
    heads: count(1).default(4).describe('Attention heads: width / heads = 16 per head.'),
    attentionRadius: count(0)
      .default(1)
      .describe('Each patch attends to the (2r + 1)^2 patches around it; 1 with depth 2 sees 5 x 5 patches.'),
    mlpRatio: count(1).default(2).describe("Hidden width of each block's MLP, in multiples of width."),
    // the residual head leaves faint noise everywhere, which compounds over a rollout and which the bench's mse
    // weighs heavily on pixels that are almost never lit
    deadzone: z
      .number()
      .min(0)
      .default(0.02)
      .describe('Forecast pixels whose predicted change is below this stay as they were (against compounding noise).'),
    rolloutSteps: count(0)
      .default(1)
      .describe(
        'Extra steps the model is trained on its own rollouts (self-forcing); 0 is pure teacher forcing at any size.',
      ),
    teacherShare: share()
      .default(0.5)
      .describe('Share of training steps with teacher forcing before self-forcing starts (rollouts cost a pass each).'),
    // From 2048 transitions, 3 self-forcing steps in the last quarter of training: bouncing-balls' h = 16 went from
    // below persistence to about 0.45 at 4096 with h = 1 kept (3 steps over half the training cost hidden-laws 0.07
    // of h = 1; 2 steps helped neither). At 256 the same schedule fell below persistence at h = 1 on bouncing-balls:
    // a small dataset keeps rolloutSteps and teacherShare (docs/experiments: training for the scored horizon).
    largeFrom: count(1)
      .default(2048)
      .describe('Training transitions from which largeRolloutSteps, largeTeacherShare and largeEnsemble apply.'),
    largeRolloutSteps: count(0)
      .default(3)
      .describe(
        'rolloutSteps from largeFrom transitions (unless rolloutSteps is 0): long rollouts pay once the one-step ' +
          'model is good.',
      ),
    largeTeacherShare: share().default(0.75).describe('teacherShare from largeFrom transitions.'),
    // One network's long rollouts depend on its initial weights and batch order far more than its one-step skill
    // does (hidden-laws at 1024, seed 1000: skill h = 16 of -0.13, -2.67 and -1.23 for three initialisations). The
    // average of the members' rollouts is the forecast (hidden-laws' h = 16 median at 4096: -0.084 -> 0.265); each
    // member costs one dynamics fit and one rollout, so small budgets keep one (docs/experiments: spatial ensembles).
    ensemble: count(1)
      .default(1)
      .describe(
        'Dynamics networks trained independently on the same data (own initial weights and batch order); the ' +
          'forecast averages their rollouts. 1 = one network.',
      ),
    largeEnsemble: count(1)
      .default(3)
      .describe('ensemble from largeFrom transitions (unless ensemble is set above 1).'),
    // 1 cut faint noise on rarely lit pixels but cost bouncing-balls skill; 0.5 kept most of both (chosen before
    // the action support: most of hidden-laws' error there came from untrained action weights, see actionSupport)
    stdWeighting: share()
      .default(0.5)
      .describe(
        "Share of the loss with each pixel's error over its training std squared (as the bench's mse weighs " +
          "dimensions by a std, the test split's); the rest is plain MSE.",
      ),
    // endregion
    // region actions
    actionFree: z
      .boolean()
      .default(false)
      .describe('Train on latent actions only; true actions are mapped to latents with a few labelled transitions.'),
    // a linear action encoder learns nothing along action directions the training data never varied (their
    // weights keep their random initial values) and extrapolates badly beyond the range it saw: hidden-laws'
    // expert pushes x in [0, 1] only, and read as given a push toward -x threw the forecast off ('span');
    // holding it to the range seen ('clip') lost nothing on bouncing-balls (action-support.ts)
    actionSupport: z
      .enum(['clip', 'span', 'raw'])
      .default('clip')
      .describe(
        "Real actions: 'span' drops their part along directions the training actions never varied; 'clip' also " +
          "holds them to the range seen; 'raw' as given. Unless 'raw', action ids never trained on embed as zero.",
      ),
    latentActions: count(0)
      .default(8)
      .describe('Latent-action codebook size (Genie uses 8); 0 skips the latent action model unless actionFree.'),
    latentDim: count(1).default(16).describe('Width of the l2-normalised latent-action codes.'),
    labelled: count(1)
      .default(40)
      .describe(
        'Labelled transitions that map true actions to latent ones in action-free mode (int: labelled / vocab each).',
      ),
    commitment: z
      .number()
      .min(0)
      .default(0.25)
      .describe("Weight of the latent action model's commitment loss (VQ-VAE's beta)."),
    // endregion
    // region acting (on-policy: act(), Plan2Explore's disagreement; disagreement.ts)
    // Defaults fixed before any measurement: 4 heads as the issue proposes (Plan2Explore used 5); a short horizon,
    // because the heads read the dynamics' own imagined frames, whose error compounds; 32 sequences, as many as
    // possible-worlds' planner scores per iteration.
    disagreementHeads: count(1)
      .default(4)
      .describe(
        "Heads on the dynamics' trunk (trunk fixed) whose disagreement act() maximises; 1 = no heads and no act().",
      ),
    // the heads' output layer starts at zero (they agree everywhere before training); on resonance frames (dev seed 0,
    // budget 256) their disagreement away from the data (the test split's large swings) over that on the training
    // windows was 4.1 with the dynamics' step count and 15.6 with 4 times it, at 0.8 s more
    headStepRatio: count(1)
      .default(4)
      .describe("Training steps of the disagreement heads per step of the dynamics' (small heads, fixed features)."),
    actHorizon: count(1)
      .default(8)
      .describe('act(): imagined steps each candidate action sequence is scored over (disagreement summed over them).'),
    actCandidates: count(1)
      .default(32)
      .describe("act(): random action sequences scored per episode and step; the best one's first action is taken."),
    // endregion
    // region training
    batchSize: count(1).default(32).describe('Examples per step.'),
    lr: z.number().gt(0).default(2e-3).describe('Peak learning rate (Adam, warm-up then cosine decay).'),
    epochs: z
      .number()
      .gt(0)
      .default(8)
      .describe('Passes over the training transitions: epochs * n / batchSize steps, clamped to [minSteps, maxSteps].'),
    minSteps: count(1).default(30).describe('At least this many steps, so tiny budgets still train.'),
    maxSteps: count(1)
      .default(1200)
      .describe(
        "At most this many steps, so large budgets stay within the bench's time (a count, not a clock: deterministic).",
      ),
    holdout: share().default(0.1).describe('Share of the training transitions held out for early stopping (0: none).'),
    patience: count(1)
      .default(6)
      .describe('Holdout evaluations (one per epoch-sized chunk) without improvement before stopping.'),
    lamStepShare: share().default(0.5).describe('Steps of the latent action model per step of the dynamics.'),
    // endregion
    // region forecasting
    forecastBackend: z
      .enum(['onnx', 'tfjs'])
      .default('onnx')
      .describe(
        "What runs forecasts after a fit: 'onnx' (ONNX Runtime, same within 1e-4, several times faster) or 'tfjs'.",
      ),
    // endregion
  },
  { check: (c) => (c.width % c.heads === 0 ? [] : [`width ${c.width} is not divisible by heads ${c.heads}`]) },
);

export type SpatialConfig = ConfigOf<typeof spatialConfig>;

export const spatialDefaults: SpatialConfig = spatialConfig.defaults;
