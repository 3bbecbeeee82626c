// What act() sees when it imagines: spatial fitted on one scenario's expert data (offline), then from one training
// window (episode 0, the K frames before step `at`) its 8-step rollout under a few fixed push sequences -- how far the
// imagined frames move (sum over pixels of |frame - last observed frame| per step) and the heads' disagreement summed
// over the steps (what act() maximises) -- beside how far the true frames moved. Real actions of one element only.
// Run: pnpm exec tsx packages/spatial/scripts/act-imagination.ts [scenario=resonance] [budget=256] [seed=0] [at=24]
import { block, jobWorld, quietRun, sliceSteps, tensor, trainingSet } from '@worldbench/core';
import spatial, { type SpatialModel } from '../src/index';
import { scenarioNamed } from './offline-job';

const [name = 'resonance', budgetText = '256', seedText = '0', atText = '24'] = process.argv.slice(2);
const scenario = await scenarioNamed(name);
const { spec } = scenario;
if (spec.action?.kind !== 'real' || spec.action.shape.join() !== '1')
  throw new Error(`act-imagination.ts pushes one real action; ${spec.id} has another kind of action`);
const seed = Number(seedText),
  at = Number(atText),
  H = 8,
  K = spec.historySteps;
const world = jobWorld(scenario, seed);
const train = trainingSet(scenario, world, 'behavior', Number(budgetText), seed).observed;
const model = (await spatial.create(spec, 'frame', spatial.defaults)) as SpatialModel;
await model.fit(train, quietRun(seed));
const window = sliceSteps(train, at - K, at, ['frame']);
const history = { views: { frame: window.views.frame }, actions: null, context: {} };
const last = block(history.views.frame, 0, K - 1);
const moved = (frame: Float32Array) => frame.reduce((s, x, i) => s + Math.abs(x - last[i]), 0).toFixed(3);
const pushes: Record<string, (h: number) => number> = {
  none: () => 0,
  'full +': () => 1,
  'full -': () => -1,
  'alternating every 2': (h) => (Math.floor(h / 2) % 2 ? 1 : -1),
};
console.log('| pushes | imagined sum abs(frame - last), steps 1..8 | disagreement |');
console.log('| --- | --- | --- |');
for (const [label, push] of Object.entries(pushes)) {
  const actions = tensor(
    [1, H, 1],
    Float32Array.from({ length: H }, (_, h) => push(h)),
  );
  const q = { view: 'frame', history, actions, horizon: H };
  const f = await model.forecast(q);
  const steps = Array.from({ length: H }, (_, h) => moved(block(f.mean, 0, h)));
  console.log(`| ${label} | ${steps.join(' ')} | ${(await model.disagreement(q))[0].toExponential(2)} |`);
}
const truth = Array.from({ length: H }, (_, h) => moved(block(train.views.frame, 0, at + h)));
console.log(`| the expert's, true frames | ${truth.join(' ')} | |`);
await model.dispose();
