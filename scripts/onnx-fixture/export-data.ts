// Training data for the committed ONNX fixture (packages/onnx/fixtures/hidden-laws-mlp.onnx): forecast windows
// of hidden-laws-v1 from worlds 5000-5399, disjoint from every evaluation seed (0-99 dev, 1000+ leaderboard).
// Run: pnpm exec tsx scripts/onnx-fixture/export-data.ts <out-dir>   (then train_export.py; see README.md there)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  block,
  createRng,
  discoverPlugins,
  findScenario,
  findWorkspaceRoot,
  forecastWindows,
  loadScenario,
  trainingSet,
  windowStarts,
} from '@worldbench/core';

const out = process.argv[2] ?? 'onnx-fixture-data';
mkdirSync(out, { recursive: true });
const scenario = await loadScenario(findScenario(discoverPlugins(findWorkspaceRoot()), 'hidden-laws').entry);
const { spec } = scenario;
const K = spec.historySteps;
const history: number[] = [],
  actions: number[] = [],
  target: number[] = [];
for (let seed = 5000; seed < 5400; seed++) {
  const world = scenario.sampleWorld(createRng(`${seed}/world`));
  const { observed, clean } = trainingSet(scenario, world, 'explore', 16 * spec.episodeLength, seed);
  // 4 windows per episode, one step ahead: the model sees K noisy steps and the K actions up to the next step
  for (let rep = 0; rep < 4; rep++) {
    const starts = windowStarts(16, spec.episodeLength, K, 1, createRng(`${seed}/fixture-windows/${rep}`));
    const w = forecastWindows(spec, 'state', observed, clean, starts, K, 1);
    for (let b = 0; b < 16; b++) {
      for (let t = 0; t < K; t++) history.push(...block(w.query.history.views.state, b, t));
      for (let t = 0; t < K - 1; t++) actions.push(...block(w.query.history.actions!, b, t));
      actions.push(...block(w.query.actions!, b, 0));
      target.push(...block(w.truth, b, 0));
    }
  }
}
const n = target.length / 4;
writeFileSync(join(out, 'history.f32'), Buffer.from(Float32Array.from(history).buffer));
writeFileSync(join(out, 'actions.f32'), Buffer.from(Float32Array.from(actions).buffer));
writeFileSync(join(out, 'target.f32'), Buffer.from(Float32Array.from(target).buffer));
writeFileSync(
  join(out, 'meta.json'),
  JSON.stringify({ n, K, stateSize: 4, actionSize: 2, worlds: '5000-5399', scenario: spec.id }),
);
console.log(`wrote ${n} windows to ${out}`);
