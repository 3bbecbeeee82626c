// The forward probe: named values of a function written against Ops, read at weights given as arrays (an engine's
// current weights, not the variables'), equal to what tfjs computes at those weights.
import { createRng } from '@worldbench/core';
import { Mlp, type Ops, initBackend, tf, tfjsOps } from '@worldbench/neural';
import { beforeAll, describe, expect, it } from 'vitest';
import { ForwardProbe, rowsOf } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

/** The network's output [N, 3], each row's largest output's index and each row's squared norm. */
function values<T>(ops: Ops<T>, mlp: Mlp, x: T) {
  const y = mlp.apply(ops, x);
  return { y, best: ops.cast(ops.argMax(y, 1), 'int32'), norm: ops.sum(ops.mul(y, y), 1) };
}

describe('ForwardProbe', () => {
  it('reads named forward values at the weights it is given, as tfjs computes them at those weights', async () => {
    const rng = createRng('probe');
    const mlp = new Mlp(rng.fork('init'), [4, 8, 3]);
    const table = Float32Array.from({ length: 10 * 4 }, () => rng.normal());
    const probe = await ForwardProbe.compile({
      params: mlp.params(),
      inputs: [{ name: 'x', shape: ['batch', 4] }],
      outputs: (ops, i) => values(ops, mlp, i.x),
      modules: { mlp },
    });
    // weights other than the variables' (as an engine holds them mid-run): the variables' values, doubled
    const weights = mlp.params().map((p) => Float32Array.from(p.dataSync(), (v) => 2 * v));
    const batch = Int32Array.from([7, 2, 2, 9, 0]);
    const got = await probe.run({ x: rowsOf(table, [4], batch) }, weights);
    mlp.params().forEach((p, k) => p.assign(tf.tensor(weights[k], p.shape)));
    const want = tf.tidy(() => {
      const v = values(tfjsOps, mlp, tf.tensor2d(rowsOf(table, [4], batch).data as Float32Array, [5, 4]));
      return { y: v.y.dataSync(), best: v.best.dataSync(), norm: v.norm.dataSync() };
    });
    expect(Array.from(got.best as Int32Array)).toEqual(Array.from(want.best));
    (['y', 'norm'] as const).forEach((name) =>
      // float32 round-off of two runtimes: within 1e-5 relative
      (got[name] as Float32Array).forEach((v, j) =>
        expect(Math.abs(v - want[name][j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[name][j]))),
      ),
    );
    await probe.release();
    mlp.dispose();
  });
});
