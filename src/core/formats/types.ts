/**
 * Shared types for model-format recognition: the random-access byte view a
 * parser reads from, the tensor map it produces, and a small bounded reader
 * the binary parsers share. Parsers never trust the file: every read is
 * range-checked and malformed input surfaces as a thrown RangeError that the
 * parser turns into `null`.
 */

/** A random-access view of a file's bytes. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

/**
 * One tensor (or opaque storage unit) inside a model file; byte offsets are absolute within the file, end exclusive.
 */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}

/**
 * Consecutive small tensors of a file with very many tensors, not listed one
 * by one (see tensorList.ts): their byte range, their dtype when they share
 * one, and how many they are.
 */
export interface PackedRun {
  start: number;
  end: number;
  dtype: string | null;
  count: number;
}

/** The recognised layout of a model file. */
export interface Layout {
  format: 'safetensors' | 'gguf' | 'pytorch' | 'onnx' | 'numpy' | 'tfjs' | 'tf-bundle' | 'tflite' | 'hdf5' | 'keras';
  tensors: TensorInfo[];
  /** Runs of small tensors that are not listed (only for files with very many tensors), sorted by offset. */
  packed?: PackedRun[];
}

/** A ByteSource over an in-memory Buffer; reads past the end come back short. */
export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    async read(offset: number, length: number): Promise<Buffer> {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new RangeError(`bad read ${offset}+${length}`);
      }
      return buf.subarray(offset, offset + length);
    },
  };
}

/** Default read-ahead window of a ByteCursor. */
const WINDOW = 64 * 1024;

/**
 * A forward-only buffered little-endian reader over a ByteSource that throws RangeError instead of reading out of
 * range.
 */
export class ByteCursor {
  /** Absolute offset of the next byte to read. */
  pos: number;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  constructor(
    private readonly src: ByteSource,
    pos = 0,
    private readonly window = WINDOW,
  ) {
    this.pos = pos;
  }

  /** Bytes left between the cursor and the end of the source. */
  get remaining(): number {
    return this.src.size - this.pos;
  }

  /** Makes the next `n` bytes available to the synchronous readers. */
  async need(n: number): Promise<void> {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) throw new RangeError('read past end');
    const off = this.pos - this.bufStart;
    if (off >= 0 && off + n <= this.buf.length) return;
    const len = Math.min(Math.max(n, this.window), this.remaining);
    const b = await this.src.read(this.pos, len);
    if (!Buffer.isBuffer(b) || b.length < n) throw new RangeError('short read');
    this.buf = b;
    this.bufStart = this.pos;
  }

  /** Moves the cursor forward `n` bytes without reading them. */
  skip(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) throw new RangeError('skip past end');
    this.pos += n;
  }

  /** Reads `n` raw bytes (a view into the read-ahead buffer; copy it to keep it). */
  async bytes(n: number): Promise<Buffer> {
    await this.need(n);
    const off = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(off, off + n);
  }

  /** Reads one unsigned byte. */
  async u8(): Promise<number> {
    await this.need(1);
    return this.buf[this.pos++ - this.bufStart]!;
  }

  /** Reads a little-endian u32. */
  async u32(): Promise<number> {
    await this.need(4);
    const v = this.buf.readUInt32LE(this.pos - this.bufStart);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian u64, throwing RangeError when it exceeds Number.MAX_SAFE_INTEGER. */
  async u64(): Promise<number> {
    await this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos - this.bufStart);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('u64 too large');
    return Number(v);
  }
}

/**
 * The element count of a shape (1 for a scalar), or null when a dimension is not a non-negative safe integer or the
 * product overflows.
 */
export function shapeElements(shape: readonly number[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** Wraps a format parser so that it never throws: malformed input yields null (plain chunking). */
export function lenient(
  parse: (src: ByteSource) => Promise<Layout | null>,
): (src: ByteSource) => Promise<Layout | null> {
  return async (src) => {
    try {
      return await parse(src);
    } catch {
      return null;
    }
  };
}
