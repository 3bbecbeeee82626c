// Which engine trains a run: the ONNX Runtime engine unless WORLDBENCH_TRAIN_ENGINE=tfjs asks for tfjs. A model gives
// both forms of its loss (the tfjs one, and the same loss written against Ops with the data of a step); where the
// engine cannot take the run (the loss does not trace, ORT cannot open the graph), the run trains on tfjs and one
// line on stderr says why. The result names the engine that ran, for FitReport.backend. trainOnChosenEngine opens
// the engine itself; a run whose engine needs more around each step (spatial's dead-code restarts) opens its own
// through trainOnEngineOrTfjs, which holds the choice.
import { UserError } from '@worldbench/core';
import {
  backendName,
  type StepRecord,
  type TrainEngine,
  type TrainOptions,
  type TrainResult,
  type TrainSchedule,
  train,
  trainWith,
} from '@worldbench/neural';
import { ORT_ENGINE, OrtEngine, type OrtEngineSpec } from './engine';

/** The environment variable that chooses the training engine: 'onnx' (default) or 'tfjs'. */
export const TRAIN_ENGINE_ENV = 'WORLDBENCH_TRAIN_ENGINE';

export interface EngineRun<P> {
  /** The run on tfjs: the variables, the tfjs loss, Adam's options and the schedule (used by both engines). */
  tfjs: TrainOptions<P>;
  /** The same loss written against Ops, and a step's data: what the ONNX Runtime engine traces and feeds. */
  onnx: Omit<OrtEngineSpec, 'params' | 'adam'> & {
    /**
     * Called after every step on the engine, in place of `tfjs.afterStep`, with the engine: its weight arrays
     * (e.g. for the momentum update of `fed` weights) and the step's reported values.
     */
    afterStep?: (record: StepRecord, engine: OrtEngine) => void;
  };
}

/** The engine `env` asks for; a value other than onnx or tfjs is the user's error. */
export function requestedEngine(env: NodeJS.ProcessEnv = process.env): 'tfjs' | 'onnx' {
  const value = env[TRAIN_ENGINE_ENV] || 'onnx';
  if (value !== 'tfjs' && value !== 'onnx')
    throw new UserError(`${TRAIN_ENGINE_ENV}=${value} is not an engine: give onnx (the default) or tfjs`);
  return value;
}

/** Trains `run` on the engine `env` asks for (falling back to tfjs, with a notice, where the onnx engine cannot). */
export async function trainOnChosenEngine<P>(
  run: EngineRun<P>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TrainResult & { engine: string }> {
  const hook = run.onnx.afterStep;
  return trainOnEngineOrTfjs(
    run.tfjs,
    () => OrtEngine.create({ ...run.onnx, params: run.tfjs.params, adam: run.tfjs.adam }),
    env,
    (ort) => (hook ? { ...run.tfjs, afterStep: (r: StepRecord) => hook(r, ort) } : run.tfjs),
  );
}

/**
 * The choice every run goes through. Where `env` asks for the onnx engine (the default), the ONNX Runtime engine
 * `open` makes trains the run, on the schedule `scheduleOn` gives for it (default: `tfjs`'s). Where `env` asks for
 * tfjs, tfjs trains `tfjs`; so it does where `open` throws (having freed what it made), after one line on stderr
 * saying why. The result names the engine that trained.
 */
export async function trainOnEngineOrTfjs<P, E extends TrainEngine>(
  tfjs: TrainOptions<P>,
  open: () => Promise<E>,
  env: NodeJS.ProcessEnv = process.env,
  scheduleOn: (engine: E) => TrainSchedule = () => tfjs,
): Promise<TrainResult & { engine: string }> {
  if (requestedEngine(env) === 'onnx') {
    let engine: E | null = null;
    try {
      engine = await open();
    } catch (error) {
      const why = (error as Error).message.split('\n')[0];
      process.stderr.write(`worldbench: training engine ${backendName()} (onnx engine unavailable: ${why})\n`);
    }
    if (engine) return { ...(await trainWith(engine, scheduleOn(engine))), engine: ORT_ENGINE };
  }
  return { ...(await train(tfjs)), engine: backendName() };
}
