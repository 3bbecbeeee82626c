// @worldbench/onnx: `--model onnx:path/to/model.onnx` (with `model.worldbench.json` beside it), and the
// exporter of networks written against the neural kit's Ops to ONNX. The default export is the model scheme
// (scheme.ts).
export { default } from './scheme';

export { readGraph, type GraphInfo, type GraphIo } from './graph';
export {
  exportOnnx,
  OnnxBuilder,
  OnnxOps,
  layerExporter,
  EXPORT_OPSET,
  type ExportInput,
  type ExportOptions,
  type ExportDim,
  type ElementType,
  type LayerExporter,
} from './export';
export { onnxModule, ORT_VERSION, SESSION_OPTIONS } from './model';
export { readSidecar, sidecarPathOf, validateSidecar, type Sidecar } from './sidecar';
export { onnxForecastBackend, openSession, ortTensor, type OrtFeeds, type OrtSession } from './session';
export { GradOps } from './train/grad-ops';
export { TrainStep, type TrainStepSpec, type StepData, type StepResult, type ReportedLoss } from './train/train-step';
export {
  OrtEngine,
  ORT_ENGINE,
  rowsOf,
  type OrtEngineSpec,
  type OrtSharedEngineSpec,
  type SharedGraphSpec,
} from './train/engine';
export { ForwardProbe, type ForwardProbeSpec } from './train/probe';
export {
  TRAIN_ENGINE_ENV,
  requestedEngine,
  trainOnChosenEngine,
  trainOnEngineOrTfjs,
  type EngineRun,
} from './train/choose';
