import { MvmError } from '../../errors.js';
import { zstdBinding } from '../zstd.js';
import type { GroupKind } from '../bytegroup.js';

/**
 * How a stored object's payload is encoded; the value is the byte in its header.
 * `planes`: the content was split into byte planes (header byte 3 names the
 * grouping) and each plane, then the tail, is stored as [method u8][length u32][bytes]
 * with method 0 = raw, 1 = zstd.
 * `delta`: the content is another object's content plus a difference (see
 * delta.ts); header byte 3 names the tensor's grouping (which sets the element
 * width), and the payload is [base object id: 32 bytes][depth u8][the
 * zigzagged difference as `planes` lays out width 2 or 4 without rotation].
 * Decoding needs the base object, so a delta is decoded through a store
 * that holds its base (a remote's is checked through the base once stored here).
 */
export const Encoding = { raw: 0, zstd: 1, planes: 2, delta: 3 } as const;
/** One of the Encoding values. */
export type EncodingCode = (typeof Encoding)[keyof typeof Encoding];

/** Size of the header in front of every stored object. */
export const HEADER_SIZE = 8;
/** The header's first byte ('M') and its format version. */
export const MAGIC = 0x4d;
export const VERSION = 1;

/** Bytes of a delta payload before its planes: the base id and the depth. */
export const DELTA_PREFIX = 33;

/**
 * What a decode may produce, known before it starts: `exact`, the size the
 * structure naming the object declares (a chunk's size in its file object),
 * and `max`, the limit of the object's kind (MAX_OBJECT_SIZE when not given).
 */
export interface SizeBound {
  exact?: number;
  max?: number;
}

/** Most stored bytes an object decoding to at most `content` bytes can take (the worst of every encoding). */
export function maxStoredSize(content: number): number {
  return HEADER_SIZE + DELTA_PREFIX + zstdBinding().compressBound(content) + 5 * 9;
}

/** The byte grouping to try: a kind, none, or 'auto' for bytes of unknown type (chosen on a sample). */
export type GroupChoice = GroupKind | 'auto' | null;

/** Options for encoding one object. */
export interface EncodeOptions {
  /** zstd level; 0 stores raw without trying to compress. */
  level: number;
  /** Byte-plane grouping to try before zstd, for float tensor chunks. */
  group?: GroupChoice;
}

/** An encoded object ready to be written, and which encoding won. */
export interface Encoded {
  bytes: Buffer;
  encoding: EncodingCode;
}

/** Loads a delta's base object by id, which must decode to `size` bytes. */
export type BaseLoader = (id: string, size?: number) => Buffer;

/** The OBJECT_CORRUPT error maker for object `id`: `why` goes in parentheses after the id. */
export function corruptObject(id: string): (why: string) => MvmError {
  return (why) =>
    new MvmError('OBJECT_CORRUPT', `object ${id} is corrupt (${why})`, {
      id,
      hint: "run 'mvm fsck' to list every damaged object",
    });
}

/** Writes the 8-byte header: magic, version, encoding, its parameter (a grouping), the content size. */
export function writeHeader(dst: Buffer, encoding: number, param: number, size: number): void {
  dst[0] = MAGIC;
  dst[1] = VERSION;
  dst[2] = encoding;
  dst[3] = param;
  dst.writeUInt32LE(size, 4);
}

/** The object a delta's content is based on, and how many deltas deep it is; null for any other encoding. */
export function deltaOf(stored: Uint8Array): { base: string; depth: number } | null {
  if (
    stored.length < HEADER_SIZE + DELTA_PREFIX ||
    stored[0] !== MAGIC ||
    stored[1] !== VERSION ||
    stored[2] !== Encoding.delta
  )
    return null;
  return {
    base: Buffer.from(stored.buffer, stored.byteOffset + HEADER_SIZE, 32).toString('hex'),
    depth: stored[HEADER_SIZE + 32]!,
  };
}

/** The content size a stored object's header declares, or -1 when it has no header. */
export function decodedSize(stored: Uint8Array): number {
  return stored.length >= HEADER_SIZE
    ? (stored[4]! | (stored[5]! << 8) | (stored[6]! << 16) | (stored[7]! << 24)) >>> 0
    : -1;
}

/** Reads the encoding byte of a stored object without decoding it. */
export function encodingOf(stored: Uint8Array): number {
  return stored.length >= HEADER_SIZE ? stored[2]! : -1;
}
