// Categorical actions: embedded at unit scale from the first step (on a grid, added to every cell), and the rows of
// actions the training data never shows zeroed, so such an action changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { jobWorld, trainingSet } from '@worldbench/core';
import { initBackend } from '@worldbench/neural';
import spriteWorld from '../../../scenarios/sprite-world/src/index';
import { actionRowsSeen, buildTrainingSet, disposeTrainingSet } from '../src/batch';
import { fitGeometry } from '../src/index';
import { buildNetworks, zeroUnseenActions } from '../src/model';
import { disposeNetworks, smallConfig } from './helpers';

beforeAll(async () => {
  await initBackend();
});

describe('categorical actions of a grid', () => {
  it('start at unit scale; rows of actions the training never shows are zeroed, the others kept', () => {
    const seed = 3;
    const train = trainingSet(spriteWorld, jobWorld(spriteWorld, seed), 'behavior', 256, seed).observed;
    const geometry = fitGeometry(spriteWorld.spec, 'state', smallConfig, train);
    expect(geometry.state.grid).toBeDefined(); // the 10 x 10 grid is read cell by cell
    const nets = buildNetworks(geometry, smallConfig, `${seed}/test`);
    const set = buildTrainingSet(geometry, train, 'state', false);
    const table = nets.predictor.actionTable?.table;
    if (!table) throw new Error('sprite-world has categorical actions: the predictor must embed them');
    const [V, D] = table.shape;
    const rows = () => Array.from({ length: V }, (_, v) => Array.from(table.dataSync().slice(v * D, (v + 1) * D)));
    const rms = (row: number[]) => Math.sqrt(row.reduce((s, x) => s + x * x, 0) / row.length);
    const before = rows();
    // unit scale (std 1), not the near-zero start that let the state alone explain the expert's moves
    expect(rms(before.flat())).toBeGreaterThan(0.7);

    // the expert uses every direction and noop: every row is seen
    const seen = actionRowsSeen(set);
    expect(seen).not.toBeNull();
    expect([...(seen as Set<number>)].sort()).toEqual(Array.from({ length: V }, (_, v) => v));

    // a training set that never shows rows 1 and 3: those rows become zero, the others are left as they were
    zeroUnseenActions(nets, new Set([0, 2, 4].filter((v) => v < V)));
    const after = rows();
    after.forEach((row, v) => {
      if (v === 1 || v === 3) expect(rms(row)).toBe(0);
      else expect(row).toEqual(before[v]);
    });
    disposeNetworks(nets);
    disposeTrainingSet(set);
  });
});
