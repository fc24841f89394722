import { MAX_OBJECT_SIZE } from '../core/limits.js';
import { unzstd, zstdBinding, type ZstdCCtx } from './zstd.js';
import { MvmError } from '../errors.js';
import { kernelArena, releaseKernels, wasmKernels } from './kernels.js';
import { applyDiff, deltaWidth, elementDiff, MAX_DELTA_DEPTH, releaseDeltaKernels } from './delta.js';
import {
  groupBytes,
  ungroupBytes,
  groupKindFromCode,
  groupWidth,
  GROUP_KIND_CODES,
  type GroupKind,
} from './bytegroup.js';

/**
 * How a stored object's payload is encoded; the value is the byte in its header.
 * `planes`: the content was split into byte planes (header byte 3 names the
 * grouping) and each plane, then the tail, is stored as [method u8][length u32][bytes]
 * with method 0 = raw, 1 = zstd.
 * `delta`: the content is another object's content plus a difference (see
 * delta.ts); header byte 3 names the tensor's grouping (which sets the element
 * width), and the payload is [base object id: 32 bytes][depth u8][the
 * zigzagged difference as `planes` lays out width 2 or 4 without rotation].
 * Decoding needs the base object, so only the local store reads deltas.
 */
export const Encoding = { raw: 0, zstd: 1, planes: 2, delta: 3 } as const;
/** One of the Encoding values. */
export type EncodingCode = (typeof Encoding)[keyof typeof Encoding];

/** Size of the header in front of every stored object. */
export const HEADER_SIZE = 8;
const MAGIC = 0x4d; // 'M'
const VERSION = 1;

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

let cctx: ZstdCCtx | null = null;
let planeCctx: ZstdCCtx | null = null;

/** Windows of consecutive bytes that entropy() reads, and their length. */
const ENTROPY_WINDOWS = 4;
const ENTROPY_WINDOW = 1024;

/**
 * Shannon entropy in bits per byte, estimated from 4 windows of 1 KiB spread
 * over `buf` (all of a smaller one): planes above ~7.9 bits (float
 * mantissas) cannot be compressed, so zstd is skipped. 4,096 samples read a
 * plane of random bytes as about 7.95 bits (the estimate runs low by about
 * 0.045 bit), still above the bar; a plane nearer the bar would compress by
 * 1-2% at most. Fewer samples than every 16th byte (32,768 per 512 KiB
 * plane), which took 80 ms of each thread in a 1 GiB commit: the same bytes
 * were stored for every kind of plane measured (codec.ts's planeContext).
 */
function entropy(buf: Uint8Array): number {
  const hist = new Uint32Array(256);
  let n = 0;
  if (buf.length <= ENTROPY_WINDOWS * ENTROPY_WINDOW) for (; n < buf.length; n++) hist[buf[n]!]!++;
  else {
    const gap = Math.floor((buf.length - ENTROPY_WINDOW) / (ENTROPY_WINDOWS - 1));
    for (let w = 0; w < ENTROPY_WINDOWS; w++)
      for (let i = w * gap, end = i + ENTROPY_WINDOW; i < end; i++, n++) hist[buf[i]!]!++;
  }
  let h = 0;
  for (const c of hist) if (c) h -= (c / n) * Math.log2(c / n);
  return h;
}

/**
 * A float's exponent plane is a few bits of entropy per byte with few long
 * repeats: level 1 with the smallest hash table (64 entries) and long
 * minimum matches leaves it to zstd's Huffman stage. On bf16 weights that
 * measured faster and smaller than level 3 (~690 vs ~170 MB/s on the plane,
 * 32.5% vs 37.2% of it), and than a 1,024-entry table (~340 MB/s, 33.2%):
 * the few short matches a larger table finds only cut the literals into
 * sequences, which cost time to find and to decode. Whole chunks with this
 * table, against 1,024 entries: bf16 encode 905 vs 540 MiB/s, decode ~2,350
 * vs ~1,600-1,900 MiB/s, no kind of plane larger (f32, f16, sparse f32,
 * rounded f32, int64, bf16 fine-tune deltas).
 */
function planeContext(): ZstdCCtx {
  if (!planeCctx) {
    planeCctx = new (zstdBinding().CCtx)();
    const P = zstdBinding().CParameter;
    planeCctx.setParameter(P.compressionLevel!, 1);
    planeCctx.setParameter(P.minMatch!, 7);
    planeCctx.setParameter(P.hashLog!, 6);
  }
  return planeCctx;
}

// Per-thread scratch buffers, reused across chunks: fresh 1 MiB allocations
// cost page faults that measured as much as the compression itself.
const scratch = {
  group: Buffer.alloc(0),
  out: Buffer.alloc(0),
  enc: Buffer.alloc(0),
  plain: Buffer.alloc(0),
  diff: Buffer.alloc(0),
  delta: Buffer.alloc(0),
};
function scratchOf(n: number, which: keyof typeof scratch): Buffer {
  if (scratch[which].length < n) scratch[which] = Buffer.alloc(Math.max(n, 1 << 20));
  return scratch[which];
}

/**
 * Scratch buffers larger than this are let go after a task (trimScratch):
 * chunks up to 64 MiB keep theirs from chunk to chunk, while one oversized
 * (or hostile) chunk does not pin its memory in every thread it passed through.
 */
export const SCRATCH_KEEP = 64 << 20;

/** Lets go of this thread's codec scratch buffers (and the kernels' memory) that grew past `keep` bytes. */
export function trimScratch(keep = SCRATCH_KEEP): void {
  for (const k of Object.keys(scratch) as (keyof typeof scratch)[])
    if (scratch[k].length > keep) scratch[k] = Buffer.alloc(0);
  for (const s of deltaScratch) {
    if (s && s.diff.length > keep) s.diff = Buffer.alloc(0);
    if (s && s.base.length > keep) s.base = Buffer.alloc(0);
  }
  releaseKernels(2 * keep);
  releaseDeltaKernels(3 * keep);
}

/** The bytes of this thread's scratch buffers, for the tests that hold trimScratch to its word. */
export function scratchBytes(): number {
  return (
    Object.values(scratch).reduce((n, b) => n + b.length, 0) +
    deltaScratch.reduce((n, s) => n + (s ? s.diff.length + s.base.length : 0), 0)
  );
}

/** Bytes sampled from the middle of a chunk of unknown type to choose its grouping. */
const GUESS_SAMPLE = 32 * 1024;
let guessScratch = { grouped: Buffer.alloc(0), out: Buffer.alloc(0) };

/** Bytes that `sample` compresses to as planes of `kind` (each plane at the plane level), or plain at level 1 (kind null). */
function sampleCost(sample: Uint8Array, kind: GroupKind | null): number {
  const out = guessScratch.out;
  if (!kind) {
    cctx ??= new (zstdBinding().CCtx)();
    return Math.min(sample.length, cctx.compress(out, sample, 1));
  }
  const grouped = groupBytes(sample, kind, guessScratch.grouped);
  const plane = sample.length / groupWidth(kind);
  let total = 0;
  for (let i = 0; i < groupWidth(kind); i++) {
    const slice = grouped.subarray(i * plane, (i + 1) * plane);
    total += Math.min(slice.length, planeContext().compress2(out, slice));
  }
  return total;
}

/**
 * The grouping for a chunk of a file no parser recognised (a raw weight
 * shard, a framework's own format): f32 or bf16 byte planes when a sample
 * from its middle compresses at least 3% smaller that way than plain, else
 * none. Costs three compressions of 32 KiB per chunk. As Xet does, the
 * choice is made per chunk; encodeObject still falls back to plain zstd
 * when the planes do not pay.
 */
function guessGroup(content: Uint8Array): GroupKind | null {
  if (content.length < 4 * GUESS_SAMPLE) return null;
  const at = Math.floor((content.length - GUESS_SAMPLE) / 2) & ~7;
  const sample = content.subarray(at, at + GUESS_SAMPLE);
  if (guessScratch.out.length === 0)
    guessScratch = {
      grouped: Buffer.alloc(GUESS_SAMPLE),
      out: Buffer.alloc(zstdBinding().compressBound(GUESS_SAMPLE)),
    };
  const plain = sampleCost(sample, null);
  let best: GroupKind | null = null;
  let bestCost = plain * 0.97;
  for (const kind of ['f32', 'bf16'] as const) {
    const cost = sampleCost(sample, kind);
    if (cost < bestCost) [best, bestCost] = [kind, cost];
  }
  return best;
}

/** Writes the planes encoding of `content` into `dst` from `start` (after the header); returns the end offset. */
function encodePlanesInto(content: Uint8Array, kind: GroupKind, dst: Buffer, start = HEADER_SIZE): number {
  const w = groupWidth(kind);
  // with the WebAssembly kernels: one copy into their memory, grouped there
  // (not when the content is itself a decoded result living in that memory)
  const k = w === 8 ? null : wasmKernels();
  let grouped: Buffer;
  if (k && content.buffer !== k.memory.buffer) {
    const arena = kernelArena(k, content.length);
    arena.input.set(content);
    grouped = groupBytes(arena.input, kind, arena.output);
  } else grouped = groupBytes(content, kind, scratchOf(content.length, 'group'));
  const plane = Math.floor(content.length / w);
  let pos = start;
  for (let i = 0; i <= w; i++) {
    const slice = grouped.subarray(i * plane, i === w ? grouped.length : (i + 1) * plane);
    const body = pos + 5;
    let len = -1;
    if (slice.length >= 64 && entropy(slice) < 7.9) {
      const n = planeContext().compress2(dst.subarray(body), slice);
      if (n < slice.length) len = n;
    }
    if (len < 0) {
      dst.set(slice, body);
      dst[pos] = 0;
      len = slice.length;
    } else {
      dst[pos] = 1;
    }
    dst.writeUInt32LE(len, pos + 1);
    pos = body + len;
  }
  return pos;
}

function writeHeader(dst: Buffer, encoding: number, param: number, size: number): void {
  dst[0] = MAGIC;
  dst[1] = VERSION;
  dst[2] = encoding;
  dst[3] = param;
  dst.writeUInt32LE(size, 4);
}

/**
 * Encodes content for storage, keeping whichever of raw, zstd or byte-planes
 * is smallest. The hash is always of `content` itself. With `reuse`, the
 * result is a view into a per-thread scratch buffer, valid until the next call;
 * without it, the bytes are the caller's own and no later call writes into
 * them (a small result may share its ArrayBuffer with others from Node's
 * pool: never transfer or reinterpret its `.buffer` beyond its own bytes).
 */
export function encodeObject(content: Uint8Array, opts: EncodeOptions, reuse = false): Encoded {
  if (content.length > 0xffffffff) throw new MvmError('BAD_VALUE', 'object larger than 4 GiB');
  const bound = HEADER_SIZE + zstdBinding().compressBound(content.length) + 5 * 9;
  let best: { enc: EncodingCode; param: number; buf: Buffer; end: number } | null = null;
  if (opts.level > 0 && content.length >= 64) {
    const group = opts.group === 'auto' ? guessGroup(content) : opts.group;
    if (group) {
      const dst = scratchOf(bound, 'enc');
      const end = encodePlanesInto(content, group, dst);
      if (end - HEADER_SIZE < content.length)
        best = { enc: Encoding.planes, param: GROUP_KIND_CODES[group], buf: dst, end };
    }
    // Plain zstd is tried when no grouping applies, or when grouping won less than 5%:
    // on float tensors grouping wins by far more, and a second pass would halve throughput.
    if (!best || best.end - HEADER_SIZE > content.length * 0.95) {
      const dst = scratchOf(bound, 'plain');
      cctx ??= new (zstdBinding().CCtx)();
      const n = cctx.compress(dst.subarray(HEADER_SIZE), content, opts.level);
      if (n < (best ? best.end - HEADER_SIZE : content.length))
        best = { enc: Encoding.zstd, param: 0, buf: dst, end: HEADER_SIZE + n };
    }
  }
  if (!best) {
    const dst = scratchOf(HEADER_SIZE + content.length, 'plain');
    dst.set(content, HEADER_SIZE);
    best = { enc: Encoding.raw, param: 0, buf: dst, end: HEADER_SIZE + content.length };
  }
  writeHeader(best.buf, best.enc, best.param, content.length);
  const view = best.buf.subarray(0, best.end);
  return { bytes: reuse ? view : Buffer.from(view), encoding: best.enc };
}

/** Bytes of a delta payload before its planes: the base id and the depth. */
export const DELTA_PREFIX = 33;

/**
 * Encodes `content` as the difference from `base` (the content of object
 * `baseId`, `depth - 1` deltas deep), for a tensor grouped as `group`; null
 * when the grouping takes no deltas. With `reuse`, the result is a view into
 * a per-thread scratch buffer (not the one encodeObject uses).
 */
export function encodeDelta(
  content: Uint8Array,
  base: Uint8Array,
  baseId: string,
  depth: number,
  group: GroupKind,
  reuse = false,
): Encoded | null {
  const w = deltaWidth(group);
  if (!w || base.length !== content.length || depth < 1 || depth > MAX_DELTA_DEPTH || !/^[0-9a-f]{64}$/.test(baseId))
    return null;
  const diff = scratchOf(content.length, 'diff').subarray(0, content.length);
  elementDiff(base, content, w, diff);
  const dst = scratchOf(HEADER_SIZE + DELTA_PREFIX + zstdBinding().compressBound(content.length) + 5 * 9, 'delta');
  Buffer.from(baseId, 'hex').copy(dst, HEADER_SIZE);
  dst[HEADER_SIZE + 32] = depth;
  const end = encodePlanesInto(diff, w === 2 ? 'w2' : 'w4', dst, HEADER_SIZE + DELTA_PREFIX);
  writeHeader(dst, Encoding.delta, GROUP_KIND_CODES[group], content.length);
  const view = dst.subarray(0, end);
  return { bytes: reuse ? view : Buffer.from(view), encoding: Encoding.delta };
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

/** Deltas being decoded in this thread right now: a chain longer than MAX_DELTA_DEPTH (or a cycle in a damaged store) stops. */
let deltaNesting = 0;

/** Per nesting depth, the difference and the base of the delta being decoded there: reused, so decoding a fine-tune allocates nothing per chunk. */
const deltaScratch: { diff: Buffer; base: Buffer }[] = [];

function depthScratch(depth: number, which: 'diff' | 'base', n: number): Buffer {
  const s = (deltaScratch[depth] ??= { diff: Buffer.alloc(0), base: Buffer.alloc(0) });
  if (s[which].length < n) s[which] = Buffer.alloc(Math.max(n, 1 << 20));
  return s[which].subarray(0, n);
}

function decodeDelta(
  payload: Uint8Array,
  size: number,
  param: number,
  loadBase: BaseLoader | undefined,
  corrupt: (why: string) => Error,
  reuse: boolean,
): Buffer {
  const kind = groupKindFromCode(param);
  const w = deltaWidth(kind);
  if (!kind || !w) throw corrupt(`unknown delta grouping ${param}`);
  if (payload.length < DELTA_PREFIX) throw corrupt('truncated delta');
  const depth = payload[32]!;
  if (depth < 1 || depth > MAX_DELTA_DEPTH) throw corrupt(`delta depth ${depth} out of range`);
  if (!loadBase) throw corrupt('a delta, whose base object is not at hand here');
  if (deltaNesting >= MAX_DELTA_DEPTH) throw corrupt('chain of deltas too long');
  const baseId = Buffer.from(payload.buffer, payload.byteOffset, 32).toString('hex');
  // the difference and the base are each copied out of the scratch the next decode reuses
  const level = deltaNesting;
  const diff = depthScratch(level, 'diff', size);
  decodePlanes(payload.subarray(DELTA_PREFIX), size, w === 2 ? 'w2' : 'w4', corrupt, true).copy(diff);
  deltaNesting++;
  let base: Buffer;
  try {
    // the base must decode to the delta's own size: a base claiming more is refused before it allocates
    const loaded = loadBase(baseId, size);
    if (loaded.length !== size) throw corrupt('its base object has another length');
    base = depthScratch(level, 'base', size);
    loaded.copy(base);
  } finally {
    deltaNesting--;
  }
  const out = reuse ? scratchOf(size, 'out').subarray(0, size) : Buffer.allocUnsafe(size);
  applyDiff(base, diff, w, out);
  return out;
}

/**
 * The top byte plane of a byte-planed object (a float's sign and exponent
 * bits, for the rotating kinds), decoded alone, with its grouping; null for
 * any other encoding or a malformed payload. Cheaper than decoding the whole
 * object: one plane, no ungrouping, no hash (the caller only compares).
 */
export function topPlane(stored: Uint8Array): { kind: GroupKind; plane: Buffer } | null {
  if (stored.length < HEADER_SIZE || stored[0] !== MAGIC || stored[1] !== VERSION || stored[2] !== Encoding.planes)
    return null;
  const kind = groupKindFromCode(stored[3]!);
  if (!kind) return null;
  const size = decodedSize(stored);
  // refused before allocating, as decodeObject does
  if (size > MAX_OBJECT_SIZE) return null;
  const w = groupWidth(kind);
  const n = Math.floor(size / w);
  const view = Buffer.from(stored.buffer, stored.byteOffset + HEADER_SIZE, stored.length - HEADER_SIZE);
  let pos = 0;
  for (let i = 0; i < w - 1; i++) {
    if (pos + 5 > view.length) return null;
    pos += 5 + view.readUInt32LE(pos + 1);
  }
  if (pos + 5 > view.length) return null;
  const method = view[pos]!;
  const body = view.subarray(pos + 5, pos + 5 + view.readUInt32LE(pos + 1));
  if (method === 0) return body.length === n ? { kind, plane: body } : null;
  if (method !== 1) return null;
  const out = scratchOf(n, 'group').subarray(0, n);
  try {
    unzstd(out, body, (why) => new Error(why), 'wrong plane length');
  } catch {
    return null;
  }
  return { kind, plane: out };
}

function decodePlanes(
  payload: Uint8Array,
  size: number,
  kind: GroupKind,
  corrupt: (why: string) => Error,
  reuse: boolean,
): Buffer {
  const w = groupWidth(kind);
  const plane = Math.floor(size / w);
  // with the WebAssembly kernels, the planes decode into their memory and ungroup there, with no copy
  const k = w === 8 ? null : wasmKernels();
  const arena = k && payload.buffer !== k.memory.buffer ? kernelArena(k, size) : null;
  const grouped = arena ? arena.input : scratchOf(size, 'group').subarray(0, size);
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  let pos = 0;
  for (let i = 0; i <= w; i++) {
    const want = i === w ? size - w * plane : plane;
    if (pos + 5 > view.length) throw corrupt('truncated plane');
    const method = view[pos]!;
    const len = view.readUInt32LE(pos + 1);
    pos += 5;
    if (pos + len > view.length) throw corrupt('truncated plane');
    const body = view.subarray(pos, pos + len);
    const dst = grouped.subarray(i * plane, i * plane + want);
    if (method === 0) {
      if (len !== want) throw corrupt('wrong plane length');
      body.copy(dst);
    } else if (method === 1) {
      unzstd(dst, body, corrupt, 'wrong plane length');
    } else {
      throw corrupt(`unknown plane method ${method}`);
    }
    pos += len;
  }
  if (pos !== view.length) throw corrupt('trailing bytes');
  if (arena) {
    ungroupBytes(grouped, kind, arena.output);
    return reuse ? arena.output : Buffer.from(arena.output);
  }
  return ungroupBytes(grouped, kind, reuse ? scratchOf(size, 'out') : undefined);
}

/** Loads a delta's base object by id, which must decode to `size` bytes. */
export type BaseLoader = (id: string, size?: number) => Buffer;

/**
 * Decodes a stored object back to its content; throws OBJECT_CORRUPT on a
 * malformed header or payload. With `reuse`, the result may live in a
 * per-thread scratch buffer that the next decode overwrites; without it, the
 * result is the caller's own (a raw object's is a view of `stored`): no later
 * call writes into it (a small one may
 * share its ArrayBuffer with others from Node's pool, so never transfer or
 * reinterpret its `.buffer` beyond its own bytes). A delta needs `loadBase`
 * (the content of an object by id, which may live in scratch the next decode
 * overwrites); without it, a delta is refused as corrupt (what a remote sends
 * is never a delta). `bound` holds the decoded size to what the naming
 * structure declares and the object's kind allows (at most MAX_OBJECT_SIZE),
 * checked against the header before anything is allocated.
 */
export function decodeObject(
  stored: Uint8Array,
  id: string,
  reuse = false,
  loadBase?: BaseLoader,
  bound: SizeBound = {},
): Buffer {
  const corrupt = (why: string) =>
    new MvmError('OBJECT_CORRUPT', `object ${id} is corrupt (${why})`, {
      id,
      hint: "run 'mvm fsck' to list every damaged object",
    });
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
    return decodePlanes(payload, size, kind, corrupt, reuse);
  }
  if (enc === Encoding.delta) return decodeDelta(payload, size, param, loadBase, corrupt, reuse);
  if (enc !== Encoding.zstd) throw corrupt(`unknown encoding ${enc}`);
  const out = reuse ? scratchOf(size, 'out').subarray(0, size) : Buffer.allocUnsafe(size);
  unzstd(out, payload, corrupt, 'wrong decoded length');
  return out;
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
