/**
 * Whether a new chunk is stored as a delta against its parent version's
 * chunk of the same tensor, or whole: decided by a look at the base's sign
 * and exponent plane first, then by the sizes of both encodings.
 */
import { threadCodec, decodedSize, deltaOf, type Encoded } from './codec.js';
import { groupWidth, type GroupKind } from './bytegroup.js';
import { deltaWidth, MAX_DELTA_DEPTH } from './delta.js';
import { decodeVerified } from './objectFile.js';
import type { FsObjectStore } from './objectStore.js';

/** Deltas must save this share of the whole encoding to be kept: every read of one also reads its base. */
const DELTA_MIN_SAVING = 0.05;

/**
 * The chunk as a delta against `baseId` (the parent version's chunk of the
 * same tensor) when that is smaller by DELTA_MIN_SAVING, else `whole`. A base
 * that is gone, damaged, of another size or already MAX_DELTA_DEPTH deep
 * leaves the chunk whole; 'unlike' says the tensor looks written anew.
 */
export function smallerDelta(
  store: FsObjectStore,
  content: Buffer,
  baseId: string,
  group: GroupKind,
  whole: Encoded,
): Encoded | 'unlike' {
  try {
    const w = deltaWidth(group);
    const codec = threadCodec();
    const stored = store.readStoredScratch(baseId);
    const depth = (deltaOf(stored)?.depth ?? 0) + 1;
    if (!w || depth > MAX_DELTA_DEPTH || decodedSize(stored) !== content.length) return whole;
    // a look at the base's sign-and-exponent plane alone, when it has one, before decoding all of it
    const n = Math.floor(content.length / w);
    const top = codec.topPlane(stored);
    const looked = top !== null && top.kind === group;
    if (looked && !alike((i) => top.plane[i]!, content, group, Math.min(n, top.plane.length))) return 'unlike';
    // the base lives in scratch memory until the difference is taken (encodeDelta reads it first)
    const base = decodeVerified(stored, baseId, {
      scratch: true,
      loadBase: store.baseLoader(),
      bound: { exact: content.length },
    });
    if (!looked && !alike((i) => topByte(base, i, group), content, group, n)) return 'unlike';
    const d = codec.encodeDelta(content, base, baseId, depth, group, { scratch: true });
    return d && d.bytes.length < whole.bytes.length * (1 - DELTA_MIN_SAVING) ? d : whole;
  } catch {
    return whole;
  }
}

/**
 * Element i's top byte as the byte planes of `kind` group it: for floats the
 * sign and exponent (after the one-bit rotation), for integers the high byte.
 */
function topByte(b: Uint8Array, i: number, kind: GroupKind): number {
  const w = groupWidth(kind);
  const rotate = kind === 'bf16' || kind === 'f16' || kind === 'f32';
  const j = i * w;
  if (w === 2) {
    const v = b[j]! | (b[j + 1]! << 8);
    return (rotate ? ((v << 1) | (v >>> 15)) >>> 8 : v >>> 8) & 0xff;
  }
  const v = (b[j]! | (b[j + 1]! << 8) | (b[j + 2]! << 16) | (b[j + 3]! << 24)) >>> 0;
  return (rotate ? ((v << 1) | (v >>> 31)) >>> 24 : v >>> 24) & 0xff;
}

/**
 * Whether a chunk looks fine-tuned from its base: most of a sample of every
 * 16th element (of the first n) keeps the base's top byte (`baseTop(i)`), as a
 * small relative change leaves a float's sign and exponent alone. A tensor
 * written anew shares far fewer, and its difference would not compress.
 */
function alike(baseTop: (i: number) => number, b: Uint8Array, kind: GroupKind, n: number): boolean {
  let same = 0;
  let seen = 0;
  for (let i = 0; i < n; i += 16, seen++) same += +(baseTop(i) === topByte(b, i, kind));
  return seen === 0 || same >= seen * 0.6;
}
