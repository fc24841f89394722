/** A writer for ONNX fixtures. */
import { pbBytes, pbVarint, varint } from './bytes.js';

/**
 * One initializer for writeOnnx: `raw` goes to raw_data; `floatData` instead writes float_data; `external` marks it
 * EXTERNAL.
 */
export interface OnnxInitializer {
  name: string;
  dataType: number;
  dims: number[];
  raw?: Buffer;
  floatData?: number[];
  /** Kept in an external-data file: `true` is `weights.bin` with no offset or length entries. */
  external?: boolean | { location: string; offset?: number; length?: number };
}

/** Options for writeOnnx. */
export interface OnnxOptions {
  irVersion?: number | null;
  graphName?: string;
  /** Write dims as one packed field instead of one varint field per dim (proto2 default). */
  packedDims?: boolean;
  /** More NodeProto payloads for the graph (see onnxConstant, onnxIf). */
  nodes?: Buffer[];
}

/** A TensorProto payload. */
export function onnxTensor(t: OnnxInitializer, packedDims = false, named = true): Buffer {
  const dims = packedDims
    ? pbBytes(1, Buffer.concat(t.dims.map(varint)))
    : Buffer.concat(t.dims.map((d) => pbVarint(1, d)));
  const fields = [dims, pbVarint(2, t.dataType)];
  if (t.floatData) {
    const f = Buffer.alloc(t.floatData.length * 4);
    t.floatData.forEach((x, i) => f.writeFloatLE(x, i * 4));
    fields.push(pbBytes(4, f));
  }
  if (named) fields.push(pbBytes(8, Buffer.from(t.name)));
  if (t.raw) fields.push(pbBytes(9, t.raw));
  if (t.external) {
    const e = t.external === true ? { location: 'weights.bin' } : t.external;
    const entry = (k: string, v: string) =>
      pbBytes(13, Buffer.concat([pbBytes(1, Buffer.from(k)), pbBytes(2, Buffer.from(v))]));
    fields.push(entry('location', e.location));
    if (e.offset !== undefined) fields.push(entry('offset', String(e.offset)));
    if (e.length !== undefined) fields.push(entry('length', String(e.length)));
    fields.push(pbVarint(14, 1));
  }
  return Buffer.concat(fields);
}

/** A `Constant` NodeProto payload whose `value` attribute holds `t` (exporters leave the tensor unnamed). */
export function onnxConstant(output: string, t: OnnxInitializer): Buffer {
  const attr = Buffer.concat([
    pbBytes(1, Buffer.from('value')),
    pbBytes(5, onnxTensor(t, false, t.name !== '')),
    pbVarint(20, 4),
  ]);
  return Buffer.concat([pbBytes(2, Buffer.from(output)), pbBytes(4, Buffer.from('Constant')), pbBytes(5, attr)]);
}

/** An `If` NodeProto payload whose then_branch subgraph holds `initializers` and `nodes`. */
export function onnxIf(name: string, initializers: OnnxInitializer[], nodes: Buffer[] = []): Buffer {
  const graph = Buffer.concat([
    ...nodes.map((n) => pbBytes(1, n)),
    pbBytes(2, Buffer.from(`${name}_then`)),
    ...initializers.map((t) => pbBytes(5, onnxTensor(t))),
  ]);
  const attr = Buffer.concat([pbBytes(1, Buffer.from('then_branch')), pbBytes(6, graph), pbVarint(20, 5)]);
  return Buffer.concat([
    pbBytes(1, Buffer.from('cond')),
    pbBytes(2, Buffer.from(`${name}_out`)),
    pbBytes(3, Buffer.from(name)),
    pbBytes(4, Buffer.from('If')),
    pbBytes(5, attr),
  ]);
}

/** A valid ONNX ModelProto (ir_version, producer, opset 17, one Identity node) whose graph holds the initializers. */
export function writeOnnx(initializers: OnnxInitializer[], opts: OnnxOptions = {}): Buffer {
  const tensors = initializers.map((t) => pbBytes(5, onnxTensor(t, opts.packedDims)));
  const node = pbBytes(
    1,
    Buffer.concat([
      pbBytes(1, Buffer.from('x')),
      pbBytes(2, Buffer.from('y')),
      pbBytes(3, Buffer.from('id0')),
      pbBytes(4, Buffer.from('Identity')),
    ]),
  );
  const graph = Buffer.concat([
    node,
    ...(opts.nodes ?? []).map((n) => pbBytes(1, n)),
    pbBytes(2, Buffer.from(opts.graphName ?? 'g')),
    ...tensors,
    pbBytes(11, pbBytes(1, Buffer.from('x'))),
    pbBytes(12, pbBytes(1, Buffer.from('y'))),
  ]);
  const irVersion = opts.irVersion === undefined ? 8 : opts.irVersion;
  return Buffer.concat([
    irVersion === null ? Buffer.alloc(0) : pbVarint(1, irVersion),
    pbBytes(2, Buffer.from('mvm-test')),
    pbBytes(7, graph),
    pbBytes(8, Buffer.concat([pbBytes(1, Buffer.from('')), pbVarint(2, 17)])),
  ]);
}
