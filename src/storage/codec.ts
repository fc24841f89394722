/**
 * The object codec's face: the stored format (codec/format.ts), the Codec
 * that encodes and decodes with its own scratch memory (codec/codec.ts), and
 * functions that run this thread's codec for callers that keep no codec.
 */
import { threadCodec, type Codec, type DecodeOptions, type OutputOptions } from './codec/codec.js';
import type { EncodeOptions, Encoded } from './codec/format.js';

export {
  corruptObject,
  DELTA_PREFIX,
  decodedSize,
  deltaOf,
  Encoding,
  encodingOf,
  HEADER_SIZE,
  maxStoredSize,
  type BaseLoader,
  type EncodeOptions,
  type Encoded,
  type EncodingCode,
  type GroupChoice,
  type SizeBound,
} from './codec/format.js';
export { Codec, threadCodec, type DecodeOptions, type OutputOptions } from './codec/codec.js';
export { SCRATCH_KEEP } from './codec/scratch.js';

/** Codec.encode on this thread's codec. */
export function encodeObject(content: Uint8Array, opts: EncodeOptions & OutputOptions): Encoded {
  return threadCodec().encode(content, opts);
}

/** Codec.encodeDelta on this thread's codec. */
export function encodeDelta(...args: Parameters<Codec['encodeDelta']>): Encoded | null {
  return threadCodec().encodeDelta(...args);
}

/** Codec.decode on this thread's codec. */
export function decodeObject(stored: Uint8Array, id: string, opts: DecodeOptions = {}): Buffer {
  return threadCodec().decode(stored, id, opts);
}
