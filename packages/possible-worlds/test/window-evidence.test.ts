// The posterior per forecast window (model.ts, `windowEvidence`): the training evidence times the window's own
// observed steps. On resonance-v1 the expert's small steady swing lets a flexible generic law beat the law of motion on
// the training evidence (it learns where the noisy states lie, a partial denoising no law of motion can do), and that
// law is far off at the large amplitudes where half the test episodes start; the window's first steps there say so.
import { describe, expect, it } from 'vitest';
import { evaluateModel, type Scenario } from '@worldbench/core';
import resonance from '@worldbench/resonance';
import possibleWorlds from '../src/index';

const scenario = resonance as unknown as Scenario;

describe('window evidence', () => {
  // dev seeds 0 and 8: of seeds 0-9 at budget 256, those whose training evidence ranks a generic law first (on the
  // other eight the law of motion leads and both settings forecast alike)
  for (const seed of [0, 8])
    it(`resonance-v1, budget 256, seed ${seed}: lifts skill at h = 1 from below 0 to above 0.6`, async () => {
      const job = (windowEvidence: boolean) =>
        evaluateModel(possibleWorlds, scenario, { view: 'state', budget: 256, seed, config: { windowEvidence } });
      const [on, off] = [await job(true), await job(false)];
      const ranked = (off.explain as { ranked: Array<{ id: string }> }).ranked;
      expect(ranked[0].id).toBe('sparse-nonlinear');
      expect(off.metrics.test.skill['1']).toBeLessThan(0);
      expect(on.metrics.test.skill['1']).toBeGreaterThan(0.6);
    });
});
