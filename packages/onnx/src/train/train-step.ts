// One training step's forward and backward pass as one ONNX graph, run by ONNX Runtime: a network's loss,
// written against the Ops interface, is traced by GradOps (grad-ops.ts), which writes its gradient graph too.
// The trained weights, the fed weights (inputs never differentiated: a target network updated outside the
// optimiser, e.g. by EMA) and the step's data are the graph's inputs; the loss, each trained weight's gradient and
// any reported values (the loss's parts) are its outputs. The session has the bench's settings (one intra-op
// thread, sequential): same inputs, same numbers.
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
  /**
   * Weights the graph reads as inputs, fed each step and never differentiated (e.g. an EMA target network whose
   * arrays the caller updates between steps), in this order; float32 variables, none of them in `params`.
   */
  fed?: readonly tf.Variable[];
  /**
   * The mean loss, a scalar value, from the data inputs' values (by name), written against `ops`; or the loss with
   * values to report beside it (scalars, e.g. the loss's parts), which each step returns as numbers.
   */
  loss: (ops: Ops<string>, inputs: Record<string, string>) => string | ReportedLoss;
  /** Modules whose weights the graph uses, by name: inputs and initializers are named by path (readable graphs). */
  modules?: Record<string, Module>;
}

/** A loss with scalar values computed beside it (named graph values), returned by each step as numbers. */
export interface ReportedLoss {
  loss: string;
  report: Record<string, string>;
}

/** One step's data: each input's values and dimensions. */
export type StepData = Record<string, { data: Float32Array | Int32Array | BigInt64Array; dims: number[] }>;

export interface StepResult {
  loss: number;
  /** The gradient of each trained weight, in `params`' order. */
  grads: Float32Array[];
  /** The reported values of the loss (ReportedLoss), by name; empty for a plain loss. */
  report: Record<string, number>;
}

export class TrainStep {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The graph input holding each trained weight, in `params`' order. */
    readonly weightInputs: string[],
    readonly shapes: number[][],
    /** The graph input holding each fed weight, in `fed`'s order, and their shapes. */
    readonly fedInputs: string[],
    readonly fedShapes: number[][],
    /** The names of the reported values. */
    readonly reported: string[],
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
    const declare = (vars: readonly tf.Variable[], what: string, prefix: string, into: Map<tf.Tensor, string>) =>
      vars.forEach((p, k) => {
        if (p.dtype !== 'float32') throw new Error(`TrainStep: ${what} weight ${p.name} is ${p.dtype}, not float32`);
        if (trained.has(p) || fed.has(p))
          throw new Error(`TrainStep: weight ${p.name} is listed twice in params and fed`);
        let name = paths.get(p) ?? `${prefix}_${k}`;
        if (dataNames.has(name)) name = `${prefix}_${k}_${name}`;
        into.set(p, graph.input(name, p.shape, 'float32'));
      });
    const trained = new Map<tf.Tensor, string>();
    const fed = new Map<tf.Tensor, string>();
    declare(spec.params, 'trained', 'param', trained);
    declare(spec.fed ?? [], 'fed', 'fed', fed);
    const ops = new GradOps(graph, trained, paths, fed);
    const traced = spec.loss(ops, Object.fromEntries(spec.inputs.map((i) => [i.name, i.name])));
    const { loss, report } = typeof traced === 'string' ? { loss: traced, report: {} } : traced;
    const weightInputs = [...trained.values()];
    const grads = ops.gradients(loss, weightInputs);
    const outputs: Record<string, string> = { loss };
    grads.forEach((g, k) => (outputs[`grad_${k}`] = g));
    const reported = Object.keys(report);
    reported.forEach((name, k) => {
      const shape = ops.shape(report[name]);
      if (shape.length !== 0)
        throw new Error(`TrainStep: reported value "${name}" must be a scalar, it has shape [${shape.join(', ')}]`);
      // an Identity: a reported value may be the loss itself or another output, and outputs need distinct names
      outputs[`report_${k}`] = graph.node('Identity', [report[name]], graph.info(report[name]), {}, 'reported');
    });
    const bytes = graph.serialize(outputs, 'train-step');
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    return new TrainStep(
      session,
      weightInputs,
      spec.params.map((p) => p.shape),
      [...fed.values()],
      (spec.fed ?? []).map((p) => p.shape),
      reported,
      bytes,
    );
  }

  /** Loss and gradients at `weights` (in `params`' order) and `fed` (in `fed`'s order) on one step's `data`. */
  async run(data: StepData, weights: readonly Float32Array[], fed: readonly Float32Array[] = []): Promise<StepResult> {
    if (fed.length !== this.fedInputs.length)
      throw new Error(`TrainStep: the graph reads ${this.fedInputs.length} fed weights, run got ${fed.length}`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, { data: values, dims }] of Object.entries(data)) feeds[name] = new ort.Tensor(values, dims);
    this.weightInputs.forEach((name, k) => (feeds[name] = new ort.Tensor('float32', weights[k], this.shapes[k])));
    this.fedInputs.forEach((name, k) => (feeds[name] = new ort.Tensor('float32', fed[k], this.fedShapes[k])));
    const out = await this.session.run(feeds);
    return {
      loss: (out.loss.data as Float32Array)[0],
      grads: this.weightInputs.map((_, k) => out[`grad_${k}`].data as Float32Array),
      report: Object.fromEntries(this.reported.map((name, k) => [name, (out[`report_${k}`].data as Float32Array)[0]])),
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
