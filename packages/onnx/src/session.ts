// ONNX Runtime for the bench's own networks: jepa and spatial export their trained networks with
// exportOnnx and forecast through these sessions (SESSION_OPTIONS: one thread, sequential). Packages that
// depend on @worldbench/onnx use ORT through this module, not by importing onnxruntime-node themselves.
import * as ort from 'onnxruntime-node';
import { ORT_VERSION, SESSION_OPTIONS } from './model';

export type OrtSession = ort.InferenceSession;
export type OrtFeeds = Record<string, ort.Tensor>;

/** A session on exported model bytes, with the bench's CPU settings. Release it with `session.release()`. */
export function openSession(bytes: Uint8Array): Promise<OrtSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTIONS);
}

/** An ORT input tensor: float32, int32 or int64 data with its dimensions. */
export function ortTensor(data: Float32Array | Int32Array | BigInt64Array, dims: number[]): ort.Tensor {
  return new ort.Tensor(data, dims);
}

/** The backend name a model reports when it trained with `trainBackend` and forecasts through ORT. */
export function onnxForecastBackend(trainBackend: string): string {
  return `${trainBackend}+onnxruntime ${ORT_VERSION}`;
}
