// exportOnnx: a network built from @worldbench/neural layers -> ONNX ModelProto bytes (opset 17), with the
// layers' current weights as initializers. The build function wires graph values through the builder
// (export-graph.ts) and the layer exporters (export-layers.ts) and names the graph's outputs.
import { OnnxBuilder, type ElementType, type ExportDim } from './export-graph';

/** A graph input: its name, shape (symbolic names such as "batch" for free dimensions) and element type. */
export interface ExportInput {
  name: string;
  shape: ExportDim[];
  dtype?: ElementType; // default float32
}

export interface ExportOptions {
  /** The graph's name; default "worldbench". */
  name?: string;
  /** A description stored in the model. */
  docString?: string;
}

/**
 * ONNX bytes of the network `build` wires up: it gets a builder whose inputs are declared, and returns
 * { graphOutputName: valueName }. E.g.
 * `exportOnnx((b) => ({ y: b.layer(norm, b.layer(mlp, 'x')) }), [{ name: 'x', shape: ['batch', 8] }])`.
 */
export function exportOnnx(build: (b: OnnxBuilder) => Record<string, string>, inputs: ExportInput[], options: ExportOptions = {}): Uint8Array {
  const b = new OnnxBuilder();
  for (const i of inputs) b.input(i.name, i.shape, i.dtype ?? 'float32');
  const outputs = build(b);
  return b.serialize(outputs, options.name ?? 'worldbench', options.docString);
}

export { OnnxBuilder, EXPORT_OPSET, broadcastShapes, type Attribute, type ElementType, type ExportDim, type ValueInfo } from './export-graph';
export { exportAttention, exportDense, exportEmbedding, exportLayer, exportLayerNorm, exportMlp, type LayerExportOptions } from './export-layers';
