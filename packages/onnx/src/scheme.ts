// The `onnx:` model scheme, the plug-in the runner loads: it hands over what follows "onnx:" and gets a
// WorldModelModule. Kept apart from the exporter so that loading an ONNX model does not import tfjs.
import type { ModelScheme } from '@worldbench/core';
import { onnxModule } from './model';

const scheme: ModelScheme = {
  scheme: 'onnx',
  summary: 'an ONNX world model exported from PyTorch/JAX, with a sidecar <model>.worldbench.json',
  resolve: async (arg) => onnxModule(arg),
};
export default scheme;
