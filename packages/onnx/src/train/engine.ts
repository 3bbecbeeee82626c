// The ONNX Runtime training engine: a TrainStep (forward + backward graph, one session) and Adam on the weights,
// held as float32 arrays in JS. A TrainEngine for neural's `trainWith` (same schedule, holdout and early stopping as
// tfjs's `train`): it reads the variables once, steps without tfjs, and writes the trained weights back into the
// variables when the run finishes, so a model saves, forecasts and exports as before. Fed weights (a target network
// the caller updates between steps, e.g. by EMA, through `fed`) are held and written back the same way.
import { ArrayAdam, type AdamOptions, type TrainEngine, tf } from '@worldbench/neural';
import { ORT_VERSION } from '../model';
import { type StepData, type StepResult, TrainStep, type TrainStepSpec } from './train-step';

/** The engine's name in results (FitReport.backend / env.backend). */
export const ORT_ENGINE = `onnxruntime ${ORT_VERSION} (training graph)`;

export interface OrtEngineSpec extends TrainStepSpec {
  /** The data of a step on the examples `batch` (indices into 0..n-1), e.g. with `rowsOf`. */
  data: (batch: Int32Array) => StepData;
  /** Adam's betas, epsilon and decoupled weight decay (as neural's Adam). */
  adam?: AdamOptions;
}

export class OrtEngine implements TrainEngine {
  readonly name = ORT_ENGINE;
  private best: Float32Array[] | null = null;
  /** The reported values of the last step or loss (the loss's parts, when the loss reports them). */
  lastReport: Record<string, number> = {};

  private constructor(
    private readonly graph: TrainStep,
    private readonly spec: OrtEngineSpec,
    /** The trained weights, in `params`' order (updated in place by each step). */
    readonly weights: Float32Array[],
    /** The fed weights, in `fed`'s order: the graph reads them each step; the caller updates them in place. */
    readonly fed: Float32Array[],
    private readonly adam: ArrayAdam,
  ) {}

  /** Compiles the step's graph; the weights (trained and fed) start at the variables' current values. */
  static async create(spec: OrtEngineSpec): Promise<OrtEngine> {
    const graph = await TrainStep.compile(spec);
    const read = (vars: readonly tf.Variable[]) => vars.map((p) => Float32Array.from(p.dataSync() as Float32Array));
    const weights = read(spec.params);
    return new OrtEngine(graph, spec, weights, read(spec.fed ?? []), new ArrayAdam(weights, spec.adam));
  }

  /** One optimiser step on the examples `batch` with learning rate `lr`; the loss before the update. */
  async step(batch: Int32Array, lr: number): Promise<number> {
    const { loss, grads } = await this.gradients(batch);
    if (Number.isFinite(loss)) this.adam.step(grads, lr);
    return loss;
  }

  /** Loss and gradients on `batch` at the current weights, no update (e.g. to compare them with tfjs's). */
  async gradients(batch: Int32Array): Promise<StepResult> {
    const result = await this.graph.run(this.spec.data(batch), this.weights, this.fed);
    this.lastReport = result.report;
    return result;
  }

  /** The loss on `batch` at the current weights (its gradients are computed and dropped). */
  async loss(batch: Int32Array): Promise<number> {
    return (await this.gradients(batch)).loss;
  }

  keepBest(): void {
    this.best = this.weights.map((w) => w.slice());
  }

  restoreBest(): void {
    this.best?.forEach((w, k) => this.weights[k].set(w));
  }

  /** Copies the trained and the fed weights into the variables. */
  writeBack(): void {
    const write = (vars: readonly tf.Variable[], arrays: Float32Array[]) =>
      vars.forEach((p, k) => tf.tidy(() => p.assign(tf.tensor(arrays[k], p.shape, 'float32'))));
    write(this.spec.params, this.weights);
    write(this.spec.fed ?? [], this.fed);
  }

  /** Writes the weights back and closes the session. */
  async finish(): Promise<void> {
    this.writeBack();
    this.best = null;
    await this.graph.release();
  }
}

/** Rows `batch` of a row-major table whose rows are `rowShape` (e.g. examples [n, ...rowShape]) as step data. */
export function rowsOf(table: Float32Array | Int32Array, rowShape: number[], batch: Int32Array): StepData[string] {
  const width = rowShape.reduce((a, b) => a * b, 1);
  const out =
    table instanceof Float32Array ? new Float32Array(batch.length * width) : new Int32Array(batch.length * width);
  batch.forEach((row, i) => out.set(table.subarray(row * width, (row + 1) * width), i * width));
  return { data: out, dims: [batch.length, ...rowShape] };
}
