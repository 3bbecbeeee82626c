// exportOnnx: a network written against @worldbench/neural's Ops interface -> ONNX ModelProto bytes (opset 17),
// with the weights' current values as initializers. The build function traces the network (`apply(ops, ...)`
// with an OnnxOps, onnx-ops.ts) from the declared inputs and names the graph's outputs.
import type { Module } from '@worldbench/neural';
import { OnnxBuilder, type ElementType, type ExportDim } from './builder';
import { OnnxOps, type LayerExporter } from './onnx-ops';

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
  /**
   * Modules whose weights the graph holds, by name: their initializers are named by path
   * (`predictor.blocks.0.norm1.gain`).
   */
  modules?: Record<string, Module>;
  /** Graph forms of layer classes whose exported form deliberately differs from their `apply` (see Ops.layer). */
  exporters?: readonly LayerExporter[];
}

/**
 * ONNX bytes of the network `build` traces: it gets an OnnxOps whose graph has the declared inputs, and returns
 * { graphOutputName: valueName }. E.g.
 * `exportOnnx((ops) => ({ y: norm.apply(ops, mlp.apply(ops, 'x')) }), [{ name: 'x', shape: ['batch', 8] }])`.
 */
export function exportOnnx(
  build: (ops: OnnxOps) => Record<string, string>,
  inputs: ExportInput[],
  options: ExportOptions = {},
): Uint8Array {
  const graph = new OnnxBuilder();
  for (const i of inputs) graph.input(i.name, i.shape, i.dtype ?? 'float32');
  const names = new Map(
    Object.entries(options.modules ?? {}).flatMap(([name, module]) =>
      module.namedParams(`${name}.`).map(([path, v]) => [v, path] as const),
    ),
  );
  const outputs = build(new OnnxOps(graph, { names, exporters: options.exporters }));
  return graph.serialize(outputs, options.name ?? 'worldbench', options.docString);
}

export {
  OnnxBuilder,
  EXPORT_OPSET,
  broadcastShapes,
  type Attribute,
  type ElementType,
  type ExportDim,
  type ValueInfo,
} from './builder';
export { OnnxOps, layerExporter, type LayerExporter, type OnnxOpsOptions } from './onnx-ops';
