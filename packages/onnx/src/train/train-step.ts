// One training step's forward and backward pass as one ONNX graph, run by ONNX Runtime: a network's loss,
// written against the Ops interface, is traced by GradOps (grad-ops.ts), which writes its gradient graph too.
// The trained weights and the step's data are the graph's inputs; the loss and each weight's gradient are its
// outputs. The session has the bench's settings (one intra-op thread, sequential): same inputs, same numbers.
import type { Module, Ops, tf } from '@worldbench/neural';
import * as ort from 'onnxruntime-node';
import { OnnxBuilder } from '../builder';
import type { ExportInput } from '../export';
import { SESSION_OPTIONS } from '../model';
import { GradOps } from './grad-ops';

export interface TrainStepSpec {
  /** The weights to train, in this order (their gradients come back in it); float32 variables. */
  params: readonly tf.Variable[];
  /** The data a step reads (symbolic names such as "batch" for dimensions that vary between steps). */
  inputs: ExportInput[];
  /** The mean loss, a scalar value, from the data inputs' values (by name), written against `ops`. */
  loss: (ops: Ops<string>, inputs: Record<string, string>) => string;
  /** Modules whose weights the graph uses, by name: inputs and initializers are named by path (readable graphs). */
  modules?: Record<string, Module>;
}

/** One step's data: each input's values and dimensions. */
export type StepData = Record<string, { data: Float32Array | Int32Array | BigInt64Array; dims: number[] }>;

export interface StepResult {
  loss: number;
  /** The gradient of each trained weight, in `params`' order. */
  grads: Float32Array[];
}

export class TrainStep {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The graph input holding each trained weight, in `params`' order. */
    readonly weightInputs: string[],
    readonly shapes: number[][],
    /** The ONNX model, e.g. to inspect the gradient graph. */
    readonly bytes: Uint8Array,
  ) {}

  /** Traces `spec.loss` and its gradients into one graph and opens a session on it. */
  static async compile(spec: TrainStepSpec): Promise<TrainStep> {
    const graph = new OnnxBuilder();
    const dataNames = new Set(spec.inputs.map((i) => i.name));
    for (const i of spec.inputs) graph.input(i.name, i.shape, i.dtype ?? 'float32');
    const paths = new Map(
      Object.entries(spec.modules ?? {}).flatMap(([name, module]) =>
        module.namedParams(`${name}.`).map(([path, v]) => [v as tf.Tensor, path] as const),
      ),
    );
    const trained = new Map<tf.Tensor, string>();
    spec.params.forEach((p, k) => {
      if (p.dtype !== 'float32') throw new Error(`TrainStep: trained weight ${p.name} is ${p.dtype}, not float32`);
      if (trained.has(p)) throw new Error(`TrainStep: weight ${p.name} is listed twice in params`);
      let name = paths.get(p) ?? `param_${k}`;
      if (dataNames.has(name)) name = `param_${k}_${name}`;
      trained.set(p, graph.input(name, p.shape, 'float32'));
    });
    const ops = new GradOps(graph, trained, paths);
    const loss = spec.loss(ops, Object.fromEntries(spec.inputs.map((i) => [i.name, i.name])));
    const weightInputs = [...trained.values()];
    const grads = ops.gradients(loss, weightInputs);
    const outputs: Record<string, string> = { loss };
    grads.forEach((g, k) => (outputs[`grad_${k}`] = g));
    const bytes = graph.serialize(outputs, 'train-step');
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    return new TrainStep(
      session,
      weightInputs,
      spec.params.map((p) => p.shape),
      bytes,
    );
  }

  /** Loss and gradients at `weights` (in `params`' order) on one step's `data`. */
  async run(data: StepData, weights: readonly Float32Array[]): Promise<StepResult> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, { data: values, dims }] of Object.entries(data)) feeds[name] = new ort.Tensor(values, dims);
    this.weightInputs.forEach((name, k) => (feeds[name] = new ort.Tensor('float32', weights[k], this.shapes[k])));
    const out = await this.session.run(feeds);
    return {
      loss: (out.loss.data as Float32Array)[0],
      grads: this.weightInputs.map((_, k) => out[`grad_${k}`].data as Float32Array),
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
