import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Codec,
  encodeObject,
  decodeObject,
  encodingOf,
  Encoding,
  HEADER_SIZE,
  threadCodec,
} from '../../../src/storage/codec.js';
import { FsObjectStore, type ObjectStore } from '../../../src/storage/objectStore.js';
import { MemoryObjectStore } from '../../../src/storage/memoryObjectStore.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { MvmError } from '../../../src/errors.js';
import { GROUP_KIND_CODES } from '../../../src/storage/bytegroup.js';

/** Deterministic xorshift32 stream. */
function rng(seed = 0x9e3779b9): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function randomBytes(n: number, seed = 1): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r() & 0xff;
  return out;
}

/** Normal(0, sigma) floats via Box-Muller. */
function normals(n: number, sigma: number, seed = 7): Float32Array {
  const r = rng(seed);
  const u = () => (r() + 1) / 4294967297;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const a = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = a * Math.cos(t) * sigma;
    if (i + 1 < n) out[i + 1] = a * Math.sin(t) * sigma;
  }
  return out;
}

/** bf16 little-endian bytes: the upper half of each f32. */
function bf16Bytes(values: Float32Array): Buffer {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < u32.length; i++) out.writeUInt16LE(u32[i]! >>> 16, i * 2);
  return out;
}

function f32Bytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

const TEXT = Buffer.from(
  Array.from({ length: 400 }, (_, i) => `line ${i % 17}: the quick brown fox jumps over the lazy dog\n`).join(''),
);

/** Calls fn and returns the MvmError it throws; fails the test if it returns or throws anything else. */
function corruptError(fn: () => unknown): MvmError {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(MvmError);
  const err = thrown as MvmError;
  expect(err.code).toBe('OBJECT_CORRUPT');
  return err;
}

describe('encodeObject / decodeObject round trip', () => {
  it('stores raw at level 0, even for compressible input', () => {
    const enc = encodeObject(TEXT, { level: 0 });
    expect(enc.encoding).toBe(Encoding.raw);
    expect(enc.bytes.length).toBe(HEADER_SIZE + TEXT.length);
    expect(encodingOf(enc.bytes)).toBe(Encoding.raw);
    expect(decodeObject(enc.bytes, 'x').equals(TEXT)).toBe(true);
  });

  it('stores tiny inputs raw whatever the level', () => {
    for (const n of [0, 1, 5, 63]) {
      const content = Buffer.alloc(n, 0x61);
      const enc = encodeObject(content, { level: 3 });
      expect(enc.encoding, `length ${n}`).toBe(Encoding.raw);
      expect(enc.bytes.length).toBe(HEADER_SIZE + n);
      expect(decodeObject(enc.bytes, 'x').equals(content)).toBe(true);
    }
  });

  it('writes the documented header: magic, version, encoding, param, u32 length', () => {
    const enc = encodeObject(TEXT, { level: 3 });
    expect(enc.bytes[0]).toBe(0x4d);
    expect(enc.bytes[1]).toBe(1);
    expect(enc.bytes[2]).toBe(enc.encoding);
    expect(enc.bytes.readUInt32LE(4)).toBe(TEXT.length);
  });

  it('compresses text with zstd and decodes it back', () => {
    const enc = encodeObject(TEXT, { level: 3 });
    expect(enc.encoding).toBe(Encoding.zstd);
    expect(enc.bytes.length).toBeLessThan(TEXT.length / 4);
    expect(decodeObject(enc.bytes, 'x').equals(TEXT)).toBe(true);
  });

  it('keeps random bytes raw (no encoding beats them)', () => {
    const data = randomBytes(100_000);
    for (const group of [null, 'bf16', 'f32'] as const) {
      const enc = encodeObject(data, { level: 3, group });
      expect(enc.encoding, `group ${group}`).toBe(Encoding.raw);
      expect(enc.bytes.length).toBe(HEADER_SIZE + data.length);
      expect(decodeObject(enc.bytes, 'x').equals(data)).toBe(true);
    }
  });

  it('byte planes beat plain zstd on bf16 N(0, 0.02) weights and round-trip', () => {
    const data = bf16Bytes(normals(65536, 0.02));
    const planes = encodeObject(data, { level: 3, group: 'bf16' });
    const plain = encodeObject(data, { level: 3 });
    expect(planes.encoding).toBe(Encoding.planes);
    expect(planes.bytes[3]).toBe(GROUP_KIND_CODES.bf16);
    expect(planes.bytes.length).toBeLessThan(plain.bytes.length);
    expect(planes.bytes.length).toBeLessThan(data.length * 0.85);
    expect(decodeObject(planes.bytes, 'x').equals(data)).toBe(true);
    expect(decodeObject(plain.bytes, 'x').equals(data)).toBe(true);
  });

  it('round-trips f32 weights through planes with group f32', () => {
    const data = f32Bytes(normals(32768, 0.02, 11));
    const enc = encodeObject(data, { level: 3, group: 'f32' });
    expect(enc.encoding).toBe(Encoding.planes);
    expect(enc.bytes[3]).toBe(GROUP_KIND_CODES.f32);
    expect(enc.bytes.length).toBeLessThan(data.length);
    expect(decodeObject(enc.bytes, 'x').equals(data)).toBe(true);
  });

  it('round-trips planes when the length is not a multiple of the element width', () => {
    const bf = bf16Bytes(normals(5001, 0.02, 3));
    const f = f32Bytes(normals(5001, 0.02, 5));
    const cases: [Buffer, 'bf16' | 'f32'][] = [
      [bf.subarray(0, bf.length - 1), 'bf16'], // 10001 bytes, 1-byte tail
      [f.subarray(0, f.length - 1), 'f32'], // 3-byte tail
      [f.subarray(0, f.length - 2), 'f32'], // 2-byte tail
      [f.subarray(0, f.length - 3), 'f32'], // 1-byte tail
      [f.subarray(0, 4 * 1001 + 2), 'f32'], // plane count not a multiple of 4
    ];
    for (const [data, group] of cases) {
      const copy = Buffer.from(data);
      const enc = encodeObject(copy, { level: 3, group });
      expect(enc.encoding, `${group} ${data.length}`).toBe(Encoding.planes);
      const dec = decodeObject(enc.bytes, 'x');
      expect(dec.length).toBe(copy.length);
      expect(dec.equals(copy), `${group} ${data.length}`).toBe(true);
      // the input itself is not modified by encoding
      expect(copy.equals(data)).toBe(true);
    }
  });

  it('round-trips planes decoded with reuse=true', () => {
    const data = bf16Bytes(normals(4096, 0.02, 9));
    const enc = encodeObject(data, { level: 3, group: 'bf16' });
    expect(enc.encoding).toBe(Encoding.planes);
    expect(decodeObject(enc.bytes, 'x', { scratch: true }).equals(data)).toBe(true);
  });

  it('round-trips data that grouping does not fit (text with group bf16) and still beats raw', () => {
    const enc = encodeObject(TEXT, { level: 3, group: 'bf16' });
    expect([Encoding.zstd, Encoding.planes]).toContain(enc.encoding);
    expect(enc.bytes.length).toBeLessThan(TEXT.length / 4);
    expect(decodeObject(enc.bytes, 'x').equals(TEXT)).toBe(true);
  });

  it('without reuse returns independent buffers: no overlap, never overwritten by a later call', () => {
    // small results may share an ArrayBuffer from Node's pool: what is promised is the bytes themselves
    const overlap = (x: Uint8Array, y: Uint8Array) =>
      x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.length && y.byteOffset < x.byteOffset + x.length;
    const inputs = [TEXT, randomBytes(5000), Buffer.alloc(300, 7), randomBytes(40, 9)];
    for (const level of [0, 3]) {
      const encoded = inputs.map((c) => encodeObject(c, { level }).bytes);
      const kept = encoded.map((b) => Buffer.from(b));
      const decoded = encoded.map((b) => decodeObject(b, 'x'));
      const decodedKept = decoded.map((b) => Buffer.from(b));
      // later calls of every kind, with and without reuse
      for (const c of inputs)
        decodeObject(encodeObject(Buffer.from(c).reverse(), { level, scratch: true }).bytes, 'y', { scratch: true });
      for (const c of inputs) decodeObject(encodeObject(Buffer.from(c).fill(1), { level }).bytes, 'y');
      encoded.forEach((b, i) => expect(b.equals(kept[i]!)).toBe(true));
      decoded.forEach((b, i) => expect(b.equals(decodedKept[i]!)).toBe(true));
      decoded.forEach((b, i) => expect(b.equals(inputs[i]!)).toBe(true));
      const all = [...encoded, ...decoded.filter((d, i) => !overlap(d, encoded[i]!))];
      for (let i = 0; i < all.length; i++)
        for (let j = i + 1; j < all.length; j++) expect(overlap(all[i]!, all[j]!)).toBe(false);
    }
  });

  it('with scratch: true returns a view that the next call overwrites', () => {
    const first = encodeObject(TEXT, { level: 0, scratch: true });
    const kept = Buffer.from(first.bytes);
    expect(decodeObject(kept, 'x').equals(TEXT)).toBe(true);
    const other = Buffer.alloc(TEXT.length, 0x7a);
    const second = encodeObject(other, { level: 0, scratch: true });
    expect(second.bytes.buffer).toBe(first.bytes.buffer);
    // the first result now shows the second call's bytes: callers must copy
    expect(first.bytes.equals(kept)).toBe(false);
    expect(first.bytes.subarray(HEADER_SIZE).equals(other)).toBe(true);
    // the copy taken before the second call is intact
    expect(decodeObject(kept, 'x').equals(TEXT)).toBe(true);
  });

  it('decode with scratch: true may be overwritten by the next decode', () => {
    const a = encodeObject(TEXT, { level: 3 });
    const otherText = Buffer.from(TEXT.toString().toUpperCase());
    const b = encodeObject(otherText, { level: 3 });
    expect(a.encoding).toBe(Encoding.zstd);
    expect(b.encoding).toBe(Encoding.zstd);
    const da = decodeObject(a.bytes, 'a', { scratch: true });
    expect(da.equals(TEXT)).toBe(true);
    const db = decodeObject(b.bytes, 'b', { scratch: true });
    expect(db.equals(otherText)).toBe(true);
    expect(da.equals(TEXT)).toBe(false);
  });

  it("each Codec owns its scratch: a second codec does not overwrite the first one's views", () => {
    const one = new Codec();
    const two = new Codec();
    const a = one.encode(TEXT, { level: 0, scratch: true });
    const b = two.encode(Buffer.alloc(TEXT.length, 0x7a), { level: 0, scratch: true });
    expect(a.bytes.buffer).not.toBe(b.bytes.buffer);
    expect(one.decode(a.bytes, 'x').equals(TEXT)).toBe(true);
    expect(threadCodec()).toBe(threadCodec());
  });
});

describe('decodeObject on corrupt input', () => {
  const zstdObj = () => Buffer.from(encodeObject(TEXT, { level: 3 }).bytes);
  const rawObj = () => Buffer.from(encodeObject(TEXT, { level: 0 }).bytes);
  const planesObj = () => {
    const data = bf16Bytes(normals(8192, 0.02, 21));
    const enc = encodeObject(data, { level: 3, group: 'bf16' });
    expect(enc.encoding).toBe(Encoding.planes);
    return { data, bytes: Buffer.from(enc.bytes) };
  };

  it('rejects a bad magic byte', () => {
    for (const make of [zstdObj, rawObj]) {
      const b = make();
      b[0] = 0x00;
      corruptError(() => decodeObject(b, 'id'));
    }
  });

  it('rejects an unknown format version', () => {
    const b = zstdObj();
    b[1] = 2;
    corruptError(() => decodeObject(b, 'id'));
  });

  it('rejects input shorter than the header', () => {
    corruptError(() => decodeObject(Buffer.alloc(0), 'id'));
    corruptError(() => decodeObject(zstdObj().subarray(0, HEADER_SIZE - 1), 'id'));
  });

  it('rejects an unknown encoding byte', () => {
    for (const code of [3, 7, 255]) {
      const b = zstdObj();
      b[2] = code;
      corruptError(() => decodeObject(b, 'id'));
    }
  });

  it('rejects an unknown byte-grouping code in a planes object', () => {
    const { bytes } = planesObj();
    bytes[3] = 0;
    corruptError(() => decodeObject(bytes, 'id'));
    bytes[3] = 99;
    corruptError(() => decodeObject(bytes, 'id'));
  });

  it('rejects a truncated payload in every encoding', () => {
    const z = zstdObj();
    corruptError(() => decodeObject(z.subarray(0, z.length - 1), 'id'));
    corruptError(() => decodeObject(z.subarray(0, HEADER_SIZE + 3), 'id'));
    corruptError(() => decodeObject(z.subarray(0, HEADER_SIZE), 'id'));
    const r = rawObj();
    corruptError(() => decodeObject(r.subarray(0, r.length - 1), 'id'));
    const { bytes: p } = planesObj();
    for (const cut of [1, 5, 100, p.length - HEADER_SIZE - 1])
      corruptError(() => decodeObject(p.subarray(0, p.length - cut), 'id'));
  });

  it('rejects trailing bytes after the payload', () => {
    const r = rawObj();
    corruptError(() => decodeObject(Buffer.concat([r, Buffer.from([0])]), 'id'));
    const { bytes: p } = planesObj();
    corruptError(() => decodeObject(Buffer.concat([p, Buffer.from([1, 2, 3])]), 'id'));
  });

  it('rejects a wrong length field', () => {
    for (const make of [zstdObj, rawObj]) {
      for (const delta of [-1, 1, 1000]) {
        const b = make();
        b.writeUInt32LE(TEXT.length + delta, 4);
        corruptError(() => decodeObject(b, 'id'));
      }
    }
    const { data, bytes } = planesObj();
    for (const delta of [-2, -1, 1, 2]) {
      const b = Buffer.from(bytes);
      b.writeUInt32LE(data.length + delta, 4);
      corruptError(() => decodeObject(b, 'id'));
    }
  });

  it('rejects a zstd object whose length field was zeroed (payload present, size 0)', () => {
    const b = zstdObj();
    b.writeUInt32LE(0, 4);
    corruptError(() => decodeObject(b, 'id'));
  });

  it('rejects a flipped byte in the zstd frame header', () => {
    const b = zstdObj();
    b[HEADER_SIZE] ^= 0xff; // zstd magic number
    corruptError(() => decodeObject(b, 'id'));
  });

  it(
    'a flipped bit anywhere in a zstd frame throws OBJECT_CORRUPT or decodes to bytes the hash check can judge ' +
      '(never a foreign error)',
    () => {
      const orig = zstdObj();
      let threw = 0;
      for (let pos = HEADER_SIZE; pos < orig.length; pos++) {
        for (const mask of [0x01, 0x10, 0x80]) {
          const b = Buffer.from(orig);
          b[pos] ^= mask;
          let out: Buffer | null = null;
          try {
            out = decodeObject(b, 'id');
          } catch (e) {
            expect(e, `position ${pos}`).toBeInstanceOf(MvmError);
            expect((e as MvmError).code).toBe('OBJECT_CORRUPT');
            threw++;
            continue;
          }
          // decodeObject checks structure only. Some bits are ignored by zstd (e.g. the
          // frame header's unused bit), so decoding to the original is fine; anything
          // else must differ in hash, which FsObjectStore.get / loadChunk verify.
          if (!out.equals(TEXT)) expect(blake3Hex(out)).not.toBe(blake3Hex(TEXT));
        }
      }
      expect(threw).toBeGreaterThan(0);
    },
  );

  it('a flipped byte in a planes payload either throws OBJECT_CORRUPT or changes the hash', () => {
    const { data, bytes } = planesObj();
    const step = Math.max(1, Math.floor((bytes.length - HEADER_SIZE) / 300));
    let threw = 0;
    for (let pos = HEADER_SIZE; pos < bytes.length; pos += step) {
      const b = Buffer.from(bytes);
      b[pos] ^= 0x01;
      let out: Buffer | null = null;
      try {
        out = decodeObject(b, 'id');
      } catch (e) {
        expect(e, `position ${pos}`).toBeInstanceOf(MvmError);
        expect((e as MvmError).code).toBe('OBJECT_CORRUPT');
        threw++;
        continue;
      }
      expect(out.equals(data), `position ${pos}`).toBe(false);
    }
    expect(threw).toBeGreaterThan(0);
  });

  it('rejects a planes object whose raw plane length is wrong or whose plane method is unknown', () => {
    const { bytes } = planesObj();
    const b = Buffer.from(bytes);
    b[HEADER_SIZE] = 9; // method byte of the first plane
    corruptError(() => decodeObject(b, 'id'));
  });

  it('carries the id in the error data', () => {
    const b = zstdObj();
    b[0] = 0;
    const err = corruptError(() => decodeObject(b, 'abc123'));
    expect(err.data.id).toBe('abc123');
  });
});

describe('hash verification in FsObjectStore.get', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  function store(level: number): FsObjectStore {
    dir = mkdtempSync(join(tmpdir(), 'mvm-codec-'));
    mkdirSync(join(dir, 'objects'));
    mkdirSync(join(dir, 'tmp'));
    return new FsObjectStore(join(dir, 'objects'), join(dir, 'tmp'), { level, fsync: false });
  }

  function flip(path: string, pos: number, mask = 0x01): void {
    chmodSync(path, 0o644);
    const b = readFileSync(path);
    b[pos] ^= mask;
    writeFileSync(path, b);
  }

  it('catches a flipped byte in a RAW object as OBJECT_CORRUPT', () => {
    const s = store(0);
    const id = s.put(TEXT);
    expect(s.encoding(id)).toBe(Encoding.raw);
    // decodeObject alone would return the wrong bytes...
    flip(s.path(id), HEADER_SIZE + 100);
    const stored = readFileSync(s.path(id));
    expect(decodeObject(stored, id).equals(TEXT)).toBe(false);
    // ...but the store verifies the hash
    corruptError(() => s.get(id));
  });

  it('get of a zstd object with any flipped bit returns the exact original content or throws OBJECT_CORRUPT', () => {
    const s = store(3);
    everyFlipCaught(s, (id, bytes) => {
      chmodSync(s.path(id), 0o644);
      writeFileSync(s.path(id), bytes);
    });
  });

  it('catches a zeroed length field as OBJECT_CORRUPT', () => {
    const s = store(3);
    const id = s.put(TEXT);
    chmodSync(s.path(id), 0o644);
    const b = readFileSync(s.path(id));
    b.writeUInt32LE(0, 4);
    writeFileSync(s.path(id), b);
    corruptError(() => s.get(id));
  });
});

describe('hash verification in MemoryObjectStore.get', () => {
  it('get of a zstd object with any flipped bit returns the exact original content or throws OBJECT_CORRUPT', () => {
    const objects = new Map<string, Buffer>();
    everyFlipCaught(new MemoryObjectStore({ level: 3, objects }), (id, bytes) => objects.set(id, bytes));
  });
});

/**
 * Stores TEXT as zstd, then flips each bit 0 and 5 of every stored byte in
 * turn (`write` puts the damaged bytes in place): get returns the exact
 * original or throws OBJECT_CORRUPT, and almost every flip is caught.
 */
function everyFlipCaught(s: ObjectStore, write: (id: string, stored: Buffer) => void): void {
  const id = s.put(TEXT);
  const original = s.readStored(id);
  expect(encodingOf(original)).toBe(Encoding.zstd);
  const size = original.length;
  let threw = 0;
  for (let pos = 0; pos < size; pos++) {
    for (const mask of [0x01, 0x20]) {
      const b = Buffer.from(original);
      b[pos]! ^= mask;
      write(id, b);
      let got: Buffer | null = null;
      try {
        got = s.get(id);
      } catch (e) {
        expect(e, `position ${pos}`).toBeInstanceOf(MvmError);
        expect((e as MvmError).code, `position ${pos}`).toBe('OBJECT_CORRUPT');
        threw++;
        continue;
      }
      expect(got.equals(TEXT), `position ${pos} mask ${mask} returned wrong bytes`).toBe(true);
    }
  }
  // almost every flip must be detected
  expect(threw).toBeGreaterThan(size * 2 - 8);
}
