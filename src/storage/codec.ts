import { createRequire } from 'node:module';
import { MvmError } from '../errors.js';
import { groupBytes, ungroupBytes, groupKindFromCode, GROUP_KIND_CODES, type GroupKind } from './bytegroup.js';

interface ZstdBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(n: number): number;
}
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;

/** How a stored object's payload is encoded; the value is the byte in its header. */
export const Encoding = { raw: 0, zstd: 1, groupedZstd: 2 } as const;
/** One of the Encoding values. */
export type EncodingCode = (typeof Encoding)[keyof typeof Encoding];

/** Size of the header in front of every stored object. */
export const HEADER_SIZE = 8;
const MAGIC = 0x4d; // 'M'
const VERSION = 1;


/** Options for encoding one object. */
export interface EncodeOptions {
  /** zstd level; 0 stores raw without trying to compress. */
  level: number;
  /** Byte-plane grouping to try before zstd, for float tensor chunks. */
  group?: GroupKind | null;
}

/** An encoded object ready to be written, and which encoding won. */
export interface Encoded {
  bytes: Buffer;
  encoding: EncodingCode;
}

let cctx: InstanceType<ZstdBinding['CCtx']> | null = null;
let dctx: InstanceType<ZstdBinding['DCtx']> | null = null;
let scratch = Buffer.alloc(0);

function header(encoding: number, param: number, size: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h[0] = MAGIC;
  h[1] = VERSION;
  h[2] = encoding;
  h[3] = param;
  h.writeUInt32LE(size, 4);
  return h;
}

function zstdInto(src: Uint8Array, level: number): Buffer {
  cctx ??= new zstd.CCtx();
  const bound = zstd.compressBound(src.length);
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
  const n = cctx.compress(scratch, src, level);
  return scratch.subarray(0, n);
}

/**
 * Encodes content for storage, keeping whichever of raw, zstd or
 * byte-grouped zstd is smallest. The hash is always of `content` itself.
 */
export function encodeObject(content: Uint8Array, opts: EncodeOptions): Encoded {
  if (content.length > 0xffffffff) throw new MvmError('BAD_VALUE', 'object larger than 4 GiB');
  let best: { enc: EncodingCode; param: number; payload: Uint8Array } = { enc: Encoding.raw, param: 0, payload: content };
  if (opts.level > 0 && content.length >= 64) {
    if (opts.group) {
      const z = zstdInto(groupBytes(content, opts.group), opts.level);
      if (z.length < best.payload.length) best = { enc: Encoding.groupedZstd, param: GROUP_KIND_CODES[opts.group], payload: Buffer.from(z) };
    }
    // Plain zstd is tried when no grouping applies, or when grouping won less than 5%:
    // on float tensors grouping wins by far more, and a second pass would halve throughput.
    if (!opts.group || best.payload.length > content.length * 0.95) {
      const z = zstdInto(content, opts.level);
      if (z.length < best.payload.length) best = { enc: Encoding.zstd, param: 0, payload: Buffer.from(z) };
    }
  }
  const bytes = Buffer.concat([header(best.enc, best.param, content.length), best.payload]);
  return { bytes, encoding: best.enc };
}

/** Decodes a stored object back to its content; throws OBJECT_CORRUPT on a malformed header or payload. */
export function decodeObject(stored: Uint8Array, id: string): Buffer {
  const corrupt = (why: string) => new MvmError('OBJECT_CORRUPT', `object ${id} is corrupt (${why})`, { id, hint: "run 'mvm fsck' to list every damaged object" });
  if (stored.length < HEADER_SIZE || stored[0] !== MAGIC || stored[1] !== VERSION) throw corrupt('bad header');
  const enc = stored[2]!;
  const param = stored[3]!;
  const size = Buffer.from(stored.buffer, stored.byteOffset, stored.length).readUInt32LE(4);
  const payload = stored.subarray(HEADER_SIZE);
  if (enc === Encoding.raw) {
    if (payload.length !== size) throw corrupt('wrong length');
    return Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  }
  const out = Buffer.allocUnsafe(size);
  let n: number;
  try {
    dctx ??= new zstd.DCtx();
    n = size === 0 ? 0 : dctx.decompress(out, payload);
  } catch {
    throw corrupt('zstd frame does not decode');
  }
  if (n !== size) throw corrupt('wrong decoded length');
  if (enc === Encoding.zstd) return out;
  if (enc === Encoding.groupedZstd) {
    const kind = groupKindFromCode(param);
    if (!kind) throw corrupt(`unknown byte grouping ${param}`);
    return ungroupBytes(out, kind);
  }
  throw corrupt(`unknown encoding ${enc}`);
}

/** Reads the encoding byte of a stored object without decoding it. */
export function encodingOf(stored: Uint8Array): number {
  return stored.length >= HEADER_SIZE ? stored[2]! : -1;
}
