// @worldbench/neural: the shared kit of the neural world models (jepa, spatial).
// backend: which tfjs runs, and the one `tf` namespace everyone imports.
// ops: differentiable ops with explicit-transpose gradients (fast on tfjs-wasm).
// layers: those ops with their parameters (Dense, LayerNorm, Embedding, MultiHeadAttention, Mlp).
// adam + trainer: the training loop (seeded minibatches, warm-up + cosine, early stopping).

export { tf, initBackend, backendName, type BackendName, type BackendChoice } from './backend';
export { readWeights, writeWeights } from './weights';
export { dense, batchMatMul, takeRows, layerNorm, gelu, relu, attention, causalMask, keyPaddingMask, type Activation } from './ops';
export {
  Dense,
  LayerNorm,
  Embedding,
  MultiHeadAttention,
  Mlp,
  paramsOf,
  countParams,
  normalVariable,
  constantVariable,
  type Layer,
  type Init,
  type DenseOptions,
  type AttentionOptions,
} from './layers';
export { Adam, learningRateAt, type AdamOptions } from './adam';
export { train, type TrainOptions, type TrainRecord, type TrainResult } from './trainer';
