import { unzstd, zstdBinding } from '../zstd.js';
import { kernelArena, wasmKernels } from '../kernels.js';
import { groupBytes, ungroupBytes, groupKindFromCode, groupWidth, type GroupKind } from '../bytegroup.js';
import { decodedSize, Encoding, HEADER_SIZE, MAGIC, VERSION } from './format.js';
import { MAX_OBJECT_SIZE } from '../../core/limits.js';
import type { CodecMemory } from './scratch.js';

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
 * were stored for every kind of plane measured (scratch.ts's planeContext).
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

/** Bytes sampled from the middle of a chunk of unknown type to choose its grouping. */
const GUESS_SAMPLE = 32 * 1024;

/**
 * Bytes that `sample` compresses to as planes of `kind` (each plane at the plane level), or plain at level 1 (kind
 * null).
 */
function sampleCost(mem: CodecMemory, sample: Uint8Array, kind: GroupKind | null): number {
  const out = mem.guess.out;
  if (!kind) return Math.min(sample.length, mem.context().compress(out, sample, 1));
  const grouped = groupBytes(sample, kind, mem.guess.grouped);
  const plane = sample.length / groupWidth(kind);
  let total = 0;
  for (let i = 0; i < groupWidth(kind); i++) {
    const slice = grouped.subarray(i * plane, (i + 1) * plane);
    total += Math.min(slice.length, mem.planeContext().compress2(out, slice));
  }
  return total;
}

/**
 * The grouping for a chunk of a file no parser recognised (a raw weight
 * shard, a framework's own format): f32 or bf16 byte planes when a sample
 * from its middle compresses at least 3% smaller that way than plain, else
 * none. Costs three compressions of 32 KiB per chunk. As Xet does, the
 * choice is made per chunk; Codec.encode still falls back to plain zstd
 * when the planes do not pay.
 */
export function guessGroup(mem: CodecMemory, content: Uint8Array): GroupKind | null {
  if (content.length < 4 * GUESS_SAMPLE) return null;
  const at = Math.floor((content.length - GUESS_SAMPLE) / 2) & ~7;
  const sample = content.subarray(at, at + GUESS_SAMPLE);
  guessBuffers(mem);
  const plain = sampleCost(mem, sample, null);
  let best: GroupKind | null = null;
  let bestCost = plain * 0.97;
  for (const kind of ['f32', 'bf16'] as const) {
    const cost = sampleCost(mem, sample, kind);
    if (cost < bestCost) [best, bestCost] = [kind, cost];
  }
  return best;
}

/** The codec's sample buffers (GUESS_SAMPLE bytes, and room for their compressed form), made on first use. */
function guessBuffers(mem: CodecMemory): { grouped: Buffer; out: Buffer } {
  if (mem.guess.out.length === 0)
    mem.guess = {
      grouped: Buffer.alloc(GUESS_SAMPLE),
      out: Buffer.alloc(zstdBinding().compressBound(GUESS_SAMPLE)),
    };
  return mem.guess;
}

/** Windows spread over a chunk that plainEstimate() compresses, and their length (16 KiB together). */
const PLAIN_WINDOWS = 4;
const PLAIN_WINDOW = 4096;

/**
 * An estimate of the bytes plain zstd at `level` (at most 3) makes of
 * `content` of more than 16 KiB: 4 windows of 4 KiB spread over it (first to
 * last), compressed together, scaled to the whole. A window holds no repeat
 * from outside it, so on structured floats (a Fourier basis, a grid) this
 * runs high (0.17-0.22 of the size where the whole gives 0.11-0.15); on
 * random weights it is within 0.3% of the whole. About 21 us of CPU for a
 * chunk, 2.6% of encoding 1 MiB of bf16 as planes (4 windows of 8 KiB: 35 us).
 */
export function plainEstimate(mem: CodecMemory, content: Uint8Array, level: number): number {
  const { grouped: sample, out } = guessBuffers(mem);
  const n = PLAIN_WINDOWS * PLAIN_WINDOW;
  const gap = Math.floor((content.length - PLAIN_WINDOW) / (PLAIN_WINDOWS - 1));
  for (let w = 0; w < PLAIN_WINDOWS; w++)
    sample.set(content.subarray(w * gap, w * gap + PLAIN_WINDOW), w * PLAIN_WINDOW);
  return (mem.context().compress(out, sample.subarray(0, n), Math.min(level, 3)) / n) * content.length;
}

/** Writes the planes encoding of `content` into `dst` from `start` (after the header); returns the end offset. */
export function encodePlanesInto(
  mem: CodecMemory,
  content: Uint8Array,
  kind: GroupKind,
  dst: Buffer,
  start = HEADER_SIZE,
): number {
  const w = groupWidth(kind);
  // with the WebAssembly kernels: one copy into their memory, grouped there
  // (not when the content is itself a decoded result living in that memory)
  const k = w === 8 ? null : wasmKernels();
  let grouped: Buffer;
  if (k && content.buffer !== k.memory.buffer) {
    const arena = kernelArena(k, content.length);
    arena.input.set(content);
    grouped = groupBytes(arena.input, kind, arena.output);
  } else grouped = groupBytes(content, kind, mem.of(content.length, 'group'));
  const plane = Math.floor(content.length / w);
  let pos = start;
  for (let i = 0; i <= w; i++) {
    const slice = grouped.subarray(i * plane, i === w ? grouped.length : (i + 1) * plane);
    const body = pos + 5;
    let len = -1;
    if (slice.length >= 64 && entropy(slice) < 7.9) {
      const n = mem.planeContext().compress2(dst.subarray(body), slice);
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

/**
 * Decodes a planes payload of `size` content bytes grouped as `kind`. With
 * `scratch`, the result may live in the codec's scratch (or the kernels'
 * memory) until its next call; else it is the caller's own.
 */
export function decodePlanes(
  mem: CodecMemory,
  payload: Uint8Array,
  size: number,
  kind: GroupKind,
  corrupt: (why: string) => Error,
  scratch: boolean,
): Buffer {
  const w = groupWidth(kind);
  const plane = Math.floor(size / w);
  // with the WebAssembly kernels, the planes decode into their memory and ungroup there, with no copy
  const k = w === 8 ? null : wasmKernels();
  const arena = k && payload.buffer !== k.memory.buffer ? kernelArena(k, size) : null;
  const grouped = arena ? arena.input : mem.of(size, 'group').subarray(0, size);
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
    return scratch ? arena.output : Buffer.from(arena.output);
  }
  return ungroupBytes(grouped, kind, scratch ? mem.of(size, 'out') : undefined);
}

/**
 * The top byte plane of a byte-planed object (a float's sign and exponent
 * bits, for the rotating kinds), decoded alone into the codec's scratch, with
 * its grouping; null for any other encoding or a malformed payload. Cheaper
 * than decoding the whole object: one plane, no ungrouping, no hash (the
 * caller only compares).
 */
export function topPlane(mem: CodecMemory, stored: Uint8Array): { kind: GroupKind; plane: Buffer } | null {
  if (stored.length < HEADER_SIZE || stored[0] !== MAGIC || stored[1] !== VERSION || stored[2] !== Encoding.planes)
    return null;
  const kind = groupKindFromCode(stored[3]!);
  if (!kind) return null;
  const size = decodedSize(stored);
  // refused before allocating, as Codec.decode does
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
  const out = mem.of(n, 'group').subarray(0, n);
  try {
    unzstd(out, body, (why) => new Error(why), 'wrong plane length');
  } catch {
    return null;
  }
  return { kind, plane: out };
}
