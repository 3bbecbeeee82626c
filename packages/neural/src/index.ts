// @worldbench/neural: the shared kit of the neural world models (jepa, spatial).
// backend: which tfjs runs, and the one `tf` namespace everyone imports.
// ops + module: the interface a network is written against once (`apply(ops, ...)`), and the Module base of
//   every layer; tfjs-ops: that interface run by tfjs (@worldbench/onnx traces it into ONNX graphs).
// kernels: differentiable tfjs ops with explicit-transpose gradients (fast on tfjs-wasm).
// layers: Dense, LayerNorm, Embedding, MultiHeadAttention, Mlp, TransformerBlock; local-mixing: LocalMixing, the
//   convolution-like alternative to attention for tokens on a grid.
// adam + trainer: the training loop (seeded minibatches, warm-up + cosine, early stopping, a post-step hook).

export { tf, initBackend, backendName, type BackendName, type BackendChoice } from './backend';
export { readWeights, writeWeights } from './weights';
export type { Activation, AttentionMasks, Dim, Ops } from './ops';
export { Module, type Part } from './module';
export { tfjsOps } from './tfjs-ops';
export {
  dense,
  batchMatMul,
  takeRows,
  layerNorm,
  gelu,
  relu,
  attention,
  causalMask,
  keyPaddingMask,
  stopGradient,
} from './kernels';
export {
  Dense,
  LayerNorm,
  Embedding,
  MultiHeadAttention,
  Mlp,
  TransformerBlock,
  normalVariable,
  constantVariable,
  type Init,
  type DenseOptions,
  type AttentionOptions,
  type SelfAttention,
} from './layers';
export { LocalMixing } from './local-mixing';
export { Adam, ArrayAdam, learningRateAt, type AdamOptions } from './adam';
export {
  train,
  trainWith,
  shuffledBatches,
  type TrainEngine,
  type TrainSchedule,
  type TrainOptions,
  type TrainRecord,
  type TrainResult,
  type StepRecord,
} from './trainer';
