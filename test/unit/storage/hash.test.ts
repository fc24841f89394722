import { describe, it, expect } from 'vitest';
import { blake3Hex, blake3HexJs, createHasher, hashBackend } from '../../../src/storage/hash.js';

/** The official BLAKE3 test-vector input: bytes 0, 1, ..., 250, 0, 1, ... */
function vectorInput(len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = i % 251;
  return out;
}

// First 32 bytes (default output length) of the `hash` field of
// BLAKE3-team/BLAKE3 test_vectors/test_vectors.json.
const VECTORS: [number, string][] = [
  [0, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
  [1, '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213'],
  [1023, '10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11'],
  [1024, '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7'],
  [1025, 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444'],
  [2048, 'e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a'],
  [2049, '5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030'],
  [3072, 'b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2'],
  [4096, '015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969'],
  [8193, 'bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b'],
  [16384, 'f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4'],
  [31744, '62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47'],
  [102400, 'bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085'],
];

describe('hash backend', () => {
  it('uses the native backend by default', () => {
    expect(hashBackend()).toBe('native');
  });
});

describe('blake3Hex (native path)', () => {
  it('hashes the empty input', () => {
    expect(blake3Hex(new Uint8Array(0))).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  });

  it('hashes "abc"', () => {
    expect(blake3Hex(Buffer.from('abc'))).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  });

  it.each(VECTORS)('matches the official vector for length %i', (len, hex) => {
    expect(blake3Hex(vectorInput(len))).toBe(hex);
  });

  it('returns 64 lowercase hex digits', () => {
    expect(blake3Hex(Buffer.from('hello'))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes a subarray view by its own bytes, not the whole backing buffer', () => {
    const big = vectorInput(4096);
    const view = big.subarray(1000, 2023);
    expect(blake3Hex(view)).toBe(blake3Hex(Uint8Array.from(view)));
    expect(blake3Hex(view)).not.toBe(blake3Hex(big));
  });
});

describe('blake3HexJs (pure-JS path)', () => {
  it('hashes the empty input', async () => {
    expect(await blake3HexJs(new Uint8Array(0))).toBe(
      'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    );
  });

  it('hashes "abc"', async () => {
    expect(await blake3HexJs(Buffer.from('abc'))).toBe(
      '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85',
    );
  });

  it.each(VECTORS)('matches the official vector for length %i', async (len, hex) => {
    expect(await blake3HexJs(vectorInput(len))).toBe(hex);
  });

  it('agrees with the native path on assorted lengths', async () => {
    for (const len of [63, 64, 65, 127, 128, 129, 1000, 4097, 65536, 65537, 200_000]) {
      const data = vectorInput(len);
      expect(await blake3HexJs(data), `length ${len}`).toBe(blake3Hex(data));
    }
  });
});

describe('createHasher', () => {
  it('digests nothing as the empty hash', () => {
    expect(createHasher().digestHex()).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  });

  it('streaming in uneven pieces equals one-shot', () => {
    for (const len of [1, 1023, 1024, 1025, 31744, 102400]) {
      const data = vectorInput(len);
      const h = createHasher();
      const cuts = [0, 1, 7, 64, 1000, 1024, 1025, 5000, 50_000, len].filter((c) => c <= len);
      for (let i = 0; i + 1 < cuts.length; i++) h.update(data.subarray(cuts[i], Math.max(cuts[i]!, cuts[i + 1]!)));
      expect(h.digestHex(), `length ${len}`).toBe(blake3Hex(data));
    }
  });

  it('update is chainable and byte-at-a-time gives the same digest', () => {
    const data = Buffer.from('the quick brown fox jumps over the lazy dog');
    let h = createHasher();
    for (const b of data) h = h.update(Uint8Array.of(b));
    expect(h.digestHex()).toBe(blake3Hex(data));
  });

  it('matches the official vector for 102400 bytes fed in 4 KiB pieces', () => {
    const data = vectorInput(102400);
    const h = createHasher();
    for (let i = 0; i < data.length; i += 4096) h.update(data.subarray(i, i + 4096));
    expect(h.digestHex()).toBe('bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085');
  });

  it('separate hashers do not share state', () => {
    const a = createHasher().update(Buffer.from('a'));
    const b = createHasher().update(Buffer.from('b'));
    expect(a.digestHex()).toBe(blake3Hex(Buffer.from('a')));
    expect(b.digestHex()).toBe(blake3Hex(Buffer.from('b')));
  });
});
