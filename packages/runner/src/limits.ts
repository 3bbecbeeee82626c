// The bounds of what one `pnpm bench` run takes, stated once: the CLI's help and its messages read them.
// Inside them a run plans in seconds and its jobs fit in memory; outside them it would plan for minutes,
// grow without end, or fail inside a job on a typed array's length, so it is refused at once instead.

/** Seeds are 0..MAX_SEED (dev 0-99, leaderboard from 1000). */
export const MAX_SEED = 1_000_000;
/** Seeds in one run: a leaderboard uses 5. */
export const MAX_SEEDS = 10_000;
/** The largest training budget (2^20 transitions; the full grid's largest is 16384). */
export const MAX_BUDGET = 1_048_576;
/** Test or ood episodes per job (the default is 64). */
export const MAX_EPISODES = 10_000;
/** Jobs in one plan, counted before the plan is built (the full grid over every model and scenario is ~2000). */
export const MAX_PLAN_JOBS = 100_000;

/** 1048576 -> "1,048,576". */
export const grouped = (n: number) => n.toLocaleString('en-US');
