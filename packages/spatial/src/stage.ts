// How a training stage runs on the engine the environment chooses (WORLDBENCH_TRAIN_ENGINE, @worldbench/onnx):
// tfjs, or the ONNX Runtime training graph. A stage's loss is written once against Ops (losses.ts, tokenizer.ts)
// over a step's data cut as arrays (train.ts); tfjs runs it on tensors made from those arrays, the engine traces
// it and feeds the arrays. Stages without side work go through trainOnChosenEngine. A stage with dead-code
// restarts (the latent action model, the 'vq' tokenizer) also needs each step's codes, errors and encoder outputs,
// and writes restarted codes into the weights mid-run: on the engine those come from a forward probe at the
// engine's weights before each step, and the restarts write into the engine's weight array; it opens that engine
// through trainOnEngineOrTfjs, so the choice of engine and the notice where the engine cannot take the stage are
// @worldbench/onnx's, as for every other run.
import {
  type AdamOptions,
  type Module,
  type Ops,
  type TrainEngine,
  type TrainOptions,
  type TrainResult,
  type TrainSchedule,
  tf,
  tfjsOps,
} from '@worldbench/neural';
import {
  type ExportInput,
  ForwardProbe,
  OrtEngine,
  type OrtEngineSpec,
  type StepData,
  trainOnChosenEngine,
  trainOnEngineOrTfjs,
} from '@worldbench/onnx';
import type { DeadCodeRestarts } from './vq';

/** What a stage's loss computes: the mean loss, and for a stage with restarts its per-row bookkeeping. */
export interface StageValues<T> {
  /** The mean loss (a scalar). */
  loss: T;
  /** Each row's code [N] (int32), reconstruction error [N] and normalised encoder output [N, dim]. */
  restart?: { codes: T; errors: T; normalised: T };
}

/** One training stage: its weights, its loss written once against Ops, and a step's data as arrays. */
export interface Stage {
  params: tf.Variable[];
  /** The modules the loss reads (readable weight names in the engine's graph). */
  modules: Record<string, Module>;
  /** The data a step reads ("batch": the batch dimension, smaller on an epoch's last step). */
  inputs: ExportInput[];
  /** A step's data on the examples `batch`. */
  data: (batch: Int32Array) => StepData;
  /** The loss (and bookkeeping) from the data inputs' values, by name. */
  forward: <T>(ops: Ops<T>, inputs: Record<string, T>) => StageValues<T>;
}

/** Dead-code restarts of a stage: the bookkeeping, the codebook it restarts, how many of N rows are candidates. */
export interface StageRestarts {
  book: DeadCodeRestarts;
  codebook: tf.Variable;
  worst: (rows: number) => number;
}

/** A trained stage: the trainer's result and the engine that took its steps (as FitReport.backend names it). */
export type StageResult = TrainResult & { engine: string };

/** A step's data as tfjs tensors (freed by the step's tidy). */
export function tensorsOf(data: StepData): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(data).map(([name, { data: values, dims }]) => [
      name,
      tf.tensor(values as Float32Array | Int32Array, dims, values instanceof Int32Array ? 'int32' : 'float32'),
    ]),
  );
}

/** Trains `stage` with `schedule` on the engine `env` asks for (tfjs, with a notice, where the engine cannot). */
export async function trainStage(
  stage: Stage,
  schedule: TrainSchedule & { adam?: AdamOptions },
  env: NodeJS.ProcessEnv = process.env,
  restarts?: StageRestarts,
): Promise<StageResult> {
  const tfjs: TrainOptions<Record<string, tf.Tensor>> = {
    ...schedule,
    params: stage.params,
    prepare: (batch) => tensorsOf(stage.data(batch)),
    loss: (_batch, inputs) => {
      const values = stage.forward(tfjsOps, inputs);
      if (restarts && values.restart) {
        const { codes, errors, normalised } = values.restart;
        const e = errors.dataSync();
        restarts.book.record(codes.dataSync(), e, normalised.dataSync(), restarts.worst(e.length));
      }
      return values.loss as tf.Scalar;
    },
    onProgress: (record) => {
      restarts?.book.restartDead(record.step);
      schedule.onProgress?.(record);
    },
  };
  const onnx = {
    inputs: stage.inputs,
    data: stage.data,
    modules: stage.modules,
    loss: (ops: Ops<string>, inputs: Record<string, string>) => stage.forward(ops, inputs).loss,
  };
  if (!restarts) return trainOnChosenEngine({ tfjs, onnx }, env);
  return trainOnEngineOrTfjs(tfjs, () => restartingEngine(stage, onnx, schedule.adam, restarts), env);
}

/**
 * The ONNX Runtime engine of a stage with restarts: before each step a forward probe reads the step's codes,
 * errors and encoder outputs at the engine's weights; restarts write into the engine's codebook array. Throws,
 * having freed what it made, where the engine cannot take the stage.
 */
async function restartingEngine(
  stage: Stage,
  onnx: Omit<OrtEngineSpec, 'params' | 'adam'>,
  adam: AdamOptions | undefined,
  restarts: StageRestarts,
): Promise<TrainEngine> {
  let engine: OrtEngine | null = null;
  let probe: ForwardProbe | null = null;
  try {
    engine = await OrtEngine.create({ ...onnx, params: stage.params, adam });
    probe = await ForwardProbe.compile({
      params: stage.params,
      inputs: stage.inputs,
      modules: stage.modules,
      outputs: (ops, inputs) => {
        const r = stage.forward(ops, inputs).restart;
        if (!r) throw new Error('the stage computes no restart bookkeeping');
        return { codes: r.codes, errors: r.errors, normalised: r.normalised };
      },
    });
  } catch (error) {
    await engine?.finish();
    throw error;
  }
  const [ort, forward] = [engine, probe];
  const k = stage.params.indexOf(restarts.codebook);
  // the restarts change the engine's codebook array in place (Adam's state for it carries on, as on tfjs)
  restarts.book.codebook = { read: () => ort.weights[k], write: () => undefined };
  return {
    step: async (batch, lr) => {
      const v = await forward.run(stage.data(batch), ort.weights);
      const errors = v.errors as Float32Array;
      restarts.book.record(v.codes as Int32Array, errors, v.normalised as Float32Array, restarts.worst(errors.length));
      return ort.step(batch, lr);
    },
    loss: (batch) => ort.loss(batch),
    keepBest: () => ort.keepBest(),
    restoreBest: () => ort.restoreBest(),
    finish: async () => {
      await forward.release();
      await ort.finish();
    },
  };
}
