/**
 * ONNX: a protobuf ModelProto. The units are the `raw_data` payloads of the
 * graph's initializers (ModelProto.graph = 7, GraphProto.initializer = 5,
 * TensorProto dims = 1, data_type = 2, name = 8, raw_data = 9,
 * data_location = 14), and of the tensors that nodes hold in attributes
 * (GraphProto.node = 1; NodeProto output = 2, name = 3, attribute = 5;
 * AttributeProto t = 5, tensors = 10): a `Constant` node's value, named after
 * the node's output, as exporters that fold weights into constants write
 * them. Subgraphs (AttributeProto g = 6, graphs = 11: the bodies of `If`,
 * `Loop` and `Scan`) are read the same way, up to 16 levels deep, their
 * tensors named under `<node>/<attribute>/`. The file is
 * stream-parsed in bounded windows; raw_data payloads are skipped, never read.
 */
import { lenient, ByteCursor, shapeElements, type ByteSource, type Layout, type TensorInfo } from './types.js';
import { NameBudget } from './names.js';
import { MAX_TENSOR_NAME, ONNX_MAX_NAME } from '../limits.js';

/** Canonical dtype and bits per element of each ONNX TensorProto.DataType we recognise. */
export const ONNX_DTYPES: ReadonlyMap<number, { name: string; bits: number }> = new Map(
  (
    [
      [1, 'f32', 32],
      [2, 'u8', 8],
      [3, 'i8', 8],
      [4, 'u16', 16],
      [5, 'i16', 16],
      [6, 'i32', 32],
      [7, 'i64', 64],
      [9, 'bool', 8],
      [10, 'f16', 16],
      [11, 'f64', 64],
      [12, 'u32', 32],
      [13, 'u64', 64],
      [14, 'c64', 64],
      [15, 'c128', 128],
      [16, 'bf16', 16],
      [17, 'f8_e4m3', 8],
      [18, 'f8_e4m3fnuz', 8],
      [19, 'f8_e5m2', 8],
      [20, 'f8_e5m2fnuz', 8],
      [21, 'u4', 4],
      [22, 'i4', 4],
      [23, 'f4_e2m1', 4],
    ] as const
  ).map(([id, name, bits]) => [id, { name, bits }]),
);

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const DATA_LOCATION_EXTERNAL = 1;
/** Deepest nesting of subgraphs read (a hostile file could nest without end). */
const MAX_GRAPH_DEPTH = 16;

/**
 * Parses an ONNX model's initializer raw_data map, or returns null when the bytes are not a ModelProto with raw
 * initializers.
 */
export const parseOnnx = lenient((src) => parse(src, []));

/** A tensor whose bytes an ONNX model keeps in another file (external data): that file, and where in it. */
export interface ExternalTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** The file, relative to the model's folder, as the model names it. */
  location: string;
  offset: number;
  length: number;
}

/** The tensors an ONNX model keeps in external-data files; null when the bytes are not a model. Never throws. */
export async function onnxExternalData(src: ByteSource): Promise<ExternalTensor[] | null> {
  const external: ExternalTensor[] = [];
  try {
    await parse(src, external);
  } catch {
    return null;
  }
  return external;
}

/**
 * A tensor found in the file and its name relative to the graph being read;
 * null when the name would be over MAX_TENSOR_NAME (it then gets a placeholder).
 */
interface Found {
  tensor: TensorInfo;
  name: string | null;
}

/** Where parsing puts what it finds: in-file tensors, and tensors kept in external files. */
interface Sink {
  tensors: Found[];
  external: ExternalTensor[];
}

/** `scope/name`, or null when either is or the result would be over MAX_TENSOR_NAME. */
function scoped(scope: string | null, name: string | null): string | null {
  if (scope === null || name === null || scope.length + 1 + name.length > MAX_TENSOR_NAME) return null;
  return `${scope}/${name}`;
}

async function parse(src: ByteSource, external: ExternalTensor[]): Promise<Layout | null> {
  const c = new ByteCursor(src);
  const found: Found[] = [];
  const sink: Sink = { tensors: found, external };
  let irVersion = false;
  let graph = false;
  while (c.pos < src.size) {
    const { field, wire } = await tag(c);
    if (field === 1 && wire === WIRE_VARINT) {
      await varint(c);
      irVersion = true;
    } else if (field === 7 && wire === WIRE_LEN) {
      const end = await lengthEnd(c, src.size);
      await parseGraph(c, end, sink, 0);
      graph = true;
    } else {
      await skipField(c, wire, src.size);
    }
  }
  if (!irVersion || !graph || found.length === 0) return null;
  // names must tell tensors apart even in a model that reuses one. Many constants may take one
  // node's long name, so each is held to the limits of names.ts (else `tensor<i>`)
  const seen = new Map<string, number>();
  const budget = new NameBudget();
  const tensors = found.map(({ tensor, name }, i) => {
    let n = 0;
    if (name !== null) {
      n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
    }
    tensor.name = budget.take(name === null ? null : n > 1 ? `${name}#${n}` : name) ?? `tensor${i}`;
    return tensor;
  });
  return { format: 'onnx', tensors };
}

async function parseGraph(c: ByteCursor, end: number, out: Sink, depth: number): Promise<void> {
  if (depth > MAX_GRAPH_DEPTH) throw new RangeError('subgraphs nested too deep');
  while (c.pos < end) {
    const { field, wire } = await tag(c);
    if (field === 5 && wire === WIRE_LEN) {
      const t = await parseTensor(c, await lengthEnd(c, end), out.external);
      if (t) out.tensors.push({ tensor: t, name: t.name.length > MAX_TENSOR_NAME ? null : t.name });
    } else if (field === 1 && wire === WIRE_LEN) {
      await parseNode(c, await lengthEnd(c, end), out, depth);
    } else {
      await skipField(c, wire, end);
    }
  }
  if (c.pos !== end) throw new RangeError('graph overruns its length');
}

/** What a node's attribute holds: a tensor (t) or tensors, or the tensors of its subgraph (g) or subgraphs. */
interface Held {
  /** The attribute's name; null when over MAX_TENSOR_NAME. */
  attribute: string | null;
  /** The item's place in a list attribute (`tensors`, `graphs`), null for a single one. */
  index: number | null;
  tensor?: TensorInfo;
  graph?: Found[];
}

/**
 * A node: the tensors its attributes hold and those of its subgraphs. A
 * `Constant` node's tensor is named after the node's first output (the name
 * its value has in the graph), else the node's name. Other tensors are
 * scoped by the node (its name, else its first output): an attribute's
 * tensor is `<node>/<attribute>` (`/<i>` in a list), a subgraph's tensors
 * `<node>/<attribute>/<tensor>` (`then_branch`, `else_branch`, `body`;
 * `/<i>/` in a list), so they tell branches apart whatever their order.
 */
async function parseNode(c: ByteCursor, end: number, out: Sink, depth: number): Promise<void> {
  let output = '';
  let name = '';
  let op = '';
  const held: Held[] = [];
  while (c.pos < end) {
    const { field, wire } = await tag(c);
    if (field === 2 && wire === WIRE_LEN) {
      const o = await readName(c, end);
      output ||= o;
    } else if (field === 3 && wire === WIRE_LEN) {
      name = await readName(c, end);
    } else if (field === 4 && wire === WIRE_LEN) {
      op = await readName(c, end);
    } else if (field === 5 && wire === WIRE_LEN) {
      await parseAttribute(c, await lengthEnd(c, end), held, out.external, depth);
    } else {
      await skipField(c, wire, end);
    }
  }
  if (c.pos !== end) throw new RangeError('node overruns its length');
  const bounded = (n: string) => (n.length > MAX_TENSOR_NAME ? null : n);
  const node = name || output;
  for (const h of held) {
    const at = h.index === null ? h.attribute : scoped(h.attribute, String(h.index));
    const here = node === '' ? at : scoped(bounded(node), at);
    if (h.tensor) {
      const value = output || name || h.tensor.name || 'constant';
      out.tensors.push({ tensor: h.tensor, name: op === 'Constant' ? bounded(value) : here });
    }
    for (const f of h.graph ?? []) out.tensors.push({ tensor: f.tensor, name: scoped(here, f.name) });
  }
}

/** An attribute: its name (1), a tensor (t = 5), tensors (10), a subgraph (g = 6) or subgraphs (11). */
async function parseAttribute(
  c: ByteCursor,
  end: number,
  held: Held[],
  external: ExternalTensor[],
  depth: number,
): Promise<void> {
  let attribute = '';
  const items: Held[] = [];
  let tensors = 0;
  let graphs = 0;
  while (c.pos < end) {
    const { field, wire } = await tag(c);
    if (field === 1 && wire === WIRE_LEN) {
      attribute = await readName(c, end);
    } else if ((field === 5 || field === 10) && wire === WIRE_LEN) {
      const t = await parseTensor(c, await lengthEnd(c, end), external);
      if (t) items.push({ attribute, index: field === 10 ? tensors : null, tensor: t });
      if (field === 10) tensors++;
    } else if ((field === 6 || field === 11) && wire === WIRE_LEN) {
      const sub: Sink = { tensors: [], external };
      await parseGraph(c, await lengthEnd(c, end), sub, depth + 1);
      items.push({ attribute, index: field === 11 ? graphs : null, graph: sub.tensors });
      if (field === 11) graphs++;
    } else {
      await skipField(c, wire, end);
    }
  }
  if (c.pos !== end) throw new RangeError('attribute overruns its length');
  // the name may come after the values it names
  const label = attribute.length > MAX_TENSOR_NAME ? null : attribute || 'attribute';
  for (const item of items) held.push({ ...item, attribute: label });
}

/** A length-delimited UTF-8 string field (names). */
async function readName(c: ByteCursor, limit: number): Promise<string> {
  const len = (await lengthEnd(c, limit)) - c.pos;
  if (len > ONNX_MAX_NAME) throw new RangeError('name too long');
  return new TextDecoder('utf-8', { fatal: true }).decode(await c.bytes(len));
}

/**
 * Parses one TensorProto; returns the unit for an in-file raw_data payload,
 * null for other initializers. A tensor in an external-data file goes to
 * `external` (when it names its file and its range fits a safe integer).
 */
async function parseTensor(c: ByteCursor, end: number, external: ExternalTensor[]): Promise<TensorInfo | null> {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: { start: number; end: number } | null = null;
  let location = 0;
  const entries = new Map<string, string>();
  while (c.pos < end) {
    const { field, wire } = await tag(c);
    if (field === 1 && wire === WIRE_VARINT) {
      dims.push(await safeVarint(c));
    } else if (field === 1 && wire === WIRE_LEN) {
      const packedEnd = await lengthEnd(c, end);
      while (c.pos < packedEnd) dims.push(await safeVarint(c));
      if (c.pos !== packedEnd) throw new RangeError('packed dims overrun');
    } else if (field === 2 && wire === WIRE_VARINT) {
      dataType = await varint(c);
    } else if (field === 8 && wire === WIRE_LEN) {
      name = await readName(c, end);
    } else if (field === 9 && wire === WIRE_LEN) {
      const rawEnd = await lengthEnd(c, end);
      raw = { start: c.pos, end: rawEnd };
      c.skip(rawEnd - c.pos);
    } else if (field === 14 && wire === WIRE_VARINT) {
      location = await varint(c);
    } else if (field === 13 && wire === WIRE_LEN) {
      const [k, v] = await parseEntry(c, await lengthEnd(c, end));
      if (entries.size < 16) entries.set(k, v);
    } else {
      await skipField(c, wire, end);
    }
  }
  if (c.pos !== end) throw new RangeError('tensor overruns its length');
  if (location === DATA_LOCATION_EXTERNAL) {
    const ext = externalTensor(name, dataType, dims, entries);
    if (ext) external.push(ext);
    return null;
  }
  if (!raw) return null;
  const elements = shapeElements(dims);
  if (elements === null) throw new RangeError('bad dims');
  const dtype = ONNX_DTYPES.get(dataType);
  if (dtype && Math.ceil((elements * dtype.bits) / 8) !== raw.end - raw.start)
    throw new RangeError('raw_data size mismatch');
  return { name, dtype: dtype?.name ?? 'unknown', shape: dims, start: raw.start, end: raw.end };
}

/** A StringStringEntryProto (key 1, value 2). */
async function parseEntry(c: ByteCursor, end: number): Promise<[string, string]> {
  let key = '';
  let value = '';
  while (c.pos < end) {
    const { field, wire } = await tag(c);
    if (field === 1 && wire === WIRE_LEN) key = await readName(c, end);
    else if (field === 2 && wire === WIRE_LEN) value = await readName(c, end);
    else await skipField(c, wire, end);
  }
  if (c.pos !== end) throw new RangeError('entry overruns its length');
  return [key, value];
}

/**
 * An external tensor from its `external_data` entries (location, offset, length; length defaults to the shape's size).
 */
function externalTensor(
  name: string,
  dataType: number,
  dims: number[],
  entries: Map<string, string>,
): ExternalTensor | null {
  const location = entries.get('location');
  const dtype = ONNX_DTYPES.get(dataType);
  const elements = shapeElements(dims);
  if (!location || elements === null) return null;
  const num = (k: string) =>
    entries.has(k) ? (/^\d{1,15}$/.test(entries.get(k)!) ? Number(entries.get(k)) : NaN) : undefined;
  const offset = num('offset') ?? 0;
  const length = num('length') ?? (dtype ? Math.ceil((elements * dtype.bits) / 8) : NaN);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || !Number.isSafeInteger(offset + length))
    return null;
  if (dtype && Math.ceil((elements * dtype.bits) / 8) !== length) return null;
  return { name, dtype: dtype?.name ?? 'unknown', shape: dims, location, offset, length };
}

/** Reads a field tag, rejecting field number 0 and the deprecated group wire types. */
export async function tag(c: ByteCursor): Promise<{ field: number; wire: number }> {
  const t = await safeVarint(c);
  const field = Math.floor(t / 8);
  const wire = t % 8;
  if (field === 0 || field > 0x1fffffff) throw new RangeError('bad field number');
  return { field, wire };
}

/** Reads a length prefix and returns the absolute end of the payload, which must lie within `limit`. */
export async function lengthEnd(c: ByteCursor, limit: number): Promise<number> {
  const len = await safeVarint(c);
  if (c.pos + len > limit) throw new RangeError('length past end');
  return c.pos + len;
}

export async function skipField(c: ByteCursor, wire: number, limit: number): Promise<void> {
  let n: number;
  switch (wire) {
    case WIRE_VARINT:
      await varint(c);
      n = 0;
      break;
    case WIRE_I64:
      n = 8;
      break;
    case WIRE_LEN:
      n = (await lengthEnd(c, limit)) - c.pos;
      break;
    case WIRE_I32:
      n = 4;
      break;
    default:
      throw new RangeError(`bad wire type ${wire}`);
  }
  if (c.pos + n > limit) throw new RangeError('field past end');
  c.skip(n);
}

/** Reads a varint of up to 10 bytes; exact up to 2^53, approximate above (callers needing exactness use safeVarint). */
export async function varint(c: ByteCursor): Promise<number> {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = await c.u8();
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return result;
    scale *= 128;
  }
  throw new RangeError('varint too long');
}

/** Reads a varint that must be a non-negative safe integer (lengths, tags, dims). */
async function safeVarint(c: ByteCursor): Promise<number> {
  const v = await varint(c);
  if (!Number.isSafeInteger(v)) throw new RangeError('varint too large');
  return v;
}
