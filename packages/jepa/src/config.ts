// The JEPA model's config: one row per field (type, default, range or choices, and why). Every field is a
// `--model 'jepa[key=value]'` override of the bench; `pnpm bench list --config jepa` prints the table.
// Two choices are the design, not keys (README, *How it works*): real actions enter the predictor as a linear
// map, zero at the start, added to each token's next latent (the effect extrapolates to actions outside the
// training range; a component never varied in training has none), and the program (code-trace) is read by the
// pointer token alone (pointer.ts: a register reading rows by its value fingerprints the program).
// The measurements behind the defaults are in docs/experiments/ (jepa-*.md).
import { defineConfig, z, type ConfigOf } from '@worldbench/core';

const count = (min: number) => z.number().int().min(min);

export const jepaConfig = defineConfig(
  'jepa',
  {
    width: count(1)
      .default(64)
      .describe(
        'Width D of every token (latent, context, predictor): 64 holds a 21-value register exactly and trains fast ' +
          'on wasm.',
      ),
    gridEncoder: z
      .enum(['local', 'patches'])
      .default('local')
      .describe(
        "Categorical grids of more than 36 cells: 'local', a token per cell mixed with its 3 x 3 neighbours (as a " +
          "convolution), or 'patches', a token per p x p patch mixed by attention (could not learn cell rules).",
      ),
    cellWidth: count(1)
      .default(16)
      .describe(
        "Width D of every token when gridEncoder is 'local': a cell holds one value; a step costs cells x D^2.",
      ),
    // A grid read cell by cell is scheduled apart (schedule.ts scheduleFor): every window holds an example of the
    // local rule per cell, and a step costs cells x cellWidth^2. At 8 windows, 12 passes and a 2-step rollout the
    // life-like job of the quick grid took 160 s alone; 4 windows, 6 passes (the same 1536 steps at 1024) and teacher
    // forcing take a third of that and read the dev seeds as well (docs/experiments: jepa grid schedule).
    cellBatch: count(1)
      .default(4)
      .describe("Windows per step on a grid read cell by cell: 4 of 576 cells are 2304 examples of the cell's rule."),
    cellEpochs: z
      .number()
      .gt(0)
      .default(6)
      .describe('Passes over the training windows on a grid read cell by cell (as epochs: they grow beyond growFrom).'),
    cellRolloutSteps: count(0)
      .default(1)
      .describe(
        'Predictor steps fed its own outputs per window on a grid read cell by cell: 1, teacher forcing, learnt the ' +
          'rule as well as 2 at two thirds of the cost.',
      ),
    heads: count(1)
      .default(4)
      .describe('Attention heads: 4 of 16 let the pc look up its row while registers look at each other.'),
    encoderLayers: count(0)
      .default(2)
      .describe('Transformer blocks of the context encoder: 2 mix the state tokens and read the current instruction.'),
    predictorLayers: count(0)
      .default(3)
      .describe(
        'Transformer blocks of the predictor: 3, as one code-trace step is 3 hops (pc -> row -> operands -> result).',
      ),
    historySteps: count(0)
      .default(4)
      .describe(
        "Observed steps the encoder reads for real views (capped at the scenario's): 4 infer hidden parameters from " +
          'motion.',
      ),
    // 'change': the probe reads (z_start, z_end - z_start) and returns the change of the state, added to the last
    // observation; it is odd in the latent change (model.ts `Probe`), so a reversed latent change reads as the
    // reversed change. 'state': the probe reads the predicted latent alone.
    realReadout: z
      .enum(['change', 'state'])
      .default('change')
      .describe("Readout of real views: 'change' (error scales with the change, not the state) or 'state'."),
    mlpRatio: count(1)
      .default(2)
      .describe(
        "Hidden width of each block's MLP, in multiples of width: 2 (not the usual 4) halves the cost, loses " +
          'nothing here.',
      ),
    rolloutSteps: count(0)
      .default(2)
      .describe(
        'Predictor steps fed its own outputs per example (V-JEPA 2-AC rollout loss), int/token views; 0 or 1: ' +
          'teacher forcing.',
      ),
    // A step costs ~3x at k = 8, and the quick grid must stay under 5 minutes, so only large datasets roll out
    // this far. The change readout decodes the change over h steps from (z_0, zhat_h - z_0) and learns it only for
    // h <= k: with k = 2 it extrapolates at h = 8 (docs/experiments: jepa real rollout steps).
    realRolloutSteps: count(0)
      .default(8)
      .describe(
        'Rollout steps for real views on more than largeFrom windows: the probe learns the change only for h <= k.',
      ),
    emaMomentum: z
      .number()
      .min(0)
      .max(1)
      .default(0.99)
      .describe('EMA momentum of the target encoder at the first step: short runs need a target that follows quickly.'),
    emaMomentumEnd: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe(
        'EMA momentum at the last step, by a cosine schedule (I-JEPA raises it to 1: the target freezes at the end).',
      ),
    varianceWeight: z
      .number()
      .min(0)
      .default(1)
      .describe(
        'Weight of the VICReg variance hinge (std of each latent dimension >= 1 across the batch): against collapse.',
      ),
    covarianceWeight: z
      .number()
      .min(0)
      .default(0.04)
      .describe(
        'Weight of the VICReg covariance penalty (off-diagonal covariance): spreads information over dimensions.',
      ),
    probeHidden: count(0)
      .default(128)
      .describe('Hidden width of the readout probe (0: linear); the probe reads frozen latents only.'),
    changeWeight: z
      .number()
      .min(0)
      .default(0)
      .describe(
        'Weight in the latent loss of a categorical token whose value changes over the step, against 1 for one ' +
          'that stays, so rare changes (a moving agent) are not lost among still tokens; 0: balanced, the square ' +
          "root of the training data's still-to-changed token ratio, from 1 to 20.",
      ),
    // 4, not 1: sprite-world's encoder kept its rare values (the agent off the goal) only at 4 (skill h = 1 at 4096
    // 0.452 -> 0.667), for a small cost on two code-trace seeds (docs/experiments: jepa sprite-world anchor)
    anchorWeight: z
      .number()
      .min(0)
      .default(4)
      .describe(
        'Weight of the anchor: a readout head trained with the online encoder to read s_t from its latents, so ' +
          'the encoder keeps values the latent prediction finds hard to predict (0: none).',
      ),
    probeOnPredictions: z
      .boolean()
      .default(true)
      .describe(
        "Also train the probe on the predictor's frozen rollout latents, which is what it decodes at forecast time.",
      ),
    lr: z.number().gt(0).default(2e-3).describe('Peak learning rate of Adam (warm-up, then cosine decay to a tenth).'),
    weightDecay: z
      .number()
      .min(0)
      .default(1e-4)
      .describe('Decoupled weight decay (AdamW) of encoder, predictor and probe; small, as the datasets are small.'),
    batchSize: count(1).default(64).describe('Training examples (rollout windows) per step, at most.'),
    batchTokens: count(1)
      .default(384)
      .describe(
        'State tokens per minibatch, at most: a step costs batch x tokens, so states of many tokens get smaller ' +
          'batches.',
      ),
    // steps = passes * windows / batchSize, clamped to [minSteps, maxSteps]; at 6 passes the budgets 256 and 1024
    // were under-trained, and 12 keeps the quick grid under 5 minutes (docs/experiments: jepa training passes).
    epochs: z
      .number()
      .gt(0)
      .default(12)
      .describe('Passes over the training windows up to growFrom windows, counted at batchSize.'),
    growFrom: count(1)
      .default(4096)
      .describe('Training windows above which the passes grow as epochs * sqrt(windows / growFrom).'),
    largeFrom: count(1)
      .default(1024)
      .describe('Training windows above which real views roll out realRolloutSteps instead of rolloutSteps.'),
    minSteps: count(1).default(24).describe('Fewest optimiser steps, so that tiny budgets still train.'),
    maxSteps: count(1)
      .default(4000)
      .describe('Most optimiser steps: caps the fit time of large budgets (deterministic, unlike a wall-clock cap).'),
    probeFraction: z
      .number()
      .min(0)
      .default(0.25)
      .describe('Probe-only steps after the JEPA phase, as a share of its steps, on the final frozen latents.'),
    // fed its own latents, the predictor drifts off the encoder's latents within a few steps: life-like read every
    // step exactly at h = 1 and skill 0 at h = 32; decoded, 1.0 (docs/experiments: jepa decoded rollouts)
    categoricalRollout: z
      .enum(['latent', 'decoded'])
      .default('decoded')
      .describe(
        "Rollouts of categorical views: 'decoded' reads each step's state with the probe and encodes it again for " +
          "the next step; 'latent' feeds the predictor its own latents.",
      ),
    // the probe reads the change over h steps only as far as h = k, the rollout length of training; read further it
    // extrapolates: hidden-laws h = 16 at 1024 (k = 2) median 0.497 latent, 0.800 anchored (docs/experiments: jepa
    // anchored real rollouts)
    realRollout: z
      .enum(['latent', 'anchored'])
      .default('anchored')
      .describe(
        "Rollouts of real views read by their change: 'anchored' encodes the decoded states again every k steps (k " +
          "the rollout length of training, beyond which the probe never learnt to read); 'latent' never does.",
      ),
    // act(), Plan2Explore-style (act.ts): defaults fixed before any measurement (docs/experiments: jepa act
    // disagreement); 4 heads as Plan2Explore's smallest ensembles, a horizon of an eighth to a quarter of a swing
    actHeads: count(1)
      .default(4)
      .describe(
        'K: disagreement heads for act(), each predicting the next latent from the latent and the action; 1: no act().',
      ),
    actHeadHidden: count(1).default(64).describe('Hidden width of each disagreement head (a one-hidden-layer MLP).'),
    actHeadSteps: count(1)
      .default(300)
      .describe("Adam steps of the heads, after the model's training, on its frozen latents (its cost knob)."),
    actHorizon: count(1)
      .default(12)
      .describe("Steps of the action sequences act() scores by the heads' disagreement summed over the steps."),
    actCandidates: count(1).default(64).describe('Action sequences act() scores per episode and iteration.'),
    actIterations: count(1)
      .default(3)
      .describe('Iterations of the cross-entropy method over the sequences (1: random shooting).'),
    forecastBackend: z
      .enum(['onnx', 'tfjs'])
      .default('onnx')
      .describe("Who runs forecasts after a fit: 'onnx' (ONNX Runtime, same forecasts within 1e-4, faster) or 'tfjs'."),
  },
  {
    check: (c) => (c.width % c.heads === 0 ? [] : [`width ${c.width} must be divisible by heads ${c.heads}`]),
    // keys of retired designs (README, *How it works*), with what became of each
    retiredKeys: {
      contextRead:
        "the program is read by the pointer token alone; the attention readers 'predictor' and 'encoder' let the " +
        'registers fingerprint the program and were deleted',
      pointerInit: 'the pointer strength of the attention readers of the program, deleted with contextRead',
      realActions:
        "real actions always enter as a linear map added to each token's next latent; 'token' (the action as one " +
        'more token) was deleted',
    },
  },
);

export type JepaConfig = ConfigOf<typeof jepaConfig>;

export const jepaDefaults: JepaConfig = jepaConfig.defaults;
