// The encoding names show --tensors gives a stored chunk, read from its header alone.
import { describe, expect, it } from 'vitest';
import { encodingName } from '../../../../src/repo/insight/tensorListing.js';
import { encodeObject } from '../../../../src/storage/codec.js';

/** An 8-byte object header: magic, version, encoding, its parameter, a size. */
const header = (encoding: number, param: number) => Buffer.from([0x4d, 1, encoding, param, 16, 0, 0, 0]);

describe('encodingName', () => {
  it('names each encoding and its byte grouping from the header', () => {
    expect(encodingName(header(0, 0))).toBe('raw');
    expect(encodingName(header(1, 0))).toBe('zstd');
    expect(encodingName(header(2, 1))).toBe('planes:bf16');
    expect(encodingName(header(2, 3))).toBe('planes:f32');
    expect(encodingName(header(3, 6))).toBe('delta:w4');
    expect(encodingName(header(2, 99))).toBe('planes:unknown');
    expect(encodingName(header(9, 0))).toBe('unknown');
    expect(encodingName(header(1, 0).subarray(0, 5))).toBe('unknown');
  });

  it('agrees with what the codec writes', () => {
    const zeros = Buffer.alloc(4096);
    expect(encodingName(encodeObject(zeros, { level: 3 }).bytes)).toBe('zstd');
    expect(encodingName(encodeObject(zeros, { level: 0 }).bytes)).toBe('raw');
  });
});
