// Where spatial's own experiments went on resonance-v1 (frame view): the training data of on-policy as the runner
// makes it (the same named streams, spatial's act() and its fits after every round) against on-policy-random's, rounds
// 2-4 only (round 1 is the expert's, the same for both). Per seed: the largest |x| of the bob in those rounds, the
// share of their states with |x| beyond the expert's swing (0.15) and the share informative at every k (one step from
// them tells the true laws apart whatever k: `informativeAtEveryStiffness`). The bob's x is read from the state view,
// which the runner records beside the frame spatial sees. on-policy-random's data does not depend on the model (the
// scenario's explore forces), so the persistence baseline fits its rounds.
//
//   pnpm exec tsx scripts/figures/spatial-act-reach.ts [BUDGET] [SEEDS] [CONFIG_JSON]
//   e.g. pnpm exec tsx scripts/figures/spatial-act-reach.ts 256 1000-1009
import { persistence } from '@worldbench/baselines';
import { jobWorld, quietRun, type Episodes, type Scenario } from '@worldbench/core';
import resonance, { informativeAtEveryStiffness } from '@worldbench/resonance';
import spatial from '@worldbench/spatial';
import { onPolicyTraining, roundSizes } from '../../packages/runner/src/protocols';
import { fmt, median } from './common';

const budget = Number(process.argv[2] ?? 256);
const [from, to] = (process.argv[3] ?? '1000-1009').split('-').map(Number);
const overrides = JSON.parse(process.argv[4] ?? '{}');
if (!(budget > 0) || !(to >= from)) {
  console.error('usage: spatial-act-reach.ts [BUDGET] [FROM-TO] [CONFIG_JSON]');
  process.exit(2);
}
const scenario = resonance as unknown as Scenario;
/** Beyond the expert's steady swing (0.089-0.108) by half again. */
const BEYOND_EXPERT = 0.15;

/** Peak |x|, and the shares of states beyond the expert's swing and informative at every k, in episodes [first, E). */
function spread(data: Episodes, first: number) {
  const state = data.views.state; // [E, T + 1, 2]: x, v
  const perEpisode = state.shape[1] * 2;
  let peak = 0,
    beyond = 0,
    informative = 0,
    n = 0;
  for (let i = first * perEpisode; i < state.data.length; i += 2) {
    const x = Math.abs(state.data[i]);
    if (!Number.isFinite(x)) continue; // past the end of a cut episode
    peak = Math.max(peak, x);
    beyond += x > BEYOND_EXPERT ? 1 : 0;
    informative += informativeAtEveryStiffness(state.data.subarray(i, i + 2)) ? 1 : 0;
    n++;
  }
  return { peak, beyond: beyond / n, informative: informative / n };
}

const first = Math.ceil(roundSizes(budget)[0] / scenario.spec.episodeLength);
const rows: Record<string, Array<ReturnType<typeof spread>>> = { 'on-policy-random': [], 'on-policy': [] };
console.log('| seed | law | k | protocol | peak abs(x) | share abs(x) > 0.15 | informative at every k |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (let seed = from; seed <= to; seed++) {
  const world = jobWorld(scenario, seed) as { law: string; k: number };
  for (const protocol of ['on-policy-random', 'on-policy'] as const) {
    const model =
      protocol === 'on-policy'
        ? await spatial.create(scenario.spec, 'frame', { ...spatial.defaults, ...overrides })
        : await persistence.create(scenario.spec, 'frame', persistence.defaults);
    const actor = protocol === 'on-policy' ? 'model' : 'random';
    const data = (await onPolicyTraining(model, scenario, world, 'frame', budget, seed, actor, quietRun(seed)))
      .observed;
    await model.dispose?.();
    const r = spread(data, first);
    rows[protocol].push(r);
    console.log(
      `| ${seed} | ${world.law} | ${world.k.toFixed(2)} | ${protocol} | ${r.peak.toFixed(2)} | ${fmt(r.beyond)} | ` +
        `${fmt(r.informative)} |`,
    );
  }
}
console.log(`\nmedian over seeds ${from}-${to}, budget ${budget}, rounds 2-4`);
console.log('| protocol | peak abs(x) | share abs(x) > 0.15 | informative at every k |');
console.log('| --- | --- | --- | --- |');
for (const [protocol, rs] of Object.entries(rows))
  console.log(
    `| ${protocol} | ${median(rs.map((r) => r.peak)).toFixed(2)} | ${fmt(median(rs.map((r) => r.beyond)))} | ` +
      `${fmt(median(rs.map((r) => r.informative)))} |`,
  );
