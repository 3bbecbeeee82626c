// A forward graph over the engine's weights: named values of a function written against Ops (e.g. the codes a
// vector quantiser picked, each row's reconstruction error), computed from the same data and weights a training
// step reads. The training graph (train-step.ts) returns only the loss and the gradients; a run that also needs
// some of the forward's values per step (spatial's dead-code restarts) reads them here, at the engine's current
// weights, before the step updates them. Weights are graph inputs, traced by GradOps as in a training step, so
// the values are the ones the step computes; no gradient is written.
import type { Module, Ops, tf } from '@worldbench/neural';
import * as ort from 'onnxruntime-node';
import { OnnxBuilder } from '../builder';
import type { ExportInput } from '../export';
import { SESSION_OPTIONS } from '../model';
import { GradOps } from './grad-ops';
import type { StepData } from './train-step';

export interface ForwardProbeSpec {
  /** The weights the engine trains, in its order (`OrtEngine.weights`). */
  params: readonly tf.Variable[];
  /** The data a step reads (as the training step's inputs). */
  inputs: ExportInput[];
  /** The values to read, by name, from the data inputs' values, written against `ops`. */
  outputs: (ops: Ops<string>, inputs: Record<string, string>) => Record<string, string>;
  /** Modules whose weights the graph reads without training them (their initializers are named by path). */
  modules?: Record<string, Module>;
}

export class ForwardProbe {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly weightInputs: string[],
    private readonly shapes: number[][],
  ) {}

  static async compile(spec: ForwardProbeSpec): Promise<ForwardProbe> {
    const graph = new OnnxBuilder();
    for (const i of spec.inputs) graph.input(i.name, i.shape, i.dtype ?? 'float32');
    const trained = new Map<tf.Tensor, string>();
    spec.params.forEach((p, k) => trained.set(p, graph.input(`param_${k}`, p.shape, 'float32')));
    const paths = new Map(
      Object.entries(spec.modules ?? {}).flatMap(([name, module]) =>
        module.namedParams(`${name}.`).map(([path, v]) => [v as tf.Tensor, path] as const),
      ),
    );
    const ops = new GradOps(graph, trained, paths);
    const outputs = spec.outputs(ops, Object.fromEntries(spec.inputs.map((i) => [i.name, i.name])));
    const session = await ort.InferenceSession.create(graph.serialize(outputs, 'forward-probe'), SESSION_OPTIONS);
    return new ForwardProbe(
      session,
      [...trained.values()],
      spec.params.map((p) => p.shape),
    );
  }

  /** The named values on one step's `data` at `weights` (in `params`' order). */
  async run(data: StepData, weights: readonly Float32Array[]): Promise<Record<string, ort.Tensor['data']>> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, { data: values, dims }] of Object.entries(data)) feeds[name] = new ort.Tensor(values, dims);
    this.weightInputs.forEach((name, k) => (feeds[name] = new ort.Tensor('float32', weights[k], this.shapes[k])));
    const out = await this.session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data]));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
