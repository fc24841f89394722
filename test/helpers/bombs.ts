/**
 * Builders of decompression bombs: stored objects whose few bytes claim or
 * expand to far more than any object may hold, in every encoding the codec
 * reads (codec.ts: raw, zstd, planes, delta).
 */
import { Encoding, HEADER_SIZE } from '../../src/storage/codec.js';

/** Largest block a zstd frame may hold: 128 KiB. */
const BLOCK = 128 << 10;

function frameOfBlocks(descriptor: number[], total: number, byte: number): Buffer {
  const blocks = Math.ceil(total / BLOCK);
  const out = Buffer.alloc(4 + descriptor.length + 4 * Math.max(1, blocks));
  out.writeUInt32LE(0xfd2fb528, 0);
  Buffer.from(descriptor).copy(out, 4);
  let at = 4 + descriptor.length;
  for (let i = 0, left = total; i < Math.max(1, blocks); i++) {
    const n = Math.min(BLOCK, left);
    left -= n;
    const last = i === Math.max(1, blocks) - 1 ? 1 : 0;
    // block header: last flag, type 1 (RLE), size = bytes it regenerates; then the one byte repeated
    const h = last | (1 << 1) | (n << 3);
    out[at] = h & 0xff;
    out[at + 1] = (h >>> 8) & 0xff;
    out[at + 2] = (h >>> 16) & 0xff;
    out[at + 3] = byte;
    at += 4;
  }
  return out;
}

/**
 * One zstd frame of RLE blocks that states no content size and expands to `total` bytes of `byte` (4 bytes per 128
 * KiB).
 */
export function rleFrame(total: number, byte = 0x41): Buffer {
  // frame header descriptor 0: no content size, not single-segment; window descriptor 0x38: a 128 KiB window
  return frameOfBlocks([0x00, 0x38], total, byte);
}

/** A zstd frame whose header claims `claimed` bytes of content (8-byte field) and whose RLE blocks expand to `real`. */
export function claimingFrame(claimed: number, real: number, byte = 0x41): Buffer {
  const fcs = Buffer.alloc(8);
  fcs.writeBigUInt64LE(BigInt(claimed));
  // descriptor: 8-byte content size (0xc0), not single-segment; window descriptor 0x38
  return frameOfBlocks([0xc0, 0x38, ...fcs], real, byte);
}

/** A stored object: the codec's 8-byte header (encoding, param, declared size) and `payload`. */
export function storedObject(encoding: number, param: number, size: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + payload.length);
  out[0] = 0x4d;
  out[1] = 1;
  out[2] = encoding;
  out[3] = param;
  out.writeUInt32LE(size >>> 0, 4);
  Buffer.from(payload).copy(out, HEADER_SIZE);
  return out;
}

/** A zstd object whose header declares `size` and whose frame (no content size) expands to `expands` bytes. */
export function zstdBomb(size: number, expands = size): Buffer {
  return storedObject(Encoding.zstd, 0, size, rleFrame(expands));
}

/**
 * A planes object (f32 grouping, code 3) whose header declares `size`: four
 * planes and an empty tail, each plane a zstd frame of RLE blocks expanding to
 * `planeExpands` bytes (size / 4 for planes that fill exactly).
 */
export function planesBomb(size: number, planeExpands = Math.floor(size / 4)): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 5; i++) {
    const body = i < 4 ? rleFrame(planeExpands, i) : Buffer.alloc(0);
    const head = Buffer.alloc(5);
    head[0] = i < 4 ? 1 : 0;
    head.writeUInt32LE(body.length, 1);
    parts.push(head, body);
  }
  return storedObject(Encoding.planes, 3, size, Buffer.concat(parts));
}

/**
 * A delta object (f32 grouping) whose header declares `size`, on base `baseId` (64 hex), its difference planes
 * expanding to `planeExpands` each.
 */
export function deltaBomb(size: number, baseId: string, planeExpands = Math.floor(size / 4)): Buffer {
  const planes = planesBomb(size, planeExpands).subarray(HEADER_SIZE);
  return storedObject(Encoding.delta, 3, size, Buffer.concat([Buffer.from(baseId, 'hex'), Buffer.from([1]), planes]));
}

/** A raw object whose header declares `size` but holds only `payload`. */
export function rawBomb(size: number, payload = Buffer.alloc(64)): Buffer {
  return storedObject(Encoding.raw, 0, size, payload);
}
