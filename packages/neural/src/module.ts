// Module: the base of every layer and network. A module names its parts (sub-modules, stacks of them,
// variables); from them it lists its variables in a fixed order (the optimiser, saved weights and the names of
// exported initializers follow it), counts and frees them. Its computation is an `apply(ops, ...)` of its
// own, written once against the Ops interface (ops.ts) and run by any runtime.
import { tf } from './backend';

/** A part of a module: a sub-module, a variable, a stack of sub-modules, or null where the part is absent. */
export type Part = Module | tf.Variable | readonly Module[] | null;

export abstract class Module {
  /** The module's parts by name, in a fixed order. Names are not integers (object keys keep their order then). */
  abstract parts(): Record<string, Part>;

  /** Every variable with its dotted path (e.g. `blocks.0.norm1.gain`), depth first in the parts' order. */
  namedParams(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [name, part] of Object.entries(this.parts())) {
      if (part === null) continue;
      if (part instanceof Module) out.push(...part.namedParams(`${prefix}${name}.`));
      else if (part instanceof tf.Variable) out.push([`${prefix}${name}`, part]);
      else part.forEach((m, i) => out.push(...m.namedParams(`${prefix}${name}.${i}.`)));
    }
    return out;
  }

  /** The variables, in the parts' order. */
  params(): tf.Variable[] {
    return this.namedParams().map(([, v]) => v);
  }

  /** The number of scalar parameters. */
  count(): number {
    return this.params().reduce((sum, p) => sum + p.size, 0);
  }

  /**
   * Frees the variables, through each sub-module's own dispose (a module that holds other tensors frees them there).
   */
  dispose(): void {
    for (const part of Object.values(this.parts())) {
      if (part === null) continue;
      if (part instanceof Module || part instanceof tf.Variable) part.dispose();
      else part.forEach((m) => m.dispose());
    }
  }
}
