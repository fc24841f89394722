import { describe, it, expect } from 'vitest';
import { detectLayout, validateLayout } from '../../../../src/core/formats/detect.js';
import type { ByteSource } from '../../../../src/core/formats/types.js';
import {
  GGML,
  prng,
  seededBytes,
  writeGguf,
  writeOnnx,
  writeSafetensors,
  writeTorchZip,
} from '../../../helpers/modelWriters.js';
import { detect } from './layoutChecks.js';

describe('detectLayout', () => {
  it('returns null for empty, tiny and random files', async () => {
    expect(await detect(Buffer.alloc(0))).toBeNull();
    for (let n = 1; n < 40; n++) expect(await detect(seededBytes(n, n))).toBeNull();
    expect(await detect(Buffer.alloc(4096))).toBeNull();
    expect(await detect(Buffer.alloc(4096, 0xff))).toBeNull();
    const rnd = prng(99);
    for (let i = 0; i < 300; i++) {
      const buf = seededBytes(Math.floor(rnd() * 5000), 1000 + i);
      expect(await detect(buf)).toBeNull();
    }
  });

  it('returns null for random bytes behind each format magic', async () => {
    for (let i = 0; i < 100; i++) {
      const body = seededBytes(200 + i * 13, 5000 + i);
      const st = Buffer.from(body);
      st.writeBigUInt64LE(BigInt(i * 7), 0);
      st[8] = 0x7b;
      for (const buf of [
        Buffer.concat([Buffer.from('GGUF'), body]),
        Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), body]),
        st,
      ]) {
        expect(await detect(buf)).toBeNull();
      }
    }
  });

  it('never throws when the byte source misbehaves', async () => {
    const file = writeTorchZip([{ key: '0', data: seededBytes(16) }]);
    const failing: ByteSource = {
      size: file.length,
      read: async () => {
        throw new Error('EIO');
      },
    };
    const short: ByteSource = { size: file.length + 100, read: async (o, n) => file.subarray(o, o + n) };
    const syncThrow: ByteSource = {
      size: 100,
      read: () => {
        throw new Error('sync');
      },
    };
    const badSize = { size: Number.NaN, read: async () => Buffer.alloc(0) } as ByteSource;
    const notBuffer = { size: 64, read: async () => 'nope' } as unknown as ByteSource;
    for (const src of [failing, short, syncThrow, badSize, notBuffer])
      await expect(detectLayout(src)).resolves.toBeNull();
  });

  it('detects by content, not by any name', async () => {
    const formats = await Promise.all([
      detect(writeSafetensors([{ name: 'w', dtype: 'F32', shape: [4] }])),
      detect(writeGguf({ tensors: [{ name: 'w', type: GGML.F32, dims: [4] }] })),
      detect(writeTorchZip([{ key: '0', data: seededBytes(16) }])),
      detect(writeOnnx([{ name: 'w', dataType: 1, dims: [4], raw: seededBytes(16) }])),
    ]);
    expect(formats.map((l) => l?.format)).toEqual(['safetensors', 'gguf', 'pytorch', 'onnx']);
  });
});

describe('validateLayout', () => {
  const t = (start: number, end: number) => ({ name: `${start}`, dtype: 'u8', shape: [end - start], start, end });
  it('sorts by start and accepts zero-size tensors at boundaries', () => {
    const v = validateLayout({ format: 'safetensors', tensors: [t(10, 20), t(10, 10), t(0, 10), t(20, 20)] }, 20);
    expect(v?.tensors.map((x) => [x.start, x.end])).toEqual([
      [0, 10],
      [10, 10],
      [10, 20],
      [20, 20],
    ]);
  });
  it('rejects overlaps, out-of-range and inverted ranges', () => {
    expect(validateLayout({ format: 'gguf', tensors: [t(0, 10), t(5, 15)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(0, 30)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(5, 4)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(-1, 4)] }, 20)).toBeNull();
    expect(validateLayout({ format: 'gguf', tensors: [t(0.5, 4)] }, 20)).toBeNull();
  });
});
