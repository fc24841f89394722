import { describe, it, expect } from 'vitest';
import {
  Codec,
  encodeObject,
  decodeObject,
  encodingOf,
  Encoding,
  HEADER_SIZE,
  threadCodec,
} from '../../../../src/storage/codec.js';
import { GROUP_KIND_CODES } from '../../../../src/storage/bytegroup.js';
import { TEXT, bf16Bytes, f32Bytes, normals, randomBytes } from './fixtures.js';

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
