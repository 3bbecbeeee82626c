// Reading an ONNX file's graph (inputs, outputs, declared shapes) with the maintained protobuf definitions of
// onnx-proto, before any session exists: a truncated or foreign file fails here with a message that says so.
import { readFileSync, statSync } from 'node:fs';
import onnxProto from 'onnx-proto'; // CommonJS: its named exports are read off the default in Node's ESM
import type { onnx as Onnx } from 'onnx-proto';
import { UserError } from '@worldbench/core';

/** A declared dimension: a number, or a symbolic name (e.g. "batch"), or null when unknown. */
export type Dim = number | string | null;

export interface GraphIo {
  name: string;
  /** ONNX element type name, e.g. "FLOAT". */
  elementType: string;
  shape: Dim[] | null;
}

export interface GraphInfo {
  inputs: GraphIo[];
  outputs: GraphIo[];
  producer: string;
  opset: number;
  /** Scalars held by the graph's initializers (the model's parameters). */
  parameters: number;
}

const { onnx } = onnxProto;

function io(value: Onnx.IValueInfoProto): GraphIo {
  const tensor = value.type?.tensorType;
  const elementType =
    tensor?.elemType != null ? (onnx.TensorProto.DataType[tensor.elemType] ?? String(tensor.elemType)) : 'unknown';
  const shape = tensor?.shape?.dim
    ? tensor.shape.dim.map((d) =>
        d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam ? d.dimParam : null,
      )
    : null;
  return { name: value.name ?? '', elementType, shape };
}

export function readGraph(path: string): GraphInfo {
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(
      `onnx: cannot read ${path} (${(err as Error).message}); give --model onnx:<path to an .onnx file>`,
    );
  }
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    const why = /index out of range/.test((err as Error).message)
      ? 'the file ends early: is it truncated?'
      : 'it is not an ONNX protobuf';
    throw new UserError(
      `onnx: ${path} is not a readable ONNX model: ${why} (protobuf: ${(err as Error).message}); export it with ` +
        `torch.onnx.export or tf2onnx`,
      { cause: err },
    );
  }
  const graph = model.graph;
  if (!graph?.node?.length || !graph.output?.length)
    throw new UserError(
      `onnx: ${path} decodes, but holds no graph with nodes and outputs: it is not an ONNX model (or an empty one)`,
    );
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const parameters = (graph.initializer ?? []).reduce(
    (s, t) => s + (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1),
    0,
  );
  return {
    // graph inputs that are initializers are weights, not inputs to feed
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(io),
    outputs: graph.output.map(io),
    producer: model.producerName ?? '',
    opset: Number(model.opsetImport?.[0]?.version ?? 0),
    parameters,
  };
}
