/**
 * String attributes of HDF5 objects, read from the attribute messages of an
 * object header: what Keras 3 marks a bf16 weight with (h5py stores a bf16
 * array as 2-byte opaque data, and Keras adds the attribute
 * `dtype = "bfloat16"`). Fixed-length strings are read in place,
 * variable-length ones (h5py's default for a Python str) from their global
 * heap collection. Attributes in dense storage are not read.
 */
import { type H5File, UNDEFINED, uint } from './hdf5File.js';

/** The attribute message's type in an object header. */
const ATTRIBUTE_MESSAGE = 0x0c;
/** Longest attribute value read. */
const MAX_VALUE = 4096;

/** One attribute message: its name, datatype and data. */
interface Attribute {
  name: string;
  type: Buffer;
  data: Buffer;
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Parses an attribute message (versions 1 to 3); null for shared datatypes or dataspaces, which are not read. */
function parseAttribute(d: Buffer): Attribute | null {
  const version = d[0];
  if (version !== 1 && version !== 2 && version !== 3) return null;
  if (version > 1 && (d[1]! & 0x03) !== 0) return null;
  const nameSize = uint(d, 2, 2);
  const typeSize = uint(d, 4, 2);
  const spaceSize = uint(d, 6, 2);
  // version 1 pads each part to 8 bytes; version 3 adds the name's character set
  const pad = version === 1 ? pad8 : (n: number) => n;
  let p = version === 3 ? 9 : 8;
  if (nameSize < 1 || p + pad(nameSize) + pad(typeSize) + pad(spaceSize) > d.length) return null;
  const name = d.toString('utf8', p, p + nameSize - 1);
  p += pad(nameSize);
  const type = d.subarray(p, p + typeSize);
  p += pad(typeSize) + pad(spaceSize);
  return { name, type, data: d.subarray(p) };
}

/** Global heap collections read so far, by file and address: the attributes of many datasets share one. */
const collections = new WeakMap<H5File, Map<number, Buffer>>();

/** The global heap collection at `addr`, read once per file. */
async function collection(file: H5File, addr: number): Promise<Buffer> {
  let byAddr = collections.get(file);
  if (!byAddr) collections.set(file, (byAddr = new Map()));
  const known = byAddr.get(addr);
  if (known) return known;
  const head = await file.read(addr, 8 + file.lenSize);
  if (head.toString('latin1', 0, 4) !== 'GCOL' || head[4] !== 1) throw new RangeError('not a global heap collection');
  const size = file.len(head, 8);
  if (size < head.length) throw new RangeError('global heap collection too small');
  const heap = await file.read(addr, size);
  byAddr.set(addr, heap);
  return heap;
}

/** The object of index `index` in the global heap collection at `addr`; null when it has none. */
async function globalHeapObject(file: H5File, addr: number, index: number): Promise<Buffer | null> {
  const heap = await collection(file, addr);
  // the collection's header and each object's are 8 bytes and a length
  const objectHead = 8 + file.lenSize;
  for (let p = objectHead; p + objectHead <= heap.length; ) {
    const i = uint(heap, p, 2);
    // index 0 is the collection's free space, always last
    if (i === 0) return null;
    const len = file.len(heap, p + 8);
    const at = p + objectHead;
    if (len > heap.length - at) throw new RangeError('global heap object past its collection');
    if (i === index) return heap.subarray(at, at + len);
    p = at + pad8(len);
  }
  return null;
}

/** The value of an attribute of string type: fixed-length, or variable-length in the global heap; null otherwise. */
async function stringValue(file: H5File, a: Attribute): Promise<string | null> {
  if (a.type.length < 8) return null;
  const cls = a.type[0]! & 0x0f;
  const size = a.type.readUInt32LE(4);
  let bytes: Buffer | null = null;
  if (cls === 3) {
    // fixed-length string: null-terminated or -padded, or space-padded
    if (size > MAX_VALUE || size > a.data.length) return null;
    bytes = a.data.subarray(0, size);
  } else if (cls === 9 && (a.type[1]! & 0x0f) === 1) {
    // variable-length string: its length, then the global heap ID (collection address, object index)
    if (a.data.length < 8 + file.offSize) return null;
    const len = a.data.readUInt32LE(0);
    const collection = file.addr(a.data, 4);
    if (len > MAX_VALUE || collection === UNDEFINED) return null;
    const object = await globalHeapObject(file, collection, a.data.readUInt32LE(4 + file.offSize));
    if (!object || object.length < len) return null;
    bytes = object.subarray(0, len);
  } else return null;
  return bytes.toString('utf8').replace(/[\0 ]+$/, '');
}

/**
 * The string value of the attribute `name` among an object header's
 * messages; null when it has none, another type, or cannot be read (an
 * unreadable attribute leaves its dataset as it was, never the file unread).
 */
export async function stringAttribute(
  file: H5File,
  messages: { type: number; data: Buffer }[],
  name: string,
): Promise<string | null> {
  try {
    for (const m of messages) {
      if (m.type !== ATTRIBUTE_MESSAGE) continue;
      const a = parseAttribute(m.data);
      if (a?.name === name) return await stringValue(file, a);
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
  return null;
}
