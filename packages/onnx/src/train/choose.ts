// Which engine trains a run: tfjs unless WORLDBENCH_TRAIN_ENGINE=onnx opts into the ONNX Runtime engine. A model
// that opts in gives both forms of its loss (the tfjs one, and the same loss written against Ops with the data
// of a step); where the engine cannot take the run (the loss does not trace, ORT cannot open the graph), the run
// trains on tfjs and one line on stderr says why. The result names the engine that ran, for FitReport.backend.
import { UserError } from '@worldbench/core';
import { backendName, type TrainOptions, type TrainResult, train, trainWith } from '@worldbench/neural';
import { ORT_ENGINE, OrtEngine, type OrtEngineSpec } from './engine';

/** The environment variable that chooses the training engine: 'tfjs' (default) or 'onnx'. */
export const TRAIN_ENGINE_ENV = 'WORLDBENCH_TRAIN_ENGINE';

export interface EngineRun<P> {
  /** The run on tfjs: the variables, the tfjs loss, Adam's options and the schedule (used by both engines). */
  tfjs: TrainOptions<P>;
  /** The same loss written against Ops, and a step's data: what the ONNX Runtime engine traces and feeds. */
  onnx: Omit<OrtEngineSpec, 'params' | 'adam'>;
}

/** The engine `env` asks for; a value other than tfjs or onnx is the user's error. */
export function requestedEngine(env: NodeJS.ProcessEnv = process.env): 'tfjs' | 'onnx' {
  const value = env[TRAIN_ENGINE_ENV] ?? 'tfjs';
  if (value !== 'tfjs' && value !== 'onnx')
    throw new UserError(`${TRAIN_ENGINE_ENV}=${value} is not an engine: give tfjs (the default) or onnx`);
  return value;
}

/** Trains `run` on the engine `env` asks for (falling back to tfjs, with a notice, where onnx cannot). */
export async function trainOnChosenEngine<P>(
  run: EngineRun<P>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TrainResult & { engine: string }> {
  if (requestedEngine(env) === 'onnx') {
    let engine: OrtEngine | null = null;
    try {
      engine = await OrtEngine.create({ ...run.onnx, params: run.tfjs.params, adam: run.tfjs.adam });
    } catch (error) {
      const why = (error as Error).message.split('\n')[0];
      process.stderr.write(`worldbench: training engine ${backendName()} (onnx engine unavailable: ${why})\n`);
    }
    if (engine) return { ...(await trainWith(engine, run.tfjs)), engine: ORT_ENGINE };
  }
  return { ...(await train(run.tfjs)), engine: backendName() };
}
