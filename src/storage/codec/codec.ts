import { MvmError } from '../../errors.js';
import { zstdBinding, unzstd } from '../zstd.js';
import { groupKindFromCode, GROUP_KIND_CODES, type GroupKind } from '../bytegroup.js';
import { MAX_OBJECT_SIZE } from '../../core/limits.js';
import {
  corruptObject,
  decodedSize,
  Encoding,
  HEADER_SIZE,
  MAGIC,
  VERSION,
  writeHeader,
  type BaseLoader,
  type EncodeOptions,
  type Encoded,
  type EncodingCode,
  type SizeBound,
} from './format.js';
import { decodePlanes, encodePlanesInto, guessGroup, plainEstimate, topPlane } from './planes.js';
import { decodeDelta, encodeDeltaInto } from './delta.js';
import { CodecMemory, SCRATCH_KEEP } from './scratch.js';

/** Chunks up to this size are always compressed plain as well, and the smaller kept. */
export const PLAIN_FULL_MAX = 64 * 1024;
/** How much smaller than the planes the estimate of plain zstd must not be for the planes to stand alone. */
const PLAIN_MARGIN = 1.05;

/**
 * Whether plain zstd is run on the whole of `content`, which byte planes
 * stored in `planes` bytes (encode keeps the smaller): always for a chunk of
 * at most PLAIN_FULL_MAX bytes or planes that saved less than 5%; for a
 * larger one, when plain zstd of spread windows (plainEstimate) comes within
 * 5% of the planes. Float weights stay planes on the estimate alone (random
 * f32: 0.93 of the size against 0.83 as planes; bf16: 0.78 against 0.66),
 * so their throughput pays only the windows; structured floats (a Fourier
 * basis: 0.17-0.22 against 0.33-0.34; a grid of anchors) are compressed both ways.
 */
function plainMayWin(mem: CodecMemory, content: Uint8Array, planes: number, level: number): boolean {
  if (content.length <= PLAIN_FULL_MAX || planes > content.length * 0.95) return true;
  return plainEstimate(mem, content, level) < planes * PLAIN_MARGIN;
}

/**
 * Where a result goes. `scratch: true`: a view into the codec's own scratch
 * memory, valid until the same codec's next call (the hot path of a worker,
 * which writes or hashes it at once). Otherwise the bytes are the caller's
 * own and no later call writes into them (a small result may share its
 * ArrayBuffer with others from Node's pool: never transfer or reinterpret
 * its `.buffer` beyond its own bytes).
 */
export interface OutputOptions {
  scratch?: boolean;
}

/**
 * How to decode one object. `loadBase`: the content of a delta's base by id
 * (it may live in scratch the next decode overwrites); without it, a delta
 * is refused as corrupt (a manifest or file object is never a delta; a
 * delta chunk from a remote is decoded through its base once that is stored
 * here: FsObjectStore.receiveDelta). `bound` holds
 * the decoded size to what the naming structure declares and the object's
 * kind allows (at most MAX_OBJECT_SIZE), checked against the header before
 * anything is allocated.
 */
export interface DecodeOptions extends OutputOptions {
  loadBase?: BaseLoader;
  bound?: SizeBound;
}

/**
 * Codec encodes and decodes stored objects (see format.ts for the layout)
 * with scratch buffers and zstd contexts of its own, reused from call to
 * call. It is not shared between threads: each thread uses threadCodec().
 */
export class Codec {
  private readonly mem = new CodecMemory();

  /**
   * Encodes content for storage, keeping whichever of raw, zstd or
   * byte-planes is smallest: with a grouping, plain zstd is tried on the
   * whole chunk whenever plainMayWin says it might beat the planes. The hash
   * is always of `content` itself.
   */
  encode(content: Uint8Array, opts: EncodeOptions & OutputOptions): Encoded {
    if (content.length > 0xffffffff) throw new MvmError('BAD_VALUE', 'object larger than 4 GiB');
    const mem = this.mem;
    const bound = HEADER_SIZE + zstdBinding().compressBound(content.length) + 5 * 9;
    let best: { enc: EncodingCode; param: number; buf: Buffer; end: number } | null = null;
    if (opts.level > 0 && content.length >= 64) {
      const group = opts.group === 'auto' ? guessGroup(mem, content) : opts.group;
      if (group) {
        const dst = mem.of(bound, 'enc');
        const end = encodePlanesInto(mem, content, group, dst);
        if (end - HEADER_SIZE < content.length)
          best = { enc: Encoding.planes, param: GROUP_KIND_CODES[group], buf: dst, end };
      }
      if (!best || plainMayWin(mem, content, best.end - HEADER_SIZE, opts.level)) {
        const dst = mem.of(bound, 'plain');
        const n = mem.context().compress(dst.subarray(HEADER_SIZE), content, opts.level);
        if (n < (best ? best.end - HEADER_SIZE : content.length))
          best = { enc: Encoding.zstd, param: 0, buf: dst, end: HEADER_SIZE + n };
      }
    }
    if (!best) {
      const dst = mem.of(HEADER_SIZE + content.length, 'plain');
      dst.set(content, HEADER_SIZE);
      best = { enc: Encoding.raw, param: 0, buf: dst, end: HEADER_SIZE + content.length };
    }
    writeHeader(best.buf, best.enc, best.param, content.length);
    const view = best.buf.subarray(0, best.end);
    return { bytes: opts.scratch ? view : Buffer.from(view), encoding: best.enc };
  }

  /**
   * Encodes `content` as the difference from `base` (the content of object
   * `baseId`, `depth - 1` deltas deep), for a tensor grouped as `group`; null
   * when the grouping takes no deltas. A scratch result does not share the
   * buffer encode() uses.
   */
  encodeDelta(
    content: Uint8Array,
    base: Uint8Array,
    baseId: string,
    depth: number,
    group: GroupKind,
    opts: OutputOptions = {},
  ): Encoded | null {
    const view = encodeDeltaInto(this.mem, content, base, baseId, depth, group);
    return view && { bytes: opts.scratch ? view : Buffer.from(view), encoding: Encoding.delta };
  }

  /**
   * Decodes a stored object back to its content; throws OBJECT_CORRUPT on a
   * malformed header or payload. An owned result of a raw object is a view
   * of `stored`.
   */
  decode(stored: Uint8Array, id: string, opts: DecodeOptions = {}): Buffer {
    const corrupt = corruptObject(id);
    const bound = opts.bound ?? {};
    const scratch = opts.scratch === true;
    if (stored.length < HEADER_SIZE || stored[0] !== MAGIC || stored[1] !== VERSION) throw corrupt('bad header');
    const enc = stored[2]!;
    const param = stored[3]!;
    const size = decodedSize(stored);
    const max = Math.min(bound.max ?? MAX_OBJECT_SIZE, MAX_OBJECT_SIZE);
    if (bound.exact !== undefined && size !== bound.exact)
      throw corrupt(`its header declares ${size} bytes where ${bound.exact} are expected`);
    if (size > max)
      throw corrupt(`its header declares ${size} bytes, more than the ${max} an object of its kind may hold`);
    const payload = stored.subarray(HEADER_SIZE);
    if (enc === Encoding.raw) {
      if (payload.length !== size) throw corrupt('wrong length');
      return Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    }
    if (enc === Encoding.planes) {
      const kind = groupKindFromCode(param);
      if (!kind) throw corrupt(`unknown byte grouping ${param}`);
      return decodePlanes(this.mem, payload, size, kind, corrupt, scratch);
    }
    if (enc === Encoding.delta) return decodeDelta(this.mem, payload, size, param, opts.loadBase, corrupt, scratch);
    if (enc !== Encoding.zstd) throw corrupt(`unknown encoding ${enc}`);
    const out = scratch ? this.mem.of(size, 'out').subarray(0, size) : Buffer.allocUnsafe(size);
    unzstd(out, payload, corrupt, 'wrong decoded length');
    return out;
  }

  /** The top byte plane of a byte-planed object and its grouping, in scratch (see planes.ts); null otherwise. */
  topPlane(stored: Uint8Array): { kind: GroupKind; plane: Buffer } | null {
    return topPlane(this.mem, stored);
  }

  /**
   * At least `n` bytes of the scratch buffer for an object's stored bytes
   * (`read`) or a chunk read from a file (`input`): valid until the next
   * request for the same buffer, and trimmed with the rest.
   */
  buffer(which: 'read' | 'input', n: number): Buffer {
    return this.mem.of(n, which);
  }

  /** Lets go of the scratch buffers (and this thread's kernels' memory) that grew past `keep` bytes. */
  trim(keep = SCRATCH_KEEP): void {
    this.mem.trim(keep);
  }

  /** The bytes of the coding scratch buffers, for the tests that hold trim to its word. */
  scratchBytes(): number {
    return this.mem.bytes();
  }
}

let own: Codec | undefined;

/** This thread's codec: each worker thread (and the main thread) has its own, made on first use. */
export function threadCodec(): Codec {
  own ??= new Codec();
  return own;
}
