// Diagnosis of spatial's forecast error on one image view (offline protocol, data derived exactly as `pnpm bench`
// does): skill with the true actions, with every action zeroed (a model that ignored actions), where the scaled
// error sits (the share on pixels at the scale's floor: those the training frames almost never lit), and the
// norm of the action encoder's weights per action component.
// Run: pnpm exec tsx packages/spatial/scripts/diagnose-frames.ts <scenario> <budgets a,b> <seeds a-b> [config JSON]
import { block, quietRun, tensor, type Tensor } from '@worldbench/core';
import { linear } from '@worldbench/baselines';
import { loadavg } from 'node:os';
import spatial, { type SpatialModel } from '../src/index';
import { offlineJob, scenarioNamed, seedRange } from './offline-job';

const [name, budgetText, seedText = '0', configText = '{}'] = process.argv.slice(2);
if (!name || !budgetText) throw new Error('usage: diagnose-frames.ts <scenario> <budgets> [seeds A-B] [config JSON]');
const scenario = await scenarioNamed(name);
const { spec } = scenario;
const view = 'frame';
const seeds = seedRange(seedText);
const budgets = budgetText.split(',').map(Number);
const config = JSON.parse(configText);
const round = (x: number | null | undefined, d = 3) => (x == null ? null : +x.toFixed(d));

for (const seed of seeds)
  for (const budget of budgets) {
    const { train, scale, windows: w, score } = offlineJob(scenario, view, budget, seed);
    const run = quietRun(seed);
    const model = (await spatial.create(spec, view, { ...spatial.defaults, ...config })) as SpatialModel;
    const t0 = performance.now();
    await model.fit(train.observed, run);
    const seconds = (performance.now() - t0) / 1000;
    const lin = await linear.create(spec, view, linear.defaults);
    await lin.fit(train.observed, run);
    const withTrue = await model.forecast(w.query, run);
    const zeroed = w.query.actions ? tensor(w.query.actions.shape) : null;
    const withZero = zeroed ? await model.forecast({ ...w.query, actions: zeroed }, run) : withTrue;
    const linTrue = await lin.forecast(w.query, run);
    // share of the h = 1 scaled error on pixels at the scale's floor (those the training frames almost never lit)
    const D = scale.length;
    const floor = Math.min(...scale);
    const rare = Array.from(scale, (s) => s <= floor * 1.0001);
    const share = (mean: Tensor, h = 0) => {
      let all = 0,
        onRare = 0;
      for (let b = 0; b < w.truth.shape[0]; b++) {
        const y = block(w.truth, b, h),
          p = block(mean, b, h);
        for (let d = 0; d < D; d++) {
          const e = ((p[d] - y[d]) / scale[d]) ** 2;
          all += e;
          if (rare[d]) onRare += e;
        }
      }
      return all > 0 ? onRare / all : 0;
    };
    // light forecast over light true at the last step, pooled over windows (above 1: light spread or made up)
    const light = (mean: Tensor, h: number) => {
      let p = 0,
        y = 0;
      for (let b = 0; b < w.truth.shape[0]; b++) {
        for (const x of block(mean, b, h)) p += x;
        for (const x of block(w.truth, b, h)) y += x;
      }
      return y > 0 ? p / y : null;
    };
    const dense = model.dynamics?.actions?.dense;
    const actionNorms = dense
      ? Array.from(dense.w.arraySync() as number[][], (row) => round(Math.hypot(...row)))
      : null;
    const s = score(withTrue),
      z = score(withZero),
      l = score(linTrue);
    const H = String(spec.horizon);
    console.log(
      JSON.stringify({
        scenario: spec.id,
        seed,
        budget,
        skill1: round(s.skill['1']),
        skillH: round(s.skill[H]),
        zeroActionSkill1: round(z.skill['1']),
        zeroActionSkillH: round(z.skill[H]),
        linearSkill1: round(l.skill['1']),
        linearSkillH: round(l.skill[H]),
        rarePixels: rare.filter(Boolean).length,
        rareErrorShare1: round(share(withTrue.mean)),
        rareErrorShareH: round(share(withTrue.mean, spec.horizon - 1)),
        lightRatioH: round(light(withTrue.mean, spec.horizon - 1)),
        actionNorms,
        steps: (model.summary.training as Record<string, unknown>)?.steps,
        seconds: round(seconds, 1),
        load: round(loadavg()[0], 1),
      }),
    );
    await model.dispose?.();
    await lin.dispose?.();
  }
