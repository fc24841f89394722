/**
 * The zstd binding (zstd-napi), loaded on first use, and decompression of one
 * frame into a buffer of a size known before it starts: the one place where
 * stored bytes are decompressed, so every frame meets the same limits.
 */
import { createRequire } from 'node:module';

/** A zstd compression context (the parts of zstd-napi's CCtx in use). */
export interface ZstdCCtx {
  compress(dst: Uint8Array, src: Uint8Array, level: number): number;
  compress2(dst: Uint8Array, src: Uint8Array): number;
  setParameter(param: number, value: number): void;
}
/** A zstd decompression context (the parts of zstd-napi's DCtx in use). */
export interface ZstdDCtx {
  decompress(dst: Uint8Array, src: Uint8Array): number;
  decompressStream(dst: Uint8Array, src: Uint8Array): [ret: number, produced: number, consumed: number];
  setParameter(param: number, value: number): void;
  reset(directive: number): void;
}
/** The parts of zstd-napi's native binding in use. */
export interface ZstdBinding {
  CCtx: new () => ZstdCCtx;
  CParameter: Record<string, number>;
  DParameter: Record<string, number>;
  ResetDirective: Record<string, number>;
  DCtx: new () => ZstdDCtx;
  compressBound(n: number): number;
  getFrameContentSize(frame: Uint8Array): number | null;
}

let binding: ZstdBinding | null = null;
/** The zstd binding, loaded on first use: commands that only read refs and the index never pay for it. */
export function zstdBinding(): ZstdBinding {
  return (binding ??= createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding);
}

let dctx: ZstdDCtx | null = null;
let streamDctx: ZstdDCtx | null = null;

/**
 * Decompresses one zstd frame into `dst`, which it must fill exactly; throws
 * `corrupt(...)` otherwise. `dst` is allocated at the size the object's header
 * declares, already held to its bounds, so the frame can never write more. A
 * frame that states its content size must state that size; one that does not
 * is decoded as a stream with a running count, which stops at the first byte
 * past `dst` and keeps zstd's window within `dst`'s size.
 */
export function unzstd(dst: Uint8Array, frame: Uint8Array, corrupt: (why: string) => Error, wrongLength: string): void {
  let declared: number | null;
  try {
    declared = zstdBinding().getFrameContentSize(frame);
  } catch {
    throw corrupt('zstd frame header does not decode');
  }
  if (declared === null) {
    unzstdStream(dst, frame, corrupt, wrongLength);
    return;
  }
  if (declared !== dst.length) throw corrupt(wrongLength);
  let n: number;
  try {
    dctx ??= new (zstdBinding().DCtx)();
    n = dctx.decompress(dst, frame);
  } catch {
    throw corrupt('zstd frame does not decode');
  }
  if (n !== dst.length) throw corrupt(wrongLength);
}

/** Output given to zstd per streaming step. */
const STREAM_STEP = 128 << 10;
const spareByte = new Uint8Array(1);

/** unzstd for a frame that does not state its content size: streamed into `dst` with a running limit. */
function unzstdStream(dst: Uint8Array, frame: Uint8Array, corrupt: (why: string) => Error, wrongLength: string): void {
  const z = zstdBinding();
  const d = (streamDctx ??= new z.DCtx());
  let out = 0;
  let inp = 0;
  const step = (target: Uint8Array): [number, number, number] => {
    try {
      return d.decompressStream(target, frame.subarray(inp));
    } catch {
      d.reset(z.ResetDirective.sessionOnly!);
      throw corrupt('zstd frame does not decode');
    }
  };
  d.reset(z.ResetDirective.sessionOnly!);
  // the decoder's window is its own allocation: no larger than the content (8 MiB at least, which the
  // frames of common zstd levels ask for), and it fills only as output is made, which `dst` bounds
  d.setParameter(z.DParameter.windowLogMax!, Math.max(23, Math.ceil(Math.log2(Math.max(1, dst.length)))));
  for (;;) {
    const room = Math.min(STREAM_STEP, dst.length - out);
    const [ret, produced, consumed] = step(room > 0 ? dst.subarray(out, out + room) : spareByte);
    if (room === 0 && produced > 0) {
      d.reset(z.ResetDirective.sessionOnly!);
      throw corrupt(`${wrongLength}: the zstd frame holds more than the ${dst.length} bytes its header declares`);
    }
    out += produced;
    inp += consumed;
    if (ret === 0) break;
    if (produced === 0 && consumed === 0) {
      d.reset(z.ResetDirective.sessionOnly!);
      throw corrupt(inp < frame.length ? 'zstd frame does not decode' : 'truncated zstd frame');
    }
  }
  if (inp !== frame.length) throw corrupt('trailing bytes after the zstd frame');
  if (out !== dst.length) throw corrupt(wrongLength);
}
