// The timing method of the throughput figures (tfjs against ONNX Runtime on the same weights): one warm-up run
// on an input that is not a benchmark seed, then one run per benchmark input, wall and CPU milliseconds of each
// (CPU time is what a busy machine does not inflate); the report prints medians and the speed-up.
import { loadavg } from 'node:os';

export interface Timings {
  wall: number[];
  cpu: number[];
}

/** Times `run` on each of `inputs` after one untimed run on `warmup`. */
export async function timeRuns<I>(run: (input: I) => unknown, warmup: I, inputs: I[]): Promise<Timings> {
  await run(warmup);
  const wall: number[] = [],
    cpu: number[] = [];
  for (const input of inputs) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    await run(input);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

/** The median (the upper one of an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Prints each side's median wall and CPU time per run and its steps/s (`steps` example-steps per run), then the
 * speed-up of the second side over the first.
 */
export function reportSpeedup(sides: Array<[name: string, t: Timings]>, steps: number): void {
  for (const [name, t] of sides) {
    const [wall, cpu] = [median(t.wall), median(t.cpu)];
    console.log(
      `${name.padEnd(22)} median ${wall.toFixed(1)} ms wall (${cpu.toFixed(1)} ms CPU) ` +
        `per run, ${(steps / (wall / 1000)).toFixed(0)} steps/s ` +
        `(wall runs: ${t.wall.map((x) => x.toFixed(1)).join(', ')})`,
    );
  }
  const [[, a], [, b]] = sides;
  console.log(
    `ORT speed-up ` +
      `${(median(a.wall) / median(b.wall)).toFixed(2)}x wall, ` +
      `${(median(a.cpu) / median(b.cpu)).toFixed(2)}x CPU; load ${loadavg()[0].toFixed(1)}`,
  );
}
