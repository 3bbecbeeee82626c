// ONNX exporters of the @worldbench/neural layers, one function per layer class, each
// (builder, layer, input, options) -> output name, computing what the layer's `apply` computes, op for op
// where the order of float operations matters. `exportLayer` picks the exporter by class.
import { Dense, Embedding, LayerNorm, Mlp, MultiHeadAttention } from '@worldbench/neural';
import type { OnnxBuilder } from './export-graph';

/** What a layer's `apply` takes besides its input; only MultiHeadAttention takes any. */
export interface LayerExportOptions {
  /** Causal self-attention. */
  causal?: boolean;
  /** Cross-attention: the name of the [B, S, D] value keys and values come from. */
  context?: string;
  /** The name of a float [B, S] value: 1 for a key to attend to, 0 for padding. */
  keyMask?: string;
}

const SUPPORTED = 'Dense, LayerNorm, Embedding, MultiHeadAttention, Mlp';

function lastDim(b: OnnxBuilder, x: string, expected: number, what: string): void {
  const shape = b.shapeOf(x);
  const d = shape[shape.length - 1];
  if (typeof d === 'number' && d !== expected) throw new Error(`exportOnnx: ${what} takes width ${expected}, "${x}" has shape [${shape.join(', ')}]`);
}

/** x [..., I] -> act(x @ W + b) [..., O]. */
export function exportDense(b: OnnxBuilder, layer: Dense, x: string): string {
  lastDim(b, x, layer.inputs, `Dense ${layer.inputs}->${layer.outputs}`);
  const y = b.add(b.matMul(x, b.weight(layer.w, 'dense_w')), b.weight(layer.b, 'dense_b'), 'dense');
  return layer.activation === 'relu' ? b.node('Relu', [y], b.info(y), {}, 'dense_relu') : y;
}

/** Dense layers with ReLU (fused in each layer) or GELU between them, linear output. */
export function exportMlp(b: OnnxBuilder, mlp: Mlp, x: string): string {
  let h = x;
  mlp.layers.forEach((layer, i) => {
    h = exportDense(b, layer, h);
    if (mlp.hidden === 'gelu' && i < mlp.layers.length - 1) h = b.gelu(h);
  });
  return h;
}

/** ONNX LayerNormalization over the last axis (opset 17), with the layer's gain, bias and epsilon. */
export function exportLayerNorm(b: OnnxBuilder, layer: LayerNorm, x: string): string {
  lastDim(b, x, layer.width, `LayerNorm(${layer.width})`);
  const inputs = [x, b.weight(layer.gain, 'ln_gain'), b.weight(layer.bias, 'ln_bias')];
  return b.node('LayerNormalization', inputs, b.info(x), { axis: { int: -1 }, epsilon: { float: layer.epsilon } }, 'layer_norm');
}

/** ids (any shape S; int32, int64, or float holding whole numbers) -> rows of the table [...S, D]. */
export function exportEmbedding(b: OnnxBuilder, layer: Embedding, ids: string): string {
  const { shape, dtype } = b.info(ids);
  const index = dtype === 'float32' ? b.node('Cast', [ids], { shape, dtype: 'int64' }, { to: { int: 7 } }, 'ids') : ids; // 7: INT64
  return b.node('Gather', [b.weight(layer.table, 'embedding'), index], { shape: [...shape, layer.width], dtype: 'float32' }, { axis: { int: 0 } }, 'embedded');
}

/**
 * Additive mask [T, T] for the sequence of `x` [B, T, D], as neural's causalMask: -1e9 above the diagonal,
 * 0 elsewhere. A constant for a fixed T; for a symbolic T, made in the graph (-1e9 expanded to [T, T],
 * upper triangle above the diagonal kept by Trilu).
 */
function causalMask(b: OnnxBuilder, x: string): string {
  const t = b.shapeOf(x)[1];
  if (typeof t === 'number') {
    const m = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
    return b.constant(m, [t, t], 'causal_mask');
  }
  const shape = b.node('Shape', [x], { shape: [3], dtype: 'int64' }, {}, 'x_shape');
  const tt = b.node('Gather', [shape, b.int64s([1, 1], 'time_axes')], { shape: [2], dtype: 'int64' }, { axis: { int: 0 } }, 'mask_shape');
  const filled = b.node('Expand', [b.scalar(-1e9, 'mask_drop'), tt], { shape: [t, t], dtype: 'float32' }, {}, 'mask_filled');
  const one = b.constant(BigInt64Array.from([1n]), [], 'diagonal_offset');
  return b.node('Trilu', [filled, one], { shape: [t, t], dtype: 'float32' }, { upper: { int: 1 } }, 'causal_mask');
}

/**
 * Multi-head attention x [B, T, D] -> [B, T, D], as neural's MultiHeadAttention.apply and `attention`:
 * projections, heads split as [B, H, T, dh] (the same numbers as tfjs's [B*H, T, dh]), scaled scores,
 * additive causal and key padding masks, softmax, weighted values, heads merged, output projection.
 */
export function exportAttention(b: OnnxBuilder, layer: MultiHeadAttention, x: string, options: LayerExportOptions = {}): string {
  const { width: d, heads } = layer;
  const dh = d / heads;
  if (b.shapeOf(x).length !== 3) throw new Error(`exportOnnx: MultiHeadAttention takes [batch, T, ${d}], "${x}" has shape [${b.shapeOf(x).join(', ')}]`);
  if (options.causal && options.context) throw new Error('exportOnnx: causal masking is for self-attention only');
  const source = options.context ?? x;
  const q = exportDense(b, layer.query, x); //                                   [B, T, D]
  const k = exportDense(b, layer.key, source); //                                [B, S, D]
  const v = exportDense(b, layer.value, source); //                              [B, S, D]
  const heads4 = (y: string) => b.reshape(y, [0, 0, heads, dh]); //              [B, L, H, dh]
  const qh = b.transpose(heads4(q), [0, 2, 1, 3]); //                           [B, H, T, dh]
  const kt = b.transpose(heads4(k), [0, 2, 3, 1]); //                           [B, H, dh, S]
  const vh = b.transpose(heads4(v), [0, 2, 1, 3]); //                           [B, H, S, dh]
  let scores = b.mul(b.matMul(qh, kt), b.scalar(1 / Math.sqrt(dh), 'attention_scale')); // [B, H, T, S]
  let mask: string | undefined;
  if (options.causal) mask = causalMask(b, x); //                                [T, T]
  if (options.keyMask) {
    if (b.info(options.keyMask).dtype !== 'float32') throw new Error(`exportOnnx: keyMask "${options.keyMask}" must be float32 (1 keep, 0 padding)`);
    const drop = b.mul(b.sub(b.scalar(1, 'one'), options.keyMask), b.scalar(-1e9, 'mask_drop')); // [B, S]
    const padding = b.reshape(drop, [0, 1, 1, -1]); //                           [B, 1, 1, S]
    mask = mask ? b.add(mask, padding) : padding; //                             broadcasts to [B, 1, T, S]
  }
  if (mask) scores = b.add(scores, mask);
  const weights = b.node('Softmax', [scores], b.info(scores), { axis: { int: -1 } }, 'attention_weights');
  const out = b.transpose(b.matMul(weights, vh), [0, 2, 1, 3]); //              [B, T, H, dh]
  return exportDense(b, layer.output, b.reshape(out, [0, 0, d])); //            [B, T, D]
}

/** Exports `layer` applied to `input` with the exporter of its class; a clear error for any other layer. */
export function exportLayer(b: OnnxBuilder, layer: unknown, input: string, options: LayerExportOptions = {}): string {
  if (layer instanceof MultiHeadAttention) return exportAttention(b, layer, input, options);
  if (Object.keys(options).length) throw new Error(`exportOnnx: options ${Object.keys(options).join(', ')} are for MultiHeadAttention only`);
  if (layer instanceof Dense) return exportDense(b, layer, input);
  if (layer instanceof Mlp) return exportMlp(b, layer, input);
  if (layer instanceof LayerNorm) return exportLayerNorm(b, layer, input);
  if (layer instanceof Embedding) return exportEmbedding(b, layer, input);
  const name = (layer as object | null)?.constructor?.name ?? String(layer);
  throw new Error(`exportOnnx: no exporter for layer ${name}; supported: ${SUPPORTED}. Export other parts with the builder's ops (add, mul, matMul, gelu, relu, reshape, transpose, node)`);
}
