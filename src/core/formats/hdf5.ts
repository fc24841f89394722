/**
 * HDF5 files as Keras and h5py write them: `model.weights.h5` inside a
 * `.keras` zip (stored, not compressed), `.weights.h5`, and the legacy `.h5`
 * of `model.save`. Each dataset stored contiguously (HDF5's layout when
 * neither chunking nor compression is asked for, which is how Keras stores
 * weights) is a tensor named by its path in the file; chunked, compact and
 * compressed datasets are not (their bytes are cut as plain data). Groups are
 * read in each of the ways HDF5 keeps them: symbol tables (a version 1
 * B-tree and a local heap, h5py's default), link messages in the object
 * header (compact groups) and dense storage (hdf5Dense.ts). Only the
 * structure is read, never a dataset's bytes; every address is checked
 * against the file, reads are bounded (hdf5File.ts), and a loop of links is
 * followed once.
 */
import { entryRange, zipEntries, type ZipEntry } from './pytorch.js';
import { lenient, shapeElements, type ByteSource, type Layout } from './types.js';
import { NameBudget } from './names.js';
import { TensorList } from './tensorList.js';
import { H5File, UNDEFINED, hardLink, uint } from './hdf5File.js';
import { denseLinks } from './hdf5Dense.js';
import { stringAttribute } from './hdf5Attributes.js';

const SIGNATURE = '\x89HDF\r\n\x1a\n';
/** At most this many objects (groups and datasets) are visited. */
const MAX_OBJECTS = 200_000;
/** Deepest B-tree walked. */
const MAX_TREE_DEPTH = 32;

/** The datatype class of opaque data. */
const OPAQUE = 5;

const MSG = {
  dataspace: 0x1,
  linkInfo: 0x2,
  datatype: 0x3,
  link: 0x6,
  layout: 0x8,
  continuation: 0x10,
  symbolTable: 0x11,
} as const;

interface Message {
  type: number;
  data: Buffer;
}

/**
 * Where the superblock of the HDF5 bytes at [start, end) is, from `start`: 0,
 * or past a user block of 512, 1,024, 2,048... bytes (MATLAB v7.3 `.mat`
 * files have one of 512), the places HDF5 itself looks; null when none holds it.
 */
async function superblockOffset(src: ByteSource, start: number, end: number): Promise<number | null> {
  for (let k = 0; start + k + 8 <= end; k = k === 0 ? 512 : k * 2) {
    const b = await src.read(start + k, 8);
    if (b.length === 8 && b.toString('latin1') === SIGNATURE) return k;
  }
  return null;
}

/** Reads the superblock of the HDF5 bytes; null when they are not HDF5 or declare something we do not read. */
async function openFile(src: ByteSource, start: number, end: number): Promise<{ file: H5File; root: number } | null> {
  const userBlock = await superblockOffset(src, start, end);
  if (userBlock === null) return null;
  const sb = await src.read(start + userBlock, Math.min(128, end - start - userBlock));
  if (sb.length < 48 || sb.toString('latin1', 0, 8) !== SIGNATURE) return null;
  const version = sb[8]!;
  let offSize: number;
  let lenSize: number;
  let p: number;
  if (version === 0 || version === 1) {
    offSize = sb[13]!;
    lenSize = sb[14]!;
    p = version === 0 ? 24 : 28;
  } else if (version === 2 || version === 3) {
    offSize = sb[9]!;
    lenSize = sb[10]!;
    p = 12;
  } else return null;
  if (![2, 4, 8].includes(offSize) || ![2, 4, 8].includes(lenSize)) return null;
  // addresses are relative to the base address, which is where the superblock is (past any user
  // block) in the files HDF5 writes; a file that puts it elsewhere is not read
  const file = new H5File(src, start + userBlock, end, offSize, lenSize);
  if (file.addr(sb, p) !== userBlock) return null;
  if (version <= 1) {
    // base, free space, end of file and driver addresses, then the root group's symbol table entry
    const entry = p + 4 * offSize;
    return { file, root: file.addr(sb, entry + offSize) };
  }
  // base, superblock extension and end of file addresses, then the root group's object header
  return { file, root: file.addr(sb, p + 3 * offSize) };
}

/** The messages of the object header at `addr`, continuation blocks included. */
async function readMessages(file: H5File, addr: number): Promise<Message[]> {
  const head = await file.read(addr, Math.min(48, file.left(addr)));
  if (head.length < 16) throw new RangeError('object header past the end');
  const out: Message[] = [];
  const blocks: { at: number; len: number; v2: boolean }[] = [];
  if (head.toString('latin1', 0, 4) === 'OHDR') {
    if (head[4] !== 2) throw new RangeError('object header version');
    const flags = head[5]!;
    let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const sizeBytes = 1 << (flags & 3);
    const len = uint(head, p, sizeBytes);
    p += sizeBytes;
    blocks.push({ at: addr + p, len, v2: true });
  } else if (head[0] === 1) {
    blocks.push({ at: addr + 16, len: head.readUInt32LE(8), v2: false });
  } else throw new RangeError('not an object header');
  const v2 = blocks[0]!.v2;
  const crtOrder = v2 && (head[5]! & 0x04) !== 0;
  for (let i = 0; i < blocks.length; i++) {
    if (i > 1024) throw new RangeError('too many continuation blocks');
    const { at, len } = blocks[i]!;
    let b = await file.read(at, len);
    // a continuation block of a version 2 header has its own signature and ends with a checksum
    if (v2 && i > 0) {
      if (b.toString('latin1', 0, 4) !== 'OCHK') throw new RangeError('bad continuation block');
      b = b.subarray(4, b.length - 4);
    }
    const headSize = v2 ? 4 + (crtOrder ? 2 : 0) : 8;
    let p = 0;
    while (p + headSize <= b.length) {
      const type = v2 ? b[p]! : b.readUInt16LE(p);
      const size = v2 ? b.readUInt16LE(p + 1) : b.readUInt16LE(p + 2);
      p += headSize;
      if (p + size > b.length) throw new RangeError('message past its block');
      const data = b.subarray(p, p + size);
      p += size;
      if (type === MSG.continuation) blocks.push({ at: file.addr(data, 0), len: file.len(data, file.offSize), v2 });
      else if (type !== 0) out.push({ type, data });
      if (out.length > 65_536) throw new RangeError('too many messages');
    }
  }
  return out;
}

/**
 * The dtype name of a datatype message: integers and floats, with `_BE` for big-endian ones; null for other classes.
 */
function dtypeOf(d: Buffer): { dtype: string | null; size: number } {
  const cls = d[0]! & 0x0f;
  const bits = d[1]!;
  const size = d.readUInt32LE(4);
  const be = (bits & 1) !== 0 && size > 1 ? '_BE' : '';
  if (cls === 0 && [1, 2, 4, 8].includes(size)) return { dtype: `${bits & 0x08 ? 'I' : 'U'}${size * 8}${be}`, size };
  if (cls === 1 && (bits & 0x40) === 0 && d.length >= 20) {
    const expSize = d[13]!;
    const mantSize = d[15]!;
    if (size === 2 && expSize === 8 && mantSize === 7) return { dtype: `BF16${be}`, size };
    if (size === 2 && expSize === 5 && mantSize === 10) return { dtype: `F16${be}`, size };
    if (size === 4 && expSize === 8 && mantSize === 23) return { dtype: `F32${be}`, size };
    if (size === 8 && expSize === 11 && mantSize === 52) return { dtype: `F64${be}`, size };
  }
  return { dtype: null, size };
}

/** The dimensions of a dataspace message (none for a scalar); null for a null dataspace. */
function dimsOf(file: H5File, d: Buffer): number[] | null {
  const version = d[0]!;
  const rank = d[1]!;
  if (version === 2 && d[3] === 2) return null;
  const at = version === 1 ? 8 : 4;
  return Array.from({ length: rank }, (_, i) => file.len(d, at + i * file.lenSize));
}

/**
 * Where a contiguous dataset's bytes lie: HDF5 address and byte count; null
 * for every other layout, for no storage yet, and for the layout messages of
 * before HDF5 1.6 (versions 1 and 2), which are not read.
 */
function contiguous(file: H5File, d: Buffer): { addr: number; size: number } | null {
  const version = d[0]!;
  if (version === 3 || version === 4) {
    if (d[1] !== 1) return null;
    const addr = file.addr(d, 2);
    return addr === UNDEFINED ? null : { addr, size: file.len(d, 2 + file.offSize) };
  }
  return null;
}

/** A NUL-terminated name in a local heap's data segment. */
function heapName(heap: Buffer, offset: number): string {
  if (offset >= heap.length) throw new RangeError('name outside its heap');
  const end = heap.indexOf(0, offset);
  if (end < 0) throw new RangeError('unterminated name');
  return heap.toString('utf8', offset, end);
}

/** The members of a symbol-table group: [name, object header address] from its B-tree and local heap. */
async function symbolTable(file: H5File, btree: number, heapAddr: number): Promise<[string, number][]> {
  const O = file.offSize;
  const L = file.lenSize;
  const h = await file.read(heapAddr, 8 + 2 * L + O);
  if (h.toString('latin1', 0, 4) !== 'HEAP') throw new RangeError('not a local heap');
  const heap = await file.read(file.addr(h, 8 + 2 * L), file.len(h, 8));
  const out: [string, number][] = [];
  const seen = new Set<number>();
  const walk = async (node: number, depth: number): Promise<void> => {
    if (depth > MAX_TREE_DEPTH || seen.has(node)) throw new RangeError('B-tree loops or is too deep');
    seen.add(node);
    const nh = await file.read(node, 8 + 2 * O);
    if (nh.toString('latin1', 0, 4) !== 'TREE' || nh[4] !== 0) throw new RangeError('not a group B-tree node');
    const level = nh[5]!;
    const used = nh.readUInt16LE(6);
    const body = await file.read(node + 8 + 2 * O, (used + 1) * L + used * O);
    for (let i = 0; i < used; i++) {
      const child = file.addr(body, (i + 1) * L + i * O);
      if (level > 0) await walk(child, depth + 1);
      else await symbols(child);
    }
  };
  const symbols = async (snod: number): Promise<void> => {
    if (seen.has(snod)) throw new RangeError('symbol table node listed twice');
    seen.add(snod);
    const sh = await file.read(snod, 8);
    if (sh.toString('latin1', 0, 4) !== 'SNOD') throw new RangeError('not a symbol table node');
    const n = sh.readUInt16LE(6);
    const size = 2 * O + 24;
    const entries = await file.read(snod + 8, n * size);
    for (let i = 0; i < n; i++) {
      // a soft link's entry has no object header (its target path is in the scratch pad): skipped
      const obj = file.addr(entries, i * size + O);
      if (obj !== UNDEFINED) out.push([heapName(heap, file.addr(entries, i * size)), obj]);
    }
  };
  await walk(btree, 0);
  return out;
}

/**
 * The contiguous datasets of the HDF5 bytes at [start, end) of `src` as a
 * layout (past MAX_LISTED_TENSORS, small ones packed into runs, as for every
 * format); null when they are not HDF5 we can read.
 */
async function hdf5Layout(
  src: ByteSource,
  start: number,
  end: number,
  format: 'hdf5' | 'keras',
): Promise<Layout | null> {
  const opened = await openFile(src, start, end);
  if (!opened) return null;
  const { file, root } = opened;
  const list = new TensorList();
  const visited = new Set<number>();
  const budget = new NameBudget();
  const queue: [string, number][] = [['', root]];
  for (let q = 0; q < queue.length; q++) {
    const [path, addr] = queue[q]!;
    if (visited.has(addr)) continue;
    if (visited.size >= MAX_OBJECTS) return null;
    visited.add(addr);
    const msgs = await readMessages(file, addr);
    const find = (type: number) => msgs.find((m) => m.type === type)?.data;
    const children: [string, number][] = [];
    const table = find(MSG.symbolTable);
    if (table) children.push(...(await symbolTable(file, file.addr(table, 0), file.addr(table, file.offSize))));
    for (const m of msgs) {
      if (m.type !== MSG.link) continue;
      const link = hardLink(file, m.data);
      if (link) children.push(link);
    }
    // a link info message with a fractal heap: the group's links are in dense storage
    const info = find(MSG.linkInfo);
    const at = info ? 2 + (info[1]! & 1 ? 8 : 0) : 0;
    if (info && file.addr(info, at) !== UNDEFINED)
      children.push(...(await denseLinks(file, file.addr(info, at), file.addr(info, at + file.offSize))));
    for (const [name, child] of children) {
      if (!name || name.includes('/')) return null;
      // paths repeat their group's path: one too long, or past the file's budget, is not walked (its data stays plain)
      const named = budget.take(path ? `${path}/${name}` : name);
      if (named !== null) queue.push([named, child]);
    }
    const space = find(MSG.dataspace);
    const type = find(MSG.datatype);
    const layout = find(MSG.layout);
    if (!space || !type || !layout || !path) continue;
    const shape = dimsOf(file, space);
    const where = contiguous(file, layout);
    if (!shape || !where || where.size === 0) continue;
    const { dtype, size } = dtypeOf(type);
    // Keras 3 saves a bf16 weight as 2-byte opaque data (all h5py can store it as) marked with an attribute
    const bf16 =
      dtype === null &&
      (type[0]! & 0x0f) === OPAQUE &&
      size === 2 &&
      (await stringAttribute(file, msgs, 'dtype')) === 'bfloat16';
    const count = shapeElements(shape);
    // a byte count that disagrees with the shape drops the dataset (it stays plain data)
    if (count === null || count * size !== where.size) continue;
    const from = file.abs(where.addr);
    if (
      from + where.size > end ||
      !list.add({ name: path, dtype: bf16 ? 'BF16' : (dtype ?? 'unknown'), shape, start: from, end: from + where.size })
    )
      return null;
  }
  return list.layout(format);
}

async function parseHdf5File(src: ByteSource): Promise<Layout | null> {
  return hdf5Layout(src, 0, src.size, 'hdf5');
}

/**
 * The weights entry of a Keras 3 archive (a zip holding `config.json` and `model.weights.h5`); null for any other zip.
 */
export function kerasWeights(entries: ZipEntry[] | null): ZipEntry | null {
  const weights = entries?.find((e) => e.name === 'model.weights.h5');
  return weights && entries!.some((e) => e.name === 'config.json') ? weights : null;
}

/** A Keras 3 `.keras` file: a zip whose stored `model.weights.h5` holds the weights. */
async function parseKerasFile(src: ByteSource): Promise<Layout | null> {
  const weights = kerasWeights(await zipEntries(src));
  if (!weights?.stored) return null;
  const r = await entryRange(src, weights);
  if (!r) return null;
  return hdf5Layout(src, r.start, r.end, 'keras');
}

/** An HDF5 file's contiguous datasets as a layout, or null. */
export const parseHdf5 = lenient(parseHdf5File);

/** A `.keras` zip's weights as a layout, or null. */
export const parseKeras = lenient(parseKerasFile);
