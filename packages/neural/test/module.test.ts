import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { Dense, type LayerNorm, Mlp, Module, initBackend, normalVariable, tf, type Ops } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

/** A module holding a tensor besides its variables, freed by its own dispose. */
class Holder extends Module {
  readonly w = normalVariable(createRng('holder'), [2], 1);
  readonly table = tf.tensor1d([1, 2, 3]);
  parts() {
    return { w: this.w };
  }
  override dispose(): void {
    super.dispose();
    this.table.dispose();
  }
}

/** A small network of every kind of part: a variable, a module, an absent part, a stack. */
class Net extends Module {
  readonly scale: tf.Variable;
  readonly head: Dense;
  readonly blocks: Mlp[];
  readonly norm: LayerNorm | null = null;
  readonly holder = new Holder();
  constructor() {
    super();
    const rng = createRng('module');
    this.scale = normalVariable(rng, [3], 1);
    this.blocks = [new Mlp(rng, [3, 4, 3]), new Mlp(rng, [3, 2, 3])];
    this.head = new Dense(rng, 3, 2);
  }
  apply<T>(ops: Ops<T>, x: T): T {
    let h = ops.mul(x, ops.param(this.scale));
    for (const b of this.blocks) h = b.apply(ops, h);
    return this.head.apply(ops, h);
  }
  parts() {
    return { scale: this.scale, blocks: this.blocks, norm: this.norm, head: this.head, holder: this.holder };
  }
}

describe('Module', () => {
  it(
    "lists its variables by dotted path in the order of its parts, counts them, and frees them through each part's " +
      'dispose',
    () => {
      const before = tf.memory().numTensors;
      const net = new Net();
      expect(net.namedParams().map(([name, v]) => [name, v.shape])).toEqual([
        ['scale', [3]],
        ['blocks.0.layers.0.w', [3, 4]],
        ['blocks.0.layers.0.b', [4]],
        ['blocks.0.layers.1.w', [4, 3]],
        ['blocks.0.layers.1.b', [3]],
        ['blocks.1.layers.0.w', [3, 2]],
        ['blocks.1.layers.0.b', [2]],
        ['blocks.1.layers.1.w', [2, 3]],
        ['blocks.1.layers.1.b', [3]],
        ['head.w', [3, 2]],
        ['head.b', [2]],
        ['holder.w', [2]],
      ]);
      expect(net.params()).toEqual(net.namedParams().map(([, v]) => v));
      expect(net.count()).toBe(3 + (12 + 4 + 12 + 3) + (6 + 2 + 6 + 3) + (6 + 2) + 2);
      // dispose reaches every part's own dispose: the holder's extra tensor is freed too
      net.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
