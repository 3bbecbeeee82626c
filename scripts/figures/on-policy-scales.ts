// How possible-worlds' on-policy gain on resonance-v1 (skill at h = 1, on-policy minus each control, paired by seed)
// depends on the units the score is taken in. Until the runner scored in the test split's units (docs/metrics.md), it
// divided each dimension's error by its std over the job's own training observations, so two protocols of one seed
// were scored in different units: on-policy's data swings wider than the controls' and weighs x and v otherwise. Here
// the same forecasts are scored three ways: `own` (the old units: each protocol's training std), `test` (the runner's:
// the std of the seed's test observations, one scale for every protocol) and `raw` (no scaling).
//
//   pnpm exec tsx scripts/figures/on-policy-scales.ts [BUDGET] [SEEDS]
//   e.g. pnpm exec tsx scripts/figures/on-policy-scales.ts 256 1000-1009
import {
  evaluationSet,
  evaluationWindows,
  jobWorld,
  quietRun,
  scoreForecast,
  metricScale,
  trainingSet,
  viewStd,
  type Episodes,
  type Scenario,
} from '@worldbench/core';
import possibleWorlds from '@worldbench/possible-worlds';
import resonance from '@worldbench/resonance';
import { onPolicyTraining } from '../../packages/runner/src/protocols';
import { paired } from './common';

const budget = Number(process.argv[2] ?? 256);
const [from, to] = (process.argv[3] ?? '1000-1009').split('-').map(Number);
if (!(budget > 0) || !(to >= from)) {
  console.error('usage: on-policy-scales.ts [BUDGET] [FROM-TO]');
  process.exit(2);
}
const scenario = resonance as unknown as Scenario;
const PROTOCOLS = ['offline-explore', 'on-policy-random', 'on-policy'] as const;
const SCALES = ['own', 'test', 'raw'] as const;
/** Four decimals: the differences here are of the order of 0.001. */
const fmt = (x: number) => x.toFixed(4);

/** The model's training data under a protocol, as the runner makes it (the model fitted on it). */
async function train(protocol: (typeof PROTOCOLS)[number], seed: number) {
  const model = await possibleWorlds.create(scenario.spec, 'state', possibleWorlds.defaults);
  const world = jobWorld(scenario, seed);
  let data: Episodes;
  if (protocol === 'offline-explore') {
    data = trainingSet(scenario, world, 'explore', budget, seed).observed;
    await model.fit(data, quietRun(seed));
  } else {
    const actor = protocol === 'on-policy' ? 'model' : 'random';
    data = (await onPolicyTraining(model, scenario, world, 'state', budget, seed, actor, quietRun(seed))).observed;
  }
  return { model, data };
}

const gains: Record<string, number[]> = {};
console.log(`| seed | ${PROTOCOLS.flatMap((p) => SCALES.map((s) => `${p} (${s})`)).join(' | ')} |`);
console.log(`| --- | ${PROTOCOLS.flatMap(() => SCALES.map(() => '---')).join(' | ')} |`);
for (let seed = from; seed <= to; seed++) {
  const world = jobWorld(scenario, seed);
  const set = evaluationSet(scenario, world, 'test', seed, { count: 64, horizon: scenario.spec.horizon });
  const windows = evaluationWindows(scenario.spec, set, 'state', 1);
  const testScale = metricScale(set, scenario.spec, 'state');
  const skills: Record<string, Record<string, number>> = {};
  for (const protocol of PROTOCOLS) {
    const { model, data } = await train(protocol, seed);
    const forecast = await model.forecast(windows.query, quietRun(seed));
    // skill at h = 1 as the runner scores it, with each dimension's error divided by scale[d]
    const skill = (scale: Float32Array) =>
      scoreForecast({
        spec: scenario.spec.views.state,
        truth: windows.truth,
        mask: windows.truthMask,
        lastObserved: windows.lastObserved,
        forecast,
        scale,
      }).skill['1'] ?? NaN;
    skills[protocol] = {
      own: skill(viewStd(data, 'state')),
      test: skill(testScale),
      raw: skill(Float32Array.of(1, 1)),
    };
  }
  console.log(`| ${seed} | ${PROTOCOLS.flatMap((p) => SCALES.map((s) => fmt(skills[p][s]))).join(' | ')} |`);
  for (const scale of SCALES)
    for (const control of PROTOCOLS.slice(0, 2))
      (gains[`${scale}|${control}`] ??= []).push(skills['on-policy'][scale] - skills[control][scale]);
}

console.log(`\non-policy minus each control, skill at h = 1, budget ${budget}: mean ± SE (mean - 2 SE)`);
console.log('| scale | against offline-explore | against on-policy-random |');
console.log('| --- | --- | --- |');
for (const scale of SCALES) {
  const [explore, random] = PROTOCOLS.slice(0, 2).map((control) => paired(gains[`${scale}|${control}`], fmt));
  console.log(`| ${scale} | ${explore} | ${random} |`);
}
