// The ONNX Runtime training engine: TrainSteps (forward + backward graphs, a session each) and Adam on the weights,
// held as float32 arrays in JS. A TrainEngine for neural's `trainWith` (same schedule, holdout and early stopping as
// tfjs's `train`): it reads the variables once, steps without tfjs, and writes the trained weights back into the
// variables when the run finishes, so a model saves, forecasts and exports as before. Fed weights (a target network
// the caller updates between steps, e.g. by EMA, through `fed`) are held and written back the same way.
//
// Usually one graph (`create`). `createShared` takes several graphs over one set of weights, each reading some of
// them (a generalist's worlds: each world's loss reads the shared weights and its own): a step runs the one graph
// its batch is routed to, and one Adam updates the weights that graph read (the others are left alone, as Adam
// leaves a weight without a gradient).
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

/** One graph of a shared engine: its loss over some of the engine's weights (`params`, `fed`), and its step's data. */
export interface SharedGraphSpec extends TrainStepSpec {
  /** The data of a step on the examples `examples` (as `route` gives them). */
  data: (examples: Int32Array) => StepData;
}

export interface OrtSharedEngineSpec {
  /** Every trained weight, once, in the order of `engine.weights` and Adam's state. */
  params: readonly tf.Variable[];
  /** Every fed weight, once, in the order of `engine.fed`. */
  fed?: readonly tf.Variable[];
  /** The graphs; each one's `params` and `fed` are among the engine's. */
  graphs: readonly SharedGraphSpec[];
  /** Which graph steps on a batch of the trainer's, and the examples it gives that graph's `data`. */
  route: (batch: Int32Array) => { graph: number; examples: Int32Array };
  adam?: AdamOptions;
}

/** A compiled graph and where its trained and fed weights sit among the engine's. */
interface Graph {
  step: TrainStep;
  spec: SharedGraphSpec;
  params: number[];
  fed: number[];
}

export class OrtEngine implements TrainEngine {
  readonly name = ORT_ENGINE;
  private best: Float32Array[] | null = null;
  /** The reported values of the last step or loss (the loss's parts, when the loss reports them). */
  lastReport: Record<string, number> = {};
  /** The graph of the last step or loss (its index in `graphs`; 0 with one graph). */
  lastGraph = 0;

  private constructor(
    private readonly graphs: Graph[],
    private readonly spec: OrtSharedEngineSpec,
    /** The trained weights, in `params`' order (updated in place by each step). */
    readonly weights: Float32Array[],
    /** The fed weights, in `fed`'s order: the graphs read them each step; the caller updates them in place. */
    readonly fed: Float32Array[],
    private readonly adam: ArrayAdam,
  ) {}

  /** Compiles the step's graph; the weights (trained and fed) start at the variables' current values. */
  static async create(spec: OrtEngineSpec): Promise<OrtEngine> {
    return OrtEngine.createShared({
      params: spec.params,
      fed: spec.fed,
      graphs: [spec],
      route: (batch) => ({ graph: 0, examples: batch }),
      adam: spec.adam,
    });
  }

  /** Compiles every graph (releasing those made if one fails); the weights start at the variables' values. */
  static async createShared(spec: OrtSharedEngineSpec): Promise<OrtEngine> {
    const indexOf = (all: readonly tf.Variable[], what: string) => {
      const at = new Map(all.map((v, i) => [v, i]));
      return (v: tf.Variable) => {
        const i = at.get(v);
        if (i === undefined)
          throw new Error(`OrtEngine: a graph reads ${what} weight ${v.name}, which the engine lacks`);
        return i;
      };
    };
    const [param, fed] = [indexOf(spec.params, 'trained'), indexOf(spec.fed ?? [], 'fed')];
    const graphs: Graph[] = [];
    try {
      for (const g of spec.graphs)
        graphs.push({
          step: await TrainStep.compile(g),
          spec: g,
          params: g.params.map(param),
          fed: (g.fed ?? []).map(fed),
        });
    } catch (error) {
      await Promise.all(graphs.map((g) => g.step.release()));
      throw error;
    }
    const read = (vars: readonly tf.Variable[]) => vars.map((p) => Float32Array.from(p.dataSync() as Float32Array));
    const weights = read(spec.params);
    return new OrtEngine(graphs, spec, weights, read(spec.fed ?? []), new ArrayAdam(weights, spec.adam));
  }

  /** One optimiser step on the examples `batch` with learning rate `lr`; the loss before the update. */
  async step(batch: Int32Array, lr: number): Promise<number> {
    const { graph, result } = await this.run(batch);
    if (!Number.isFinite(result.loss)) return result.loss;
    // the weights this graph did not read are left alone (undefined), as Adam leaves a weight without a gradient
    const grads = new Array<Float32Array | undefined>(this.weights.length);
    graph.params.forEach((at, k) => (grads[at] = result.grads[k]));
    this.adam.step(grads, lr);
    return result.loss;
  }

  /**
   * Loss and gradients on `batch` at the current weights, no update (e.g. to compare them with tfjs's): the
   * gradients in `params`' order, zero for a weight the batch's graph does not read.
   */
  async gradients(batch: Int32Array): Promise<StepResult> {
    const { graph, result } = await this.run(batch);
    if (this.graphs.length === 1) return result;
    const grads: Float32Array[] = this.weights.map((w) => new Float32Array(w.length));
    graph.params.forEach((at, k) => (grads[at] = result.grads[k]));
    return { ...result, grads };
  }

  /** The routed graph's loss and gradients (in its own params' order) on `batch`. */
  private async run(batch: Int32Array): Promise<{ graph: Graph; result: StepResult }> {
    const { graph: index, examples } = this.spec.route(batch);
    const graph = this.graphs[index];
    if (!graph)
      throw new Error(`OrtEngine: a batch was routed to graph ${index}, the engine has ${this.graphs.length}`);
    const result = await graph.step.run(
      graph.spec.data(examples),
      graph.params.map((at) => this.weights[at]),
      graph.fed.map((at) => this.fed[at]),
    );
    this.lastReport = result.report;
    this.lastGraph = index;
    return { graph, result };
  }

  /** The loss on `batch` at the current weights (its gradients are computed and dropped). */
  async loss(batch: Int32Array): Promise<number> {
    return (await this.run(batch)).result.loss;
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

  /** Writes the weights back and closes the sessions. */
  async finish(): Promise<void> {
    this.writeBack();
    this.best = null;
    await Promise.all(this.graphs.map((g) => g.step.release()));
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
