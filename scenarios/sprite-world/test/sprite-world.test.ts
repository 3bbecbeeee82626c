import {
  block,
  checkScenario,
  createRng,
  simulateEpisodes,
  type FactoredSpace,
  type Transition,
} from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import scenario, {
  CELLS,
  FRAME_SIZE,
  IDENTITY_PROBABILITY,
  SIZE,
  SPRITES,
  TILE,
  agentIndex,
  decodeFrame,
  expertDirection,
  formatGrid,
  hypotheses,
  isConnected,
  isWalkable,
  moveAgent,
  parseGrid,
  renderFrame,
  wallsPerLine,
  type Direction,
  type SpriteWorld,
} from '../src/index';

const [NOOP, UP, DOWN, LEFT, RIGHT] = [0, 1, 2, 3, 4] as const;
const identity: SpriteWorld = { mapping: [0, 1, 2, 3, 4] };
/** index 1 moves right, 2 left, 3 up, 4 down */
const scrambled: SpriteWorld = { mapping: [0, 4, 3, 1, 2] };
const act = (a: number) => new Float32Array([a]);
const grid = (rows: string[]) => ({ tiles: parseGrid(rows) });
const unused = createRng('unused');

// A hand-made grid for the rules: the agent at (4, 4); walls, boxes and a goal around it.
const ROOM = [
  '##########',
  '#--------#',
  '#---#----#',
  '#---$----#',
  '#-$-@$-.-#',
  '#---$----#',
  '#---$----#',
  '#--------#',
  '#--------#',
  '##########',
];

describe('sprite-world-v1', () => {
  it('passes the public scenario conformance suite', () => {
    expect(() => checkScenario(scenario)).not.toThrow();
    expect(() => checkScenario(scenario, { seed: 7, episodes: 5 })).not.toThrow();
  });

  it('step leaves its input untouched when the agent pushes (the conformance suite checks one random step)', () => {
    const state = grid(ROOM);
    const next = scenario.step(identity, state, act(RIGHT), unused);
    expect(next.tiles).not.toBe(state.tiles);
    expect(formatGrid(state.tiles)).toEqual(ROOM);
  });

  it('walls block: the agent stays put against interior and outer walls', () => {
    const start = grid([
      '##########',
      '#@-------#',
      '#-#------#',
      '#--------#',
      '#--------#',
      '#--------#',
      '#--------#',
      '#--------#',
      '#--------#',
      '##########',
    ]);
    for (const d of [UP, LEFT])
      expect(formatGrid(scenario.step(identity, start, act(d), unused).tiles)).toEqual(formatGrid(start.tiles));
    // down then right walks around the interior wall at (2, 2): (1,1) -> (2,1) -> wall at (2,2) blocks right
    const down = scenario.step(identity, start, act(DOWN), unused);
    expect(agentIndex(down.tiles)).toBe(2 * SIZE + 1);
    expect(agentIndex(scenario.step(identity, down, act(RIGHT), unused).tiles)).toBe(2 * SIZE + 1);
    expect(agentIndex(scenario.step(identity, start, act(RIGHT), unused).tiles)).toBe(1 * SIZE + 2);
  });

  it('boxes push one tile, onto goals, and stop at walls and at other boxes (a hand-computed trace)', () => {
    const s0 = grid(ROOM);
    // right: the box at (4,5) goes to (4,6); the agent follows
    const s1 = scenario.step(identity, s0, act(RIGHT), unused);
    expect(formatGrid(s1.tiles)[4]).toBe('#-$--@$.-#');
    // right again: the box lands on the goal (5 = box on goal)
    const s2 = scenario.step(identity, s1, act(RIGHT), unused);
    expect(formatGrid(s2.tiles)[4]).toBe('#-$---@*-#');
    // right again: beyond the box on goal is floor, so it is pushed off the goal and the agent stands on it
    const s3 = scenario.step(identity, s2, act(RIGHT), unused);
    expect(formatGrid(s3.tiles)[4]).toBe('#-$----+$#');
    // right again: the box is against the outer wall: nobody moves
    expect(formatGrid(scenario.step(identity, s3, act(RIGHT), unused).tiles)).toEqual(formatGrid(s3.tiles));
    // left from s3: the agent steps off the goal, which shows again
    expect(formatGrid(scenario.step(identity, s3, act(LEFT), unused).tiles)[4]).toBe('#-$---@.$#');
    // from the start: up pushes (3,4) into the wall at (2,4): blocked; down pushes (5,4) into the box at (6,4): blocked
    for (const d of [UP, DOWN]) expect(formatGrid(scenario.step(identity, s0, act(d), unused).tiles)).toEqual(ROOM);
    // left: the box at (4,2)? no: (4,3) is floor, the agent walks; then left again pushes (4,2) to (4,1)
    const l1 = scenario.step(identity, s0, act(LEFT), unused);
    const l2 = scenario.step(identity, l1, act(LEFT), unused);
    expect(formatGrid(l2.tiles)[4]).toBe('#$@--$-.-#');
    // and once more: (4,1) is against the wall: blocked
    expect(formatGrid(scenario.step(identity, l2, act(LEFT), unused).tiles)[4]).toBe('#$@--$-.-#');
    // noop never moves anything
    expect(formatGrid(scenario.step(identity, s0, act(NOOP), unused).tiles)).toEqual(ROOM);
  });

  it('applies the hidden control mapping: index 1 right, 2 left, 3 up, 4 down in the scrambled world', () => {
    const s0 = grid(ROOM);
    expect(formatGrid(scenario.step(scrambled, s0, act(1), unused).tiles)[4]).toBe('#-$--@$.-#'); // right: push
    expect(agentIndex(scenario.step(scrambled, s0, act(2), unused).tiles)).toBe(4 * SIZE + 3); // left: walk
    expect(formatGrid(scenario.step(scrambled, s0, act(3), unused).tiles)).toEqual(ROOM); // up: blocked
    expect(() => scenario.step(scrambled, s0, act(5), unused)).toThrow(/integer in \[0, 5\)/);
    expect(() => scenario.step(scrambled, s0, act(1.5), unused)).toThrow(/integer in \[0, 5\)/);
  });

  it(
    'renders one-to-one: distinct sprites, exact pixels, and decode(frame) == state on every step of random ' +
      'episodes',
    () => {
      let closest = Infinity;
      for (let a = 0; a < SPRITES.length; a++)
        for (let b = a + 1; b < SPRITES.length; b++)
          closest = Math.min(closest, Math.hypot(...SPRITES[a].map((x, k) => x - SPRITES[b][k])));
      expect(closest).toBeCloseTo(0.4, 6); // agent vs agent on goal, box vs box on goal, floor vs goal
      // tile (4, 4) is the agent: a plus of 0.8 over pixels rows 12-14, cols 12-14
      const frame = renderFrame(grid(ROOM));
      const patch = [12, 13, 14].map((y) => Array.from(frame.subarray(y * FRAME_SIZE + 12, y * FRAME_SIZE + 15)));
      expect(patch.map((row) => row.map((x) => Math.round(x * 10)))).toEqual([
        [0, 8, 0],
        [8, 8, 8],
        [0, 8, 0],
      ]);
      expect(frame[0]).toBe(1); // outer wall
      const world = scenario.sampleWorld(createRng('render/world'));
      for (const split of ['train', 'ood'] as const) {
        const ep = simulateEpisodes(scenario, world, {
          count: 20,
          split,
          policy: 'explore',
          rng: createRng(`render/${split}`),
        });
        const seen = new Set<number>();
        for (let e = 0; e < 20; e++)
          for (let t = 0; t <= scenario.spec.episodeLength; t++) {
            const state = block(ep.views.state, e, t);
            state.forEach((x) => seen.add(x));
            expect(Array.from(decodeFrame(block(ep.views.frame, e, t)))).toEqual(Array.from(state));
          }
        if (split === 'train') expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]); // every tile id was exercised
      }
    },
  );

  it('draws the identity mapping about half the time, else a uniform permutation; index 0 is always noop', () => {
    const n = 4000;
    const counts = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      const { mapping } = scenario.sampleWorld(createRng(`worlds/${k}`));
      expect(mapping[0]).toBe(NOOP);
      expect([...mapping.slice(1)].sort()).toEqual([1, 2, 3, 4]);
      counts.set(mapping.join(''), (counts.get(mapping.join('')) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    const identityShare = (counts.get('01234') ?? 0) / n;
    // 0.521, sd 0.008
    expect(Math.abs(identityShare - (IDENTITY_PROBABILITY + (1 - IDENTITY_PROBABILITY) / 24))).toBeLessThan(0.03);
    const others = [...counts].filter(([k]) => k !== '01234').map(([, c]) => c / n); // each ~1/48 = 0.0208
    for (const share of others) expect(Math.abs(share - 1 / 48)).toBeLessThan(0.01);
  });

  it('shift swaps left and right in the current mapping (and twice restores it)', () => {
    for (const world of [
      identity,
      scrambled,
      ...Array.from({ length: 50 }, (_, k) => scenario.sampleWorld(createRng(`shift/${k}`))),
    ]) {
      const shifted = scenario.shift!(world, unused);
      const swap = (d: Direction) => (d === LEFT ? RIGHT : d === RIGHT ? LEFT : d);
      expect(shifted.mapping).toEqual(world.mapping.map(swap));
      expect(scenario.shift!(shifted, unused).mapping).toEqual(world.mapping);
    }
    // in the scrambled world index 1 pushed the box right; after the shift it walks left
    const s0 = grid(ROOM);
    expect(agentIndex(scenario.step(scenario.shift!(scrambled, unused), s0, act(1), unused).tiles)).toBe(4 * SIZE + 3);
  });

  it(
    'the expert walks a shortest path around boxes and reaches the goal in every one of 500 train episodes (>= 80% ' +
      'required)',
    () => {
      const world = scenario.sampleWorld(createRng('expert/world'));
      let reached = 0,
        moves = 0;
      for (let e = 0; e < 500; e++) {
        const rng = createRng(`expert/${e}`);
        let state = scenario.reset(world, rng, 'train');
        const boxes = state.tiles.map((t) => (t === TILE.box || t === TILE.boxOnGoal ? 1 : 0)).join('');
        for (let t = 0; t < scenario.spec.episodeLength; t++) {
          const a = scenario.behavior(world, state, rng)![0];
          if (a !== NOOP) moves++;
          state = scenario.step(world, state, act(a), rng);
        }
        // never pushed a box
        expect(state.tiles.map((t) => (t === TILE.box || t === TILE.boxOnGoal ? 1 : 0)).join('')).toBe(boxes);
        if (state.tiles.includes(TILE.agentOnGoal)) reached++;
      }
      expect(reached / 500).toBeGreaterThanOrEqual(0.8);
      expect(reached).toBe(500); // measured (README): every start has a walkable path of at most ~20 steps
      const idle = 1 - moves / (500 * 32);
      expect(idle).toBeGreaterThan(0.7); // narrow: it mostly stands on the goal (README: ~80% noop)
      // a hand case: the shortest route from (8,7) to (1,2) around the boxes; ties go up first
      expect(
        expertDirection(
          parseGrid([
            '##########',
            '#-.------#',
            '#--------#',
            '#--###---#',
            '#-$--##--#',
            '#---#--$-#',
            '#---#----#',
            '#--------#',
            '#------@-#',
            '##########',
          ]),
        ),
      ).toBe(UP);
      const empty = ROOM.map((r) => r.replace('@', '-').replace('.', '-'));
      expect(expertDirection(parseGrid(['##########', '#-+------#', ...empty.slice(2)]))).toBe(NOOP); // on the goal
      expect(
        expertDirection(parseGrid(['##########', '#-@------#', '##########', '#------.-#', ...empty.slice(4)])),
      ).toBe(NOOP); // goal walled off: no path
      expect(
        expertDirection(parseGrid(['##########', '#-@------#', '#-$------#', '#-.------#', ...empty.slice(4)])),
      ).toBe(LEFT); // around the box, never through it
      // it presses the index whose mapped direction is the step: up is index 3 in the scrambled world
      const s = grid(['##########', '#--------#', '#--.-----#', '#--@-----#', ...empty.slice(4)]);
      expect(scenario.behavior(scrambled, s, unused)![0]).toBe(3);
    },
  );

  it('explore presses every action index uniformly', () => {
    const rng = createRng('explore');
    const counts = [0, 0, 0, 0, 0];
    for (let k = 0; k < 5000; k++) counts[scenario.explore(identity, grid(ROOM), rng)![0]]++;
    for (const c of counts) expect(Math.abs(c / 5000 - 0.2)).toBeLessThan(0.02); // sd 0.0057
  });

  it(
    'lays out connected grids: scattered segments with 1-2 boxes in train/test, two rooms with 3-4 ' + 'boxes in ood',
    () => {
      const world = scenario.sampleWorld(createRng('layout/world'));
      const boxCounts = { train: new Set<number>(), ood: new Set<number>() };
      const wallCounts = new Set<number>();
      for (let k = 0; k < 300; k++)
        for (const split of ['train', 'test', 'ood'] as const) {
          const { tiles } = scenario.reset(world, createRng(`layout/${split}/${k}`), split);
          const count = (ids: number[]) => tiles.filter((t) => ids.includes(t)).length;
          for (let i = 0; i < CELLS; i++) {
            const r = Math.floor(i / SIZE),
              c = i % SIZE;
            if (r === 0 || c === 0 || r === SIZE - 1 || c === SIZE - 1) expect(tiles[i]).toBe(TILE.wall);
            // box rule: never against a wall or another box at the start
            if (tiles[i] === TILE.box)
              for (const j of [i - SIZE, i + SIZE, i - 1, i + 1])
                expect([TILE.wall, TILE.box, TILE.boxOnGoal]).not.toContain(tiles[j]);
          }
          expect(count([TILE.agent])).toBe(1);
          expect(count([TILE.goal])).toBe(1);
          expect(count([TILE.boxOnGoal, TILE.agentOnGoal])).toBe(0);
          expect(isConnected(tiles, isWalkable)).toBe(true); // boxes counted as obstacles
          const interiorWalls = count([TILE.wall]) - 36;
          const { rows, cols } = wallsPerLine(tiles);
          if (split === 'ood') {
            boxCounts.ood.add(count([TILE.box]));
            expect(interiorWalls).toBe(7);
            const full = [...rows.map((n, i) => [n, i + 1]), ...cols.map((n, i) => [n, i + 1])].filter(
              ([n]) => n === 7,
            );
            expect(full).toHaveLength(1); // one divider row or column, one doorway
            expect(full[0][1]).toBeGreaterThanOrEqual(3);
            expect(full[0][1]).toBeLessThanOrEqual(6);
          } else {
            boxCounts.train.add(count([TILE.box]));
            wallCounts.add(interiorWalls);
            expect(Math.max(...rows, ...cols)).toBeLessThanOrEqual(4); // never a divider
          }
        }
      expect([...boxCounts.train].sort()).toEqual([1, 2]);
      expect([...boxCounts.ood].sort()).toEqual([3, 4]);
      expect([...wallCounts].sort()).toEqual([3, 4, 5, 6, 7, 8]);
    },
  );

  it(
    'hypotheses: the true mapping predicts every clean transition exactly, evidence recovers it, wrong candidates ' +
      'mispredict',
    () => {
      const truthOf = (w: SpriteWorld) => hypotheses.truth(w);
      const space = (id: string) => hypotheses.candidates.find((c) => c.id === id) as FactoredSpace;
      const push = space('push-boxes'),
        immovable = space('boxes-immovable');
      expect(truthOf(scrambled)).toEqual({ id: 'push-boxes', assignment: [0, 4, 3, 1, 2] });
      const world = scenario.sampleWorld(createRng('hyp/world'));
      const truth = truthOf(world).assignment!;
      const wrong = [...truth];
      [wrong[1], wrong[2]] = [wrong[2], wrong[1]];
      const consistent = push.factors.map(() => new Set([0, 1, 2, 3, 4]));
      let pushes = 0,
        wrongMisses = 0,
        immovableMisses = 0;
      for (const split of ['train', 'ood'] as const) {
        const ep = simulateEpisodes(scenario, world, {
          count: 30,
          split,
          policy: 'explore',
          rng: createRng(`hyp/${split}`),
        });
        for (let e = 0; e < 30; e++)
          for (let t = 0; t < 32; t++) {
            const tr: Transition = {
              current: block(ep.views.state, e, t),
              next: block(ep.views.state, e, t + 1),
              action: block(ep.actions!, e, t),
              context: {},
            };
            expect(Array.from(push.predict(truth, tr))).toEqual(Array.from(tr.next!));
            for (const { factor, consistent: options } of push.evidence(tr)) {
              expect(options).toContain(truth[factor]);
              for (const o of [0, 1, 2, 3, 4]) if (!options.includes(o)) consistent[factor].delete(o);
            }
            if (!push.predict(wrong, tr).every((x, i) => x === tr.next![i])) wrongMisses++;
            if (!immovable.predict(truth, tr).every((x, i) => x === tr.next![i])) {
              immovableMisses++;
              expect(immovable.evidence(tr)[0].consistent).toEqual([]); // a push: no option explains it
            }
            const boxesBefore = tr.current.filter((x) => x === 3 || x === 5).length;
            if (
              Array.from(tr.current).some(
                (x, i) => (x === 3 || x === 5) !== (tr.next![i] === 3 || tr.next![i] === 5),
              ) &&
              boxesBefore > 0
            )
              pushes++;
          }
      }
      // the law recovered: 1920 random transitions pin every factor to its true option
      expect(consistent.map((s) => [...s])).toEqual(truth.map((d) => [d]));
      expect(wrongMisses).toBeGreaterThan(100);
      expect(pushes).toBeGreaterThan(10);
      expect(immovableMisses).toBe(pushes); // boxes-immovable fails exactly on the pushes
      // hand case: a push in ROOM
      const tr: Transition = {
        current: Float32Array.from(parseGrid(ROOM)),
        next: Float32Array.from(moveAgent(parseGrid(ROOM), RIGHT)),
        action: act(1),
        context: {},
      };
      expect(push.evidence(tr)).toEqual([{ factor: 1, consistent: [RIGHT] }]);
      expect(formatGrid(immovable.predict([0, RIGHT, 0, 0, 0], tr))).toEqual(ROOM);
      // a blocked step is consistent with noop and every blocked direction (up and down push into wall/box)
      const blocked: Transition = { ...tr, next: Float32Array.from(parseGrid(ROOM)), action: act(2) };
      expect(push.evidence(blocked)).toEqual([{ factor: 2, consistent: [NOOP, UP, DOWN] }]);
    },
  );
});
