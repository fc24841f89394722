/**
 * The links of an HDF5 group in dense storage (what HDF5 1.8+ writes for a
 * group of more than 8 members when asked for the latest format): link
 * messages kept as objects of a fractal heap, found through the group's name
 * index, a version 2 B-tree whose records hold each link's heap ID. Read: a
 * heap whose root is a direct block, or an indirect block whose entries are
 * direct blocks or (in the heaps of groups of tens of thousands of members)
 * indirect blocks in turn; managed and tiny heap objects. A heap with filters
 * or huge objects is not read (the file then has no layout).
 */
import { type H5File, UNDEFINED, hardLink, uintN } from './hdf5File.js';

/** Deepest name index walked (a B-tree of depth 4 holds millions of links). */
const MAX_DEPTH = 8;

/** Bytes that encode values up to n, as HDF5 sizes its variable-width fields. */
const encSize = (n: number) => (n <= 0 ? 1 : Math.floor(Math.log2(n) / 8) + 1);

/** One direct block of a fractal heap: the heap offsets it covers and its address. */
interface DirectBlock {
  offset: number;
  size: number;
  addr: number;
}

/** A fractal heap, as far as reading its managed and tiny objects needs. */
class FractalHeap {
  private constructor(
    private readonly file: H5File,
    private readonly blocks: DirectBlock[],
    private readonly offBytes: number,
    private readonly lenBytes: number,
    /**
     * Bytes of a direct block's header: signature, version, heap address, block offset, and a checksum when the heap
     * has them.
     */
    private readonly blockHeader: number,
    readonly idLength: number,
  ) {}

  static async open(file: H5File, addr: number): Promise<FractalHeap> {
    const O = file.offSize;
    const L = file.lenSize;
    const h = await file.read(addr, 22 + 12 * L + 3 * O + 4);
    if (h.toString('latin1', 0, 4) !== 'FRHP' || h[4] !== 0) throw new RangeError('not a fractal heap');
    const idLength = h.readUInt16LE(5);
    if (h.readUInt16LE(7) !== 0) throw new RangeError('filtered heap');
    const maxManaged = h.readUInt32LE(10);
    // after the huge-object B-tree, the free-space manager and eight counters of sizes: the doubling table
    let p = 14 + L + O + L + O + 8 * L;
    const width = h.readUInt16LE(p);
    const start = file.len(h, p + 2);
    const maxDirect = file.len(h, p + 2 + L);
    const maxHeapBits = h.readUInt16LE(p + 2 + 2 * L);
    p += 2 + 2 * L + 4;
    const root = file.addr(h, p);
    const rows = h.readUInt16LE(p + O);
    if (width < 1 || start < 1 || maxDirect < start || maxHeapBits < 1 || maxHeapBits > 53)
      throw new RangeError('bad doubling table');
    const offBytes = Math.ceil(maxHeapBits / 8);
    const lenBytes = Math.min(encSize(maxDirect), encSize(maxManaged));
    const blockHeader = 5 + O + offBytes + (h[9]! & 0x02 ? 4 : 0);
    const blocks: DirectBlock[] = [];
    if (root === UNDEFINED) return new FractalHeap(file, blocks, offBytes, lenBytes, blockHeader, idLength);
    if (rows === 0) {
      blocks.push({ offset: 0, size: start, addr: root });
      return new FractalHeap(file, blocks, offBytes, lenBytes, blockHeader, idLength);
    }
    // An indirect block: `rows` rows of `width` entries, row r holding blocks of start * 2^max(0, r-1)
    // bytes: direct blocks up to maxDirect, larger ones indirect blocks of their own (covering as much
    // heap space), of log2(size / (start * width)) + 1 rows.
    const seen = new Set<number>();
    const indirect = async (addr: number, rows: number, base: number, depth: number): Promise<void> => {
      if (rows > 64 || depth > MAX_DEPTH || seen.has(addr)) throw new RangeError('bad indirect heap block');
      seen.add(addr);
      if ((await file.read(addr, 4)).toString('latin1') !== 'FHIB') throw new RangeError('not an indirect heap block');
      const entries = await file.read(addr + 4 + 1 + O + offBytes, rows * width * O);
      let offset = base;
      for (let r = 0; r < rows; r++) {
        const size = r < 2 ? start : start * 2 ** (r - 1);
        for (let c = 0; c < width; c++, offset += size) {
          const child = file.addr(entries, (r * width + c) * O);
          if (child === UNDEFINED) continue;
          if (size <= maxDirect) blocks.push({ offset, size, addr: child });
          else await indirect(child, Math.log2(size / (start * width)) + 1, offset, depth + 1);
        }
      }
    };
    if (!Number.isInteger(Math.log2(start)) || !Number.isInteger(Math.log2(width)))
      throw new RangeError('bad doubling table');
    await indirect(root, rows, 0, 0);
    return new FractalHeap(file, blocks, offBytes, lenBytes, blockHeader, idLength);
  }

  /** The object a heap ID names: its bytes from a direct block (managed) or from the ID itself (tiny). */
  async object(id: Buffer): Promise<Buffer> {
    const type = (id[0]! >> 4) & 3;
    if (id[0]! >> 6 !== 0) throw new RangeError('heap ID version');
    if (type === 2) {
      const n = (id[0]! & 0x0f) + 1;
      if (1 + n > id.length) throw new RangeError('tiny object past its ID');
      return id.subarray(1, 1 + n);
    }
    if (type !== 0) throw new RangeError('huge heap objects are not read');
    const offset = uintN(id, 1, this.offBytes);
    const length = uintN(id, 1 + this.offBytes, this.lenBytes);
    // the last block starting at or before the offset (blocks are in heap order)
    let lo = 0;
    for (let hi = this.blocks.length - 1; lo < hi; ) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid]!.offset <= offset) lo = mid;
      else hi = mid - 1;
    }
    const b = this.blocks[lo];
    if (!b || length === 0 || b.offset > offset || offset + length > b.offset + b.size)
      throw new RangeError('heap object outside the heap');
    // offsets within a direct block count from its first byte, header included
    if (offset - b.offset < this.blockHeader) throw new RangeError('heap object inside a block header');
    return this.file.read(b.addr + (offset - b.offset), length);
  }
}

/** Walks a group's name index (a version 2 B-tree of link-name records, type 5) and returns every record's heap ID. */
async function nameIndex(file: H5File, addr: number, idLength: number): Promise<Buffer[]> {
  const O = file.offSize;
  const h = await file.read(addr, 18 + O + file.lenSize + 4);
  if (h.toString('latin1', 0, 4) !== 'BTHD' || h[4] !== 0 || h[5] !== 5) throw new RangeError('not a link name index');
  const nodeSize = h.readUInt32LE(6);
  const recSize = h.readUInt16LE(10);
  const depth = h.readUInt16LE(12);
  const root = file.addr(h, 16);
  const rootRecords = h.readUInt16LE(16 + O);
  if (recSize !== 4 + idLength || depth > MAX_DEPTH || nodeSize < 10 + recSize) throw new RangeError('bad name index');
  if (root === UNDEFINED) return [];
  // the most records a node of each depth holds, and in all below it: these size the child pointers' count fields
  const maxRecords = [Math.floor((nodeSize - 10) / recSize)];
  const cumulative = [maxRecords[0]!];
  const pointer = [0];
  for (let d = 1; d <= depth; d++) {
    pointer[d] = O + encSize(maxRecords[d - 1]!) + (d > 1 ? encSize(cumulative[d - 1]!) : 0);
    maxRecords[d] = Math.floor((nodeSize - 10 - pointer[d]!) / (recSize + pointer[d]!));
    cumulative[d] = (maxRecords[d]! + 1) * cumulative[d - 1]! + maxRecords[d]!;
    if (maxRecords[d]! < 1) throw new RangeError('bad name index');
  }
  const ids: Buffer[] = [];
  const seen = new Set<number>();
  const walk = async (node: number, d: number, records: number): Promise<void> => {
    if (seen.has(node) || records > maxRecords[d]!) throw new RangeError('name index loops or overflows');
    seen.add(node);
    const body = await file.read(node, 6 + records * recSize + (d > 0 ? (records + 1) * pointer[d]! : 0));
    if (body.toString('latin1', 0, 4) !== (d > 0 ? 'BTIN' : 'BTLF') || body[5] !== 5)
      throw new RangeError('not a name index node');
    for (let i = 0; i < records; i++) ids.push(body.subarray(6 + i * recSize + 4, 6 + (i + 1) * recSize));
    if (d === 0) return;
    const countBytes = encSize(maxRecords[d - 1]!);
    for (let i = 0; i <= records; i++) {
      const at = 6 + records * recSize + i * pointer[d]!;
      await walk(file.addr(body, at), d - 1, uintN(body, at + O, countBytes));
    }
  };
  await walk(root, depth, rootRecords);
  return ids;
}

/** The hard links of a group in dense storage: [name, object header address] from its fractal heap and name index. */
export async function denseLinks(file: H5File, heapAddr: number, indexAddr: number): Promise<[string, number][]> {
  const heap = await FractalHeap.open(file, heapAddr);
  const out: [string, number][] = [];
  for (const id of await nameIndex(file, indexAddr, heap.idLength)) {
    const link = hardLink(file, await heap.object(id));
    if (link) out.push(link);
  }
  return out;
}
