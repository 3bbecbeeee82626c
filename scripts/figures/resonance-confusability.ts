// The tables of scenarios/resonance/README.md ("Why experiments matter"): where each policy takes the bob, how much
// its data can tell the laws apart, how fast pumping gets there, and what knowing the law is worth on the test split.
// Every dataset is derived exactly as `pnpm bench` derives it (core's named RNG streams), on the leaderboard seeds.
// The figures are properties of the frozen scenario (no model, no timing): they change only with resonance's version.
// Run: pnpm exec tsx scripts/figures/resonance-confusability.ts [reach] [pump] [worth]
import {
  block,
  createRng,
  episodeCount,
  evaluateModel,
  jobWorld,
  simulateEpisodes,
  tensor,
  trainingEpisodes,
  type Query,
  type Rng,
  type WorldModelModule,
} from '@worldbench/core';
import resonance, {
  advance,
  DAMPING,
  DT,
  FORCE_SCALE,
  informativeAtEveryStiffness,
  isInformative,
  LAWS,
  lawSpread,
  pump,
  REST_START,
  restoring,
  STATE_NOISE,
  TRUE_LAW_IDS,
  type ResonanceState,
  type ResonanceWorld,
  type TrueLawId,
} from '@worldbench/resonance';
import { fmt, median, SEEDS, sections } from './common';

const run = sections();
const T = resonance.spec.episodeLength;

type PolicyName = 'behavior' | 'explore' | 'pump';
const choose = (policy: PolicyName, world: ResonanceWorld, s: ResonanceState, rng: Rng): Float32Array =>
  policy === 'pump' ? pump(s.bob) : resonance[policy](world, s, rng)!;

/**
 * The first `budget` transitions (state, action) of the training set the bench draws for `policy` (pump: its own
 * stream).
 */
function transitions(world: ResonanceWorld, policy: PolicyName, budget: number, seed: number) {
  const seen: { s: ResonanceState; action: Float32Array }[] = [];
  trainingEpisodes(
    resonance,
    world,
    budget,
    (w, s, rng) => {
      const action = choose(policy, w, s, rng);
      seen.push({ s, action });
      return action;
    },
    createRng(`${seed}/train/${policy}`),
  );
  return seen.slice(0, budget); // the last episode is simulated whole and cut at the budget
}

/** Sum over transitions of |next under `law` - next under the truth|^2 / (2 noise^2), both with the true k and c. */
function evidenceAgainst(world: ResonanceWorld, law: string, data: ReturnType<typeof transitions>): number {
  let nats = 0;
  for (const { s, action } of data) {
    const force = FORCE_SCALE * action[0];
    const truth = advance(restoring(LAWS[world.law], world.k), s.c, s.bob, force);
    const other = advance(restoring(LAWS[law], world.k), s.c, s.bob, force);
    nats += ((truth[0] - other[0]) ** 2 + (truth[1] - other[1]) ** 2) / (2 * STATE_NOISE ** 2);
  }
  return nats;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
const seeds = SEEDS.slice(0, 5); // 1000-1004: each seed's k, with each of the 3 laws: 15 worlds
const worlds = seeds.flatMap((seed) =>
  TRUE_LAW_IDS.map((law) => ({ seed, world: { law, k: (jobWorld(resonance, seed) as ResonanceWorld).k } })),
);

if (run('reach')) {
  console.log(
    `Where the policies take the bob: 15 worlds (the 3 laws x k of seeds ${seeds[0]}-${seeds.at(-1)}), the bench's ` +
      `training streams. "informative": one step from the state tells every pair of laws apart by more than the ` +
      `noise ${STATE_NOISE} (lawSpread with the world's k). Evidence: sum over the budget's transitions of ` +
      `|difference|^2 / (2 noise^2) against the closest wrong true law (and the pendulum), each given the true k and ` +
      `c: an upper bound, in nats, on the expected log-likelihood ratio; its range over the 15 worlds.`,
  );
  console.log(
    '| policy | budget | informative | informative at every k | p99 abs(x) | max abs(x) | ' +
      'median / p99 spread / noise | evidence, closest law (nats) | with the pendulum |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  // pump: as one on-policy round of the budgets 64, 256, 1024 would run it (a quarter of the budget, from rest)
  for (const policy of ['behavior', 'explore', 'pump'] as PolicyName[])
    for (const budget of policy === 'pump' ? [16, 64, 256] : [256, 1024, 16384]) {
      let n = 0,
        hits = 0,
        hitsAnyK = 0,
        leastTrue = Infinity,
        worstTrue = 0,
        leastPendulum = Infinity,
        worstPendulum = 0;
      const xs: number[] = [],
        spreads: number[] = [];
      for (const { seed, world } of worlds) {
        const data = transitions(world, policy, budget, seed);
        for (const { s } of data) {
          n++;
          if (isInformative(world.k, s.bob)) hits++;
          if (informativeAtEveryStiffness(s.bob)) hitsAnyK++;
          xs.push(Math.abs(s.bob[0]));
          spreads.push(lawSpread(world.k, s.bob) / STATE_NOISE);
        }
        const against = TRUE_LAW_IDS.filter((l) => l !== world.law).map((l) => evidenceAgainst(world, l, data));
        const pendulum = evidenceAgainst(world, 'pendulum', data);
        worstTrue = Math.max(worstTrue, Math.min(...against));
        leastTrue = Math.min(leastTrue, Math.min(...against));
        worstPendulum = Math.max(worstPendulum, pendulum);
        leastPendulum = Math.min(leastPendulum, pendulum);
      }
      const label = policy === 'pump' ? `pump (a round of ${budget}: budget ${4 * budget})` : policy;
      console.log(
        `| ${label} | ${budget} | ${(hits / n).toFixed(4)} | ${(hitsAnyK / n).toFixed(4)} | ` +
          `${fmt(quantile(xs, 0.99))} | ${fmt(quantile(xs, 1))} | ` +
          `${quantile(spreads, 0.5).toExponential(1)} / ${quantile(spreads, 0.99).toExponential(1)} | ` +
          `${leastTrue.toPrecision(2)} - ${worstTrue.toPrecision(2)} | ` +
          `${leastPendulum.toPrecision(2)} - ${worstPendulum.toPrecision(2)} |`,
      );
    }
  // the test and ood splits, as the bench draws them (64 episodes each, explore)
  console.log('\n| split | large-amplitude starts (of 64 per seed) | informative share of transitions |');
  console.log('| --- | --- | --- |');
  for (const split of ['test', 'ood'] as const) {
    let large = 0,
      hits = 0,
      n = 0;
    for (const seed of seeds) {
      const world = jobWorld(resonance, seed) as ResonanceWorld;
      let stepOfEpisode = 0;
      simulateEpisodes(resonance, world, {
        count: 64,
        split,
        rng: createRng(`${seed}/${split}`),
        policy: (w, s, rng) => {
          const atRest = Math.abs(s.bob[0]) <= REST_START && Math.abs(s.bob[1]) <= REST_START;
          if (stepOfEpisode++ % T === 0 && !atRest) large++;
          n++;
          if (isInformative(w.k, s.bob)) hits++;
          return resonance.explore(w, s, rng);
        },
      });
    }
    console.log(`| ${split} | ${large} / ${64 * seeds.length} | ${(hits / n).toFixed(3)} |`);
  }
}

if (run('pump')) {
  console.log(
    '\nPumping from rest (x = 0.02, v = 0, c = 0.1): the first step whose state is informative, and the peak',
  );
  console.log('abs(x) within the 64 steps of an episode.');
  console.log('| law | k = 1 | k = 2.5 | k = 4 |');
  console.log('| --- | --- | --- | --- |');
  for (const law of TRUE_LAW_IDS) {
    const cells = [1, 2.5, 4].map((k) => {
      const world = { law, k };
      let s: ResonanceState = { bob: Float32Array.of(0.02, 0), c: 0.1 };
      let first = -1,
        peak = 0;
      for (let t = 1; t <= T; t++) {
        s = resonance.step(world, s, pump(s.bob), createRng('unused'));
        peak = Math.max(peak, Math.abs(s.bob[0]));
        if (first < 0 && isInformative(k, s.bob)) first = t;
      }
      return `step ${first}, peak ${peak.toFixed(2)}`;
    });
    console.log(`| ${law} | ${cells.join(' | ')} |`);
  }
}

if (run('worth')) {
  // Models told the world's k (or reading it in context) that roll out a stated law from the last noisy observation,
  // with the mean train damping: with the true law, the best a model can do from one noisy observation; with the
  // spring (the law that data from where the laws agree supports), what not knowing the law costs; and with the
  // spring whose k is refitted to each window's 4 observed steps, how much of that a model that re-reads the
  // stiffness in every window wins back.
  const c = (DAMPING.train[0] + DAMPING.train[1]) / 2;
  /** k by least squares of the observed steps' acceleration (v' - v) / dt + c v - F on -x (midpoints). */
  const kInContext = (q: Query, b: number) => {
    const K = q.history.views.state.shape[1];
    let num = 0,
      den = 0;
    for (let t = 0; t < K - 1; t++) {
      const s0 = block(q.history.views.state, b, t),
        s1 = block(q.history.views.state, b, t + 1);
      const x = (s0[0] + s1[0]) / 2;
      const acceleration =
        (s1[1] - s0[1]) / DT + (c * (s0[1] + s1[1])) / 2 - FORCE_SCALE * block(q.history.actions!, b, t)[0];
      num -= x * acceleration;
      den += x * x;
    }
    return Math.min(20, Math.max(0.1, num / den)); // a window at rest says little: keep k in a sane range
  };
  const told = (law: TrueLawId, k: number | 'in context'): WorldModelModule => ({
    card: { id: `told-${law}`, school: 'external', summary: `rolls out ${law} with k = ${k}` },
    defaults: {},
    supports: () => ({ views: ['state'] }),
    load: () => Promise.reject(new Error('a told model is not saved')),
    create: async () => ({
      fit: async () => ({ params: 0 }),
      save: async () => {},
      forecast: async (q: Query) => {
        const B = episodeCount(q.history),
          K = q.history.views.state.shape[1];
        const mean = tensor([B, q.horizon, 2]); // [B, H, 2]
        for (let b = 0; b < B; b++) {
          const g = restoring(LAWS[law], k === 'in context' ? kInContext(q, b) : k);
          let bob: ArrayLike<number> = block(q.history.views.state, b, K - 1);
          for (let h = 0; h < q.horizon; h++) {
            bob = advance(g, c, bob, FORCE_SCALE * block(q.actions!, b, h)[0]);
            block(mean, b, h).set(bob);
          }
        }
        return { mean };
      },
    }),
  });
  console.log(
    `\nWhat the law is worth on the test split: skill (as the bench scores it) of a model that rolls out a stated ` +
      `law from the last noisy observation with the mean train damping; median over seeds ${SEEDS[0]}-${SEEDS[9]}, ` +
      `each seed's k with every law.`,
  );
  console.log(
    "| world | true law, world's k: h=1 / h=32 | spring, world's k: h=1 / h=32 | " +
      'spring, k read in context: h=1 / h=32 |',
  );
  console.log('| --- | --- | --- | --- |');
  for (const law of TRUE_LAW_IDS) {
    const cells: string[] = [];
    for (const [model, how] of [
      [law, 'world'],
      ['spring', 'world'],
      ['spring', 'in context'],
    ] as const) {
      const h1: number[] = [],
        hH: number[] = [];
      for (const seed of SEEDS.slice(0, 10)) {
        const k = (jobWorld(resonance, seed) as ResonanceWorld).k;
        const scenario = { ...resonance, sampleWorld: () => ({ law, k }) };
        const module = told(model, how === 'world' ? k : 'in context');
        const r = await evaluateModel(module, scenario, { view: 'state', budget: 1024, seed, policy: 'explore' });
        h1.push(r.metrics.test.skill['1']!);
        hH.push(r.metrics.test.skill['32']!);
      }
      cells.push(`${fmt(median(h1))} / ${fmt(median(hH))}`);
    }
    console.log(`| ${law} | ${cells.join(' | ')} |`);
  }
}
