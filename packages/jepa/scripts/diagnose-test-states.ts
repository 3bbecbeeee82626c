// A diagnosis (dev seeds), not a figure: where jepa's one-step forecast of a categorical state view goes wrong on
// the test windows. Fits jepa as `pnpm bench` does (evaluateModel), then on every test transition reads
//   enc    the probe on the target encoder's latents of s_{t+1} (is the state kept in the latents at all?)
//   pred   the probe on the predictor's latents from s_t and a_t (the forecast at h = 1)
//   pers   persistence (s_{t+1} = s_t)
// whole-state right or wrong, grouped by the action and whether the state changed.
// Run: pnpm exec tsx packages/jepa/scripts/diagnose-test-states.ts <scenario> <budget> <seed> [config JSON]
//   e.g. pnpm exec tsx packages/jepa/scripts/diagnose-test-states.ts sprite-world 1024 0 '{"anchorWeight":0}'
import { evaluateModel, evaluationSet } from '@worldbench/core';
import { tf, tfjsOps } from '@worldbench/neural';
import { scenarioNamed } from '../../../scripts/figures/common';
import { buildTrainingSet, inputOf, statesOf, windowBatch } from '../src/batch';
import { latentDiagnostics } from '../src/diagnostics';
import jepa from '../src/index';
import { type Geometry, type Networks, rollout } from '../src/model';

const [name, budgetText, seedText, configText = '{}'] = process.argv.slice(2);
if (!name || !budgetText || !seedText) {
  console.error('usage: diagnose-test-states.ts <scenario> <budget> <seed> [config JSON]');
  process.exit(2);
}
const scenario = await scenarioNamed(name);
const seed = Number(seedText);
const r = await evaluateModel(jepa, scenario, {
  view: 'state',
  budget: Number(budgetText),
  seed,
  config: JSON.parse(configText),
});
const { skill, accStep, accElement } = r.metrics.test;
console.log('test h=1', JSON.stringify({ skill: skill['1'], accStep: accStep?.['1'], accElement: accElement?.['1'] }));
// the fitted model's networks and geometry (private fields of jepa's WorldModel)
const { nets, geometry } = r.model as unknown as { nets: Networks; geometry: Geometry };
const test = evaluationSet(scenario, r.world, 'test', seed, { count: 64, horizon: scenario.spec.horizon });
const set = buildTrainingSet(geometry, test.observed, 'state', false);
const d = latentDiagnostics(nets, set);
console.log('latents of test states', JSON.stringify({ probe: d.probe, persistence: d.persistence }));

const n = set.startEpisode.length;
const count = Math.min(n, 1024);
const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((i * n) / count));
const groups: Record<string, { n: number; enc: number; pred: number; pers: number }> = {};
// wrong cells by (before -> true next: read), for the encoded and the predicted readings
const confusion = { enc: {} as Record<string, number>, pred: {} as Record<string, number> };
tf.tidy(() => {
  const b = windowBatch(set, examples, 1);
  const s0 = statesOf(b.states, 0, 1, 2),
    s1 = statesOf(b.states, 1, 1, 2);
  const read = (z: tf.Tensor) => (nets.probe.read(tfjsOps, nets.probe.apply(tfjsOps, z)) as tf.Tensor).dataSync();
  const z0 = nets.online.apply(tfjsOps, inputOf(s0));
  const [predicted] = rollout(tfjsOps, nets, z0, s0.ids ?? null, b.context, b.actions, s0.tokenMask, 1);
  const pred = read(predicted),
    enc = read(nets.target.apply(tfjsOps, inputOf(s1)));
  const y1 = (s1.labels as tf.Tensor).dataSync(),
    y0 = (s0.labels as tf.Tensor).dataSync();
  const actions = b.actions ? b.actions[0].dataSync() : null;
  const cells = y1.length / count;
  for (let i = 0; i < count; i++) {
    const right = { enc: 1, pred: 1, pers: 1 };
    for (let j = i * cells; j < (i + 1) * cells; j++) {
      if (enc[j] !== y1[j]) right.enc = 0;
      if (pred[j] !== y1[j]) right.pred = 0;
      for (const [which, read] of [
        ['enc', enc],
        ['pred', pred],
      ] as const)
        if (read[j] !== y1[j]) {
          const key = `${y0[j]}->${y1[j]}: ${read[j]}`;
          confusion[which][key] = (confusion[which][key] ?? 0) + 1;
        }
      if (y0[j] !== y1[j]) right.pers = 0;
    }
    const key = `${actions ? `action ${actions[i]}, ` : ''}${right.pers ? 'still' : 'changed'}`;
    const g = (groups[key] ??= { n: 0, enc: 0, pred: 0, pers: 0 });
    g.n += 1;
    g.enc += right.enc;
    g.pred += right.pred;
    g.pers += right.pers;
  }
});
console.log('whole states right, by action and change (count of n)');
for (const key of Object.keys(groups).sort()) console.log(`  ${key}: ${JSON.stringify(groups[key])}`);
const top = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12);
console.log('wrong cells, (value before -> true next: read) count');
for (const which of ['enc', 'pred'] as const) console.log(`  ${which}: ${JSON.stringify(top(confusion[which]))}`);
