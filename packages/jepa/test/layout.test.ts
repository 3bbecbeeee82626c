// Layouts: how each scenario's state becomes tokens, and encode -> decode round trips.
import { describe, expect, it } from 'vitest';
import bouncingBalls from '@worldbench/bouncing-balls';
import codeTrace from '@worldbench/code-trace';
import hiddenLaws from '@worldbench/hidden-laws';
import lifeLike from '../../../scenarios/life-like/src/index';
import spriteWorld from '../../../scenarios/sprite-world/src/index';
import { createRng, jobWorld, trainingSet } from '@worldbench/core';
import jepa from '../src/index';
import { decodeInto, encodeContext, encodeStates, fitStandardisation } from '../src/inputs';
import { contextLayout, gridNeighbours, stateLayout, type GridEncoder } from '../src/layout';

describe('stateLayout', () => {
  it('tokenises every scenario state: elements, rows, cells of a grid, or patches of at most 36 tokens', () => {
    const shape = (s: { spec: Parameters<typeof stateLayout>[0] }, grid: GridEncoder = 'local') => {
      const l = stateLayout(s.spec, 'state', 1, grid);
      return [l.kind, l.tokens, l.slots, l.grid ?? null];
    };
    expect(shape(codeTrace)).toEqual(['categorical', 5, 1, null]);
    expect(shape(bouncingBalls)).toEqual(['real', 4, 4, null]);
    expect(shape(hiddenLaws)).toEqual(['real', 1, 4, null]);
    // grids of more than 36 cells: a token per cell (the default), or p x p patches
    expect(shape(lifeLike)).toEqual(['categorical', 576, 1, { rows: 24, cols: 24 }]);
    expect(shape(spriteWorld)).toEqual(['categorical', 100, 1, { rows: 10, cols: 10 }]);
    expect(shape(lifeLike, 'patches')).toEqual(['categorical', 36, 16, null]); // 24x24 in 4x4 patches
    expect(shape(spriteWorld, 'patches')).toEqual(['categorical', 25, 4, null]); // 10x10 in 2x2 patches
    const life = stateLayout(lifeLike.spec, 'state', 1, 'patches');
    // every cell is in exactly one slot
    expect([...life.elementOf].filter((i) => i >= 0).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 576 }, (_, i) => i),
    );
  });

  it('gives each grid cell its 3 x 3 neighbourhood, wrapped, and says which neighbours lie across an edge', () => {
    const { indices, crossings } = gridNeighbours({ rows: 3, cols: 4 });
    // cell (0, 0): rows -1, 0, 1 wrap to 2, 0, 1; columns -1, 0, 1 wrap to 3, 0, 1
    expect([...indices.subarray(0, 9)]).toEqual([11, 8, 9, 3, 0, 1, 7, 4, 5]);
    expect([...crossings.subarray(0, 9)]).toEqual([1, 1, 1, 1, 0, 0, 1, 0, 0]);
    // cell (1, 1) is inside: its neighbours are its own 3 x 3 block, none across an edge, itself in the middle
    const inner = 1 * 4 + 1;
    expect([...indices.subarray(inner * 9, inner * 9 + 9)]).toEqual([0, 1, 2, 4, 5, 6, 8, 9, 10]);
    expect([...crossings.subarray(inner * 9, inner * 9 + 9)].every((c) => c === 0)).toBe(true);
  });

  it('supports every non-image view, with a reason for image-only scenarios', () => {
    expect(jepa.supports(codeTrace.spec)).toEqual({ views: ['state'] });
    expect(jepa.supports(bouncingBalls.spec)).toEqual({ views: ['state'] });
    const imageOnly = { ...hiddenLaws.spec, views: { frame: hiddenLaws.spec.views.frame } };
    const refused = jepa.supports(imageOnly);
    expect(refused.views).toEqual([]);
    expect('reason' in refused && refused.reason).toMatch(/image view/);
  });
});

describe('encodeStates / decodeInto', () => {
  it('round-trip categorical grids (patches) and standardised real states; masked rows are padding', () => {
    for (const scenario of [spriteWorld, bouncingBalls, codeTrace]) {
      const train = trainingSet(scenario, jobWorld(scenario, 1), 'behavior', 64, 1).observed;
      const layout = stateLayout(scenario.spec, 'state', 1, 'patches');
      fitStandardisation(layout, train, 'state');
      const v = train.views.state;
      const m = layout.maskView ? train.views[layout.maskView] : null;
      const state = Float32Array.from(v.data.subarray(0, layout.size));
      const mask = m ? Float32Array.from(m.data.subarray(0, layout.maskSize)) : null;
      const enc = encodeStates(
        layout,
        1,
        () => state,
        () => mask,
      );
      const perSlot = new Float32Array(layout.tokens * layout.slots);
      for (let i = 0; i < perSlot.length; i++)
        perSlot[i] = enc.labels ? enc.labels[i] : (enc.targets as Float32Array)[i];
      const out = new Float32Array(layout.size);
      decodeInto(layout, out, perSlot, 0);
      for (let i = 0; i < layout.size; i++) {
        const padded = mask && mask[Math.floor(i / (layout.size / layout.maskSize))] < 0.5;
        if (padded) expect(enc.weights[i]).toBe(0);
        else expect(out[i]).toBeCloseTo(state[i], 4);
      }
      if (mask) expect(Array.from(enc.tokenMask)).toEqual(Array.from(mask));
    }
  });

  it('encodes program rows with per-column tables (the pad token too)', () => {
    const layout = contextLayout(codeTrace.spec);
    expect(layout.tokens).toBe(20);
    const world = codeTrace.sampleWorld(createRng('ctx'));
    const train = trainingSet(codeTrace, world, 'behavior', 32, 2).observed;
    const { ids, slots } = encodeContext(layout, train.context, 1)!;
    const program = train.context.program.data;
    expect(slots).toBe(3);
    for (let r = 0; r < 20; r++) for (let j = 0; j < 3; j++) expect(ids[r * 3 + j]).toBe(j * 21 + program[r * 3 + j]);
  });
});
