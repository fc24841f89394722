/**
 * The byte access every HDF5 reader here shares: addresses and lengths of
 * the sizes a superblock declares, read within the HDF5 bytes of a file
 * under a budget, and link messages (in object headers and in the fractal
 * heaps of dense groups alike).
 */
import type { ByteSource } from './types.js';
import { HDF5_MAX_BLOCK } from '../limits.js';

/** An address with every bit set: undefined (no storage allocated). */
export const UNDEFINED = -1;

/**
 * The HDF5 bytes within `src`: [start, end), and the sizes of addresses and
 * lengths the superblock declares. Reads are bounded in all to a few times
 * the file's size, so that structures pointing at each other cannot make the
 * work grow faster than the file.
 */
export class H5File {
  private budget: number;

  constructor(
    private readonly src: ByteSource,
    private readonly start: number,
    private readonly end: number,
    readonly offSize: number,
    readonly lenSize: number,
  ) {
    this.budget = 4 * (end - start) + 65536;
  }

  /** Absolute position in `src` of HDF5 address `addr`. */
  abs(addr: number): number {
    return this.start + addr;
  }

  /** `len` bytes at HDF5 address `addr`, all of them inside the HDF5 bytes. */
  async read(addr: number, len: number): Promise<Buffer> {
    if (addr < 0 || len < 0 || len > HDF5_MAX_BLOCK || this.abs(addr) + len > this.end)
      throw new RangeError('address outside the file');
    this.budget -= len;
    if (this.budget < 0) throw new RangeError('structure reads more than the file');
    const b = await this.src.read(this.abs(addr), len);
    if (b.length !== len) throw new RangeError('short read');
    return b;
  }

  /** Bytes from HDF5 address `addr` to the end of the HDF5 bytes. */
  left(addr: number): number {
    if (addr < 0 || this.abs(addr) > this.end) throw new RangeError('address outside the file');
    return this.end - this.abs(addr);
  }

  /** An address field at `pos` of `b` (UNDEFINED when every bit is set). */
  addr(b: Buffer, pos: number): number {
    return uint(b, pos, this.offSize);
  }

  /** A length field at `pos` of `b`. */
  len(b: Buffer, pos: number): number {
    const v = uint(b, pos, this.lenSize);
    if (v === UNDEFINED) throw new RangeError('undefined length');
    return v;
  }
}

/**
 * A little-endian unsigned integer of `size` bytes (1, 2, 4 or 8); UNDEFINED when every bit is set (4 and 8),
 * RangeError past 2^53.
 */
export function uint(b: Buffer, pos: number, size: number): number {
  if (pos < 0 || pos + size > b.length) throw new RangeError('field outside its block');
  if (size === 1) return b[pos]!;
  if (size === 2) return b.readUInt16LE(pos);
  if (size === 4) return b.readUInt32LE(pos) === 0xffffffff ? UNDEFINED : b.readUInt32LE(pos);
  if (size !== 8) throw new RangeError('bad field size');
  const v = b.readBigUInt64LE(pos);
  if (v === 0xffffffffffffffffn) return UNDEFINED;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('field too large');
  return Number(v);
}

/** A link message's hard link: [name, object header address]; null for soft and external links. */
export function hardLink(file: H5File, d: Buffer): [string, number] | null {
  if (d.length < 4 || d[0] !== 1) throw new RangeError('not a link message');
  const flags = d[1]!;
  let p = 2;
  const type = flags & 0x08 ? d[p++]! : 0;
  if (flags & 0x04) p += 8;
  if (flags & 0x10) p += 1;
  const lenSize = 1 << (flags & 3);
  const nameLen = uint(d, p, lenSize);
  p += lenSize;
  if (nameLen < 0 || p + nameLen > d.length) throw new RangeError('link name past its message');
  const name = d.toString('utf8', p, p + nameLen);
  return type === 0 ? [name, file.addr(d, p + nameLen)] : null;
}

/** A little-endian unsigned integer of any width from 1 to 7 bytes (heap offsets and lengths, B-tree record counts). */
export function uintN(b: Buffer, pos: number, size: number): number {
  if (size < 1 || size > 7 || pos < 0 || pos + size > b.length) throw new RangeError('field outside its block');
  return b.readUIntLE(pos, size);
}
