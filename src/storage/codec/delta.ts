import { zstdBinding } from '../zstd.js';
import { applyDiff, deltaWidth, elementDiff, MAX_DELTA_DEPTH } from '../delta.js';
import { groupKindFromCode, GROUP_KIND_CODES, type GroupKind } from '../bytegroup.js';
import { DELTA_PREFIX, Encoding, HEADER_SIZE, writeHeader, type BaseLoader } from './format.js';
import { decodePlanes, encodePlanesInto } from './planes.js';
import type { CodecMemory } from './scratch.js';

/**
 * Encodes `content` as the difference from `base` (the content of object
 * `baseId`, `depth - 1` deltas deep), for a tensor grouped as `group`, into
 * the codec's `delta` scratch (not the one a whole encoding uses); returns its
 * bytes there, or null when the grouping takes no deltas.
 */
export function encodeDeltaInto(
  mem: CodecMemory,
  content: Uint8Array,
  base: Uint8Array,
  baseId: string,
  depth: number,
  group: GroupKind,
): Buffer | null {
  const w = deltaWidth(group);
  if (!w || base.length !== content.length || depth < 1 || depth > MAX_DELTA_DEPTH || !/^[0-9a-f]{64}$/.test(baseId))
    return null;
  const diff = mem.of(content.length, 'diff').subarray(0, content.length);
  elementDiff(base, content, w, diff);
  const dst = mem.of(HEADER_SIZE + DELTA_PREFIX + zstdBinding().compressBound(content.length) + 5 * 9, 'delta');
  Buffer.from(baseId, 'hex').copy(dst, HEADER_SIZE);
  dst[HEADER_SIZE + 32] = depth;
  const end = encodePlanesInto(mem, diff, w === 2 ? 'w2' : 'w4', dst, HEADER_SIZE + DELTA_PREFIX);
  writeHeader(dst, Encoding.delta, GROUP_KIND_CODES[group], content.length);
  return dst.subarray(0, end);
}

/**
 * Decodes a delta payload of `size` content bytes: its difference, then its
 * base through `loadBase`, each copied into the scratch of this nesting depth
 * (so decoding a fine-tune allocates nothing per chunk). With `scratch`, the
 * result lives in the codec's scratch until its next call.
 */
export function decodeDelta(
  mem: CodecMemory,
  payload: Uint8Array,
  size: number,
  param: number,
  loadBase: BaseLoader | undefined,
  corrupt: (why: string) => Error,
  scratch: boolean,
): Buffer {
  const kind = groupKindFromCode(param);
  const w = deltaWidth(kind);
  if (!kind || !w) throw corrupt(`unknown delta grouping ${param}`);
  if (payload.length < DELTA_PREFIX) throw corrupt('truncated delta');
  const depth = payload[32]!;
  if (depth < 1 || depth > MAX_DELTA_DEPTH) throw corrupt(`delta depth ${depth} out of range`);
  if (!loadBase) throw corrupt('a delta, whose base object is not at hand here');
  if (mem.deltaNesting >= MAX_DELTA_DEPTH) throw corrupt('chain of deltas too long');
  const baseId = Buffer.from(payload.buffer, payload.byteOffset, 32).toString('hex');
  // the difference and the base are each copied out of the scratch the next decode reuses
  const level = mem.deltaNesting;
  const diff = mem.atDepth(level, 'diff', size);
  decodePlanes(mem, payload.subarray(DELTA_PREFIX), size, w === 2 ? 'w2' : 'w4', corrupt, true).copy(diff);
  mem.deltaNesting++;
  let base: Buffer;
  try {
    // the base must decode to the delta's own size: a base claiming more is refused before it allocates
    const loaded = loadBase(baseId, size);
    if (loaded.length !== size) throw corrupt('its base object has another length');
    base = mem.atDepth(level, 'base', size);
    loaded.copy(base);
  } finally {
    mem.deltaNesting--;
  }
  const out = scratch ? mem.of(size, 'out').subarray(0, size) : Buffer.allocUnsafe(size);
  applyDiff(base, diff, w, out);
  return out;
}
