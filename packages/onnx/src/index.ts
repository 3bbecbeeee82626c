// @worldbench/onnx: `--model onnx:path/to/model.onnx` (with `model.worldbench.json` beside it), and the
// exporter of the neural kit's networks to ONNX. The default export is the model scheme (scheme.ts).
export { default } from './scheme';

export { readGraph, type GraphInfo, type GraphIo } from './graph';
export { exportOnnx, OnnxBuilder, EXPORT_OPSET, exportLayer, type ExportInput, type ExportOptions, type ExportDim, type ElementType, type LayerExportOptions } from './export';
export { onnxModule, ORT_VERSION, SESSION_OPTIONS } from './model';
export { readSidecar, sidecarPathOf, validateSidecar, type Sidecar } from './sidecar';
export { onnxForecastBackend, openSession, ortTensor, type OrtFeeds, type OrtSession } from './session';
