// @worldbench/onnx: `--model onnx:path/to/model.onnx` (with `model.worldbench.json` beside it).
// The default export is a model *scheme*: the runner hands it what follows "onnx:" and gets a WorldModelModule.
import type { ModelScheme } from '@worldbench/core';
import { onnxModule } from './model';

const scheme: ModelScheme = {
  scheme: 'onnx',
  summary: 'an ONNX world model exported from PyTorch/JAX, with a sidecar <model>.worldbench.json',
  resolve: async (arg) => onnxModule(arg),
};
export default scheme;

export { readGraph, type GraphInfo, type GraphIo } from './graph';
export { onnxModule, ORT_VERSION, SESSION_OPTIONS } from './model';
export { readSidecar, sidecarPathOf, validateSidecar, type Sidecar } from './sidecar';
