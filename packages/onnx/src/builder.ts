// The ONNX graph builder of the exporter: named values with tracked shapes and element types, initializers
// made from tensors' current values, nodes of the default ONNX domain (opset EXPORT_OPSET), and the
// serialisation to ModelProto bytes with onnx-proto. OnnxOps (onnx-ops.ts) writes the Ops interface with it.
import onnxProto from 'onnx-proto'; // CommonJS: its named exports are read off the default in Node's ESM
import type { onnx as Onnx } from 'onnx-proto';
import type { tf } from '@worldbench/neural';

const { onnx } = onnxProto;

/** The opset the exporter writes (LayerNormalization is an ONNX op from 17 on). */
export const EXPORT_OPSET = 17;
/** IR version 8: the one onnx-proto knows, and the one ONNX pairs with opset 17. */
const IR_VERSION = 8;

/** A dimension: a size, or a symbolic name such as "batch". */
export type ExportDim = number | string;
export type ElementType = 'float32' | 'int32' | 'int64' | 'bool';

/** What the builder knows about a named value. */
export interface ValueInfo {
  shape: ExportDim[];
  dtype: ElementType;
}

const DATA_TYPE: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A node attribute, tagged with its ONNX type (an int and a whole-number float differ in ONNX). */
export type Attribute = { int: number } | { float: number } | { ints: number[] } | { string: string };

function attribute(name: string, a: Attribute): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('string' in a) return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
  return { name, type: T.INTS, ints: a.ints };
}

function valueInfo(name: string, info: ValueInfo): Onnx.IValueInfoProto {
  const dim = info.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[info.dtype], shape: { dim } } } };
}

function bytesOf(values: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  const copy = values.slice(); // its own little-endian buffer, whatever view it came from
  return new Uint8Array(copy.buffer, 0, copy.byteLength);
}

/**
 * numpy broadcasting of two shapes. Two sizes must agree or one be 1; a symbolic dimension is taken to
 * match whatever it meets (a size beats a name), as ONNX Runtime checks it when the graph runs.
 */
export function broadcastShapes(a: ExportDim[], b: ExportDim[]): ExportDim[] {
  const n = Math.max(a.length, b.length);
  const out: ExportDim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1,
      y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else if (typeof x === 'string') out.push(y);
    else if (typeof y === 'string') out.push(x);
    else throw new Error(`exportOnnx: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  }
  return out;
}

export class OnnxBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly values = new Map<string, ValueInfo>();
  private readonly weights = new Map<tf.Tensor, string>(); // a tensor used twice is stored once
  private readonly scalars = new Map<string, string>(); //     so is a scalar constant
  private readonly counters = new Map<string, number>();

  /** A name no value has yet: `prefix`, `prefix_1`, ... */
  fresh(prefix: string): string {
    let k = this.counters.get(prefix) ?? 0;
    let name = k === 0 ? prefix : `${prefix}_${k}`;
    while (this.values.has(name)) name = `${prefix}_${++k}`;
    this.counters.set(prefix, k + 1);
    return name;
  }

  /** Shape and element type of a value; throws for a name the graph does not have. */
  info(name: string): ValueInfo {
    const info = this.values.get(name);
    if (!info)
      throw new Error(
        `exportOnnx: no value named "${name}" in the graph (inputs: ${this.inputs.map((i) => i.name).join(', ')})`,
      );
    return info;
  }

  shapeOf(name: string): ExportDim[] {
    return this.info(name).shape;
  }

  /** Declares a graph input. */
  input(name: string, shape: ExportDim[], dtype: ElementType = 'float32'): string {
    if (this.values.has(name)) throw new Error(`exportOnnx: input "${name}" is declared twice`);
    this.values.set(name, { shape, dtype });
    this.inputs.push(valueInfo(name, { shape, dtype }));
    return name;
  }

  /** An initializer holding `values` of `shape`. */
  constant(values: Float32Array | Int32Array | BigInt64Array, shape: number[], prefix = 'const'): string {
    const dtype: ElementType =
      values instanceof Float32Array ? 'float32' : values instanceof Int32Array ? 'int32' : 'int64';
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== values.length)
      throw new Error(`exportOnnx: constant ${prefix} has ${values.length} values for shape [${shape.join(', ')}]`);
    const name = this.fresh(prefix);
    this.initializers.push({ name, dims: shape, dataType: DATA_TYPE[dtype], rawData: bytesOf(values) });
    this.values.set(name, { shape, dtype });
    return name;
  }

  /** A scalar initializer, float32 or int32 (one per value and type). */
  scalar(value: number, prefix = 'scalar', dtype: 'float32' | 'int32' = 'float32'): string {
    const key = `${dtype}:${value}`;
    const known = this.scalars.get(key);
    if (known) return known;
    const name = this.constant(dtype === 'float32' ? new Float32Array([value]) : new Int32Array([value]), [], prefix);
    this.scalars.set(key, name);
    return name;
  }

  /** An int64 vector initializer (shapes, axes). */
  int64s(values: number[], prefix = 'ints'): string {
    return this.constant(BigInt64Array.from(values.map(BigInt)), [values.length], prefix);
  }

  /** An initializer with a tensor's current values (read once, with dataSync), named after `prefix`. */
  weight(tensor: tf.Tensor, prefix: string): string {
    const known = this.weights.get(tensor);
    if (known) return known;
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32')
      throw new Error(`exportOnnx: weight ${prefix} is ${tensor.dtype}, expected float32 or int32`);
    const name = this.constant(tensor.dataSync() as Float32Array | Int32Array, tensor.shape, prefix);
    this.weights.set(tensor, name);
    return name;
  }

  /** Appends one node with one output, whose shape and type the caller states. */
  node(op: string, inputs: string[], out: ValueInfo, attributes: Record<string, Attribute> = {}, prefix = op): string {
    return this.nodeOutputs(op, inputs, [out], attributes, prefix)[0];
  }

  /** Appends one node with several outputs (e.g. Split), whose shapes and types the caller states. */
  nodeOutputs(
    op: string,
    inputs: string[],
    outs: ValueInfo[],
    attributes: Record<string, Attribute> = {},
    prefix = op,
  ): string[] {
    for (const i of inputs) this.info(i); // every input must exist
    const outputs = outs.map((out) => {
      const name = this.fresh(prefix);
      this.values.set(name, out);
      return name;
    });
    this.nodes.push({
      opType: op,
      name: `${outputs[0]}_node`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  // region elementwise and shape ops ----------------------------------------------------------------

  private binary(op: string, a: string, b: string, prefix: string): string {
    const [x, y] = [this.info(a), this.info(b)];
    return this.node(op, [a, b], { shape: broadcastShapes(x.shape, y.shape), dtype: x.dtype }, {}, prefix);
  }

  add(a: string, b: string, prefix = 'Add'): string {
    return this.binary('Add', a, b, prefix);
  }

  sub(a: string, b: string, prefix = 'Sub'): string {
    return this.binary('Sub', a, b, prefix);
  }

  mul(a: string, b: string, prefix = 'Mul'): string {
    return this.binary('Mul', a, b, prefix);
  }

  /** a [..., M, K] @ b [..., K, N] (numpy matmul broadcasting). */
  matMul(a: string, b: string): string {
    const [x, y] = [this.shapeOf(a), this.shapeOf(b)];
    const lead = broadcastShapes(x.slice(0, -2), y.slice(0, -2));
    return this.node('MatMul', [a, b], { shape: [...lead, x[x.length - 2], y[y.length - 1]], dtype: 'float32' });
  }

  /** Reshape with ONNX's conventions: 0 copies the input's dimension, -1 takes what is left. */
  reshape(x: string, shape: number[]): string {
    const from = this.shapeOf(x);
    const out: ExportDim[] = shape.map((d, i) => (d === 0 ? from[i] : d));
    const rest = out.indexOf(-1);
    if (rest >= 0) {
      const copied = new Set(shape.flatMap((d, i) => (d === 0 ? [i] : [])));
      const left = from.filter((_, i) => !copied.has(i));
      const known = (out.filter((_d, i) => i !== rest && !copied.has(i)) as number[]).reduce((a, b) => a * b, 1);
      const names = left.filter((d) => typeof d === 'string');
      const sizes = (left.filter((d) => typeof d === 'number') as number[]).reduce((a, b) => a * b, 1);
      // all sizes: their quotient; one name left over after the sizes cancel: that name; else a new name
      out[rest] = names.length === 0 ? sizes / known : names.length === 1 && sizes === known ? names[0] : `${x}_rest`;
    }
    return this.node('Reshape', [x, this.int64s(shape, 'shape')], { shape: out, dtype: this.info(x).dtype });
  }

  transpose(x: string, perm: number[]): string {
    const from = this.shapeOf(x);
    return this.node(
      'Transpose',
      [x],
      { shape: perm.map((p) => from[p]), dtype: this.info(x).dtype },
      { perm: { ints: perm } },
    );
  }

  // endregion

  /** ModelProto bytes with `outputs` (graph output name -> value) as the graph's outputs. */
  serialize(outputs: Record<string, string>, graphName: string, docString = ''): Uint8Array {
    const declared: Onnx.IValueInfoProto[] = [];
    for (const [name, value] of Object.entries(outputs)) {
      const info = this.info(value);
      if (name !== value) {
        if (this.values.has(name))
          throw new Error(`exportOnnx: output name "${name}" is already a value of the graph; choose another`);
        this.nodes.push({ opType: 'Identity', name: `${name}_node`, input: [value], output: [name] });
        this.values.set(name, info);
      }
      declared.push(valueInfo(name, info));
    }
    if (!declared.length) throw new Error('exportOnnx: the build function returned no outputs');
    const model: Onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: EXPORT_OPSET }],
      producerName: 'worldbench',
      producerVersion: '0.1.0',
      docString,
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: declared,
      },
    };
    const err = onnx.ModelProto.verify(model);
    if (err) throw new Error(`exportOnnx: malformed model (${err})`);
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}
