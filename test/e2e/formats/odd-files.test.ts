/**
 * Malformed and disguised model files: plain fallback, stored and restored bit for bit; models are recognised by
 * content, never by name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  GGML,
  safetensorsFromHeader,
  seededBytes,
  writeGguf,
  writeOnnx,
  writeSafetensors,
  writeTorchZip,
} from '../../helpers/modelWriters.js';
import { ok, json } from '../../helpers/assertions.js';
import { CHUNK, bf16, chunksOf, cleanups, f32, flipMiddle, repo } from '../../helpers/modelRepo.js';

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A diff's change record for an f32 tensor of `n` values whose values changed, spread over `chunks` chunks. */
function f32ValuesChange(name: string, n: number, chunks: number) {
  const sizes = { shape: [[n], [n]], chunksChanged: chunks, chunksTotal: chunks, bytes: 4 * n };
  return { name, status: 'values', dtype: ['f32', 'f32'], ...sizes };
}

describe('odd files: plain fallback, recognition by content', () => {
  const valid3 = () =>
    writeSafetensors([
      { name: 'model.layers.0.w', dtype: 'F32', shape: [1000], data: f32(1000, 61) },
      { name: 'model.layers.1.w', dtype: 'BF16', shape: [3000], data: bf16(3000, 62) },
      { name: 'model.layers.2.w', dtype: 'F32', shape: [1500], data: f32(1500, 63) },
    ]);

  /** Files that must NOT be recognised as models. */
  function plainFixtures(): Record<string, Buffer> {
    const hdrTooBig = valid3();
    hdrTooBig.writeBigUInt64LE(BigInt(hdrTooBig.length + 100), 0);

    const oob = safetensorsFromHeader(
      { 'model.w': { dtype: 'F32', shape: [4096], data_offsets: [0, 16384] } },
      f32(2048, 64),
    );
    const overlap = safetensorsFromHeader(
      {
        'model.a': { dtype: 'F32', shape: [2048], data_offsets: [0, 8192] },
        'model.b': { dtype: 'F32', shape: [2048], data_offsets: [4096, 12288] },
      },
      f32(3072, 65),
    );
    const notJson = safetensorsFromHeader(
      '{"model.w": {"dtype": "F32", "shape": [2048], "data_offsets": [0, 8192]',
      f32(2048, 66),
    );
    const sizeMismatch = safetensorsFromHeader(
      { 'model.w': { dtype: 'F32', shape: [1000], data_offsets: [0, 8192] } },
      f32(2048, 67),
    );
    const v = valid3();
    const truncatedSt = v.subarray(0, Math.floor(v.length * 0.6));
    const g = writeGguf({
      metadata: { 'general.architecture': 'llama' },
      tensors: [
        { name: 'a', type: GGML.F32, dims: [2048], data: f32(2048, 68) },
        { name: 'b', type: GGML.BF16, dims: [4096], data: bf16(4096, 69) },
      ],
    });
    const truncatedGguf = g.subarray(0, Math.floor(g.length * 0.6));
    const o = writeOnnx([
      { name: 'a', dataType: 1, dims: [2048], raw: f32(2048, 70) },
      { name: 'b', dataType: 16, dims: [4096], raw: bf16(4096, 71) },
    ]);
    const truncatedOnnx = o.subarray(0, Math.floor(o.length * 0.6));
    const deflated = writeTorchZip(
      [
        { key: '0', data: f32(2048, 72) },
        { key: '1', data: bf16(4096, 73) },
      ],
      { compress: true },
    );

    const random = (seed: number) => {
      const b = seededBytes(20000, seed);
      // deterministic fixtures: make sure no magic matches by chance
      expect(b[8]).not.toBe(0x7b);
      expect(b.toString('latin1', 0, 4)).not.toBe('GGUF');
      expect(b.readUInt32LE(0)).not.toBe(0x04034b50);
      return b;
    };
    return {
      'models/hdr-too-big.safetensors': hdrTooBig,
      'models/offsets-out-of-range.safetensors': oob,
      'models/overlap.safetensors': overlap,
      'models/not-json.safetensors': notJson,
      'models/size-mismatch.safetensors': sizeMismatch,
      'models/truncated.safetensors': Buffer.from(truncatedSt),
      'models/truncated.gguf': Buffer.from(truncatedGguf),
      'models/truncated.onnx': Buffer.from(truncatedOnnx),
      'models/deflated.pt': deflated,
      'models/random/model.safetensors': random(81),
      'models/random/model.gguf': random(82),
      'models/random/model.onnx': random(83),
      'models/random/model.pt': random(84),
    };
  }

  it(
    'malformed and disguised files are plain files, stored and restored bit for bit; models are found by ' + 'content',
    () => {
      const plain = plainFixtures();
      // a valid safetensors file with an unhelpful name, and one with zero-size tensors
      const weightsBin = (w: Buffer) =>
        writeSafetensors([
          { name: 'model.layers.0.w', dtype: 'F32', shape: [1000], data: f32(1000, 91) },
          { name: 'model.layers.1.w', dtype: 'F32', shape: [1000], data: w },
        ]);
      const zeroSize = (w: Buffer) =>
        writeSafetensors([
          { name: 'model.layers.0.empty', dtype: 'F32', shape: [0, 64], data: Buffer.alloc(0) },
          { name: 'model.layers.0.w', dtype: 'F32', shape: [32, 64], data: f32(32 * 64, 93) },
          { name: 'model.layers.1.empty', dtype: 'BF16', shape: [0], data: Buffer.alloc(0) },
          { name: 'model.layers.1.w', dtype: 'F32', shape: [1024], data: w },
          { name: 'model.layers.2.empty', dtype: 'F16', shape: [4, 0], data: Buffer.alloc(0) },
        ]);
      // a valid file whose header lists the tensors in another order than their data
      const unordered = (w: Buffer) =>
        safetensorsFromHeader(
          {
            'model.layers.2.w': { dtype: 'F32', shape: [1500], data_offsets: [10000, 16000] },
            'model.layers.0.w': { dtype: 'BF16', shape: [5000], data_offsets: [0, 10000] },
          },
          Buffer.concat([bf16(5000, 95), w]),
        );
      const v1: Record<string, Buffer> = {
        ...plain,
        'models/weights.bin': weightsBin(f32(1000, 92)),
        'models/zero-size.safetensors': zeroSize(f32(1024, 94)),
        'models/unordered.safetensors': unordered(f32(1500, 96)),
      };
      const v2: Record<string, Buffer> = {
        'models/weights.bin': weightsBin(f32(1000, 920)),
        'models/zero-size.safetensors': zeroSize(f32(1024, 940)),
        'models/unordered.safetensors': unordered(f32(1500, 960)),
      };
      for (const [p, b] of Object.entries(plain)) v2[p] = flipMiddle(b);

      const r = repo(v1);
      const c1 = r.commit('v1');
      expect(c1.files).toBe(Object.keys(v1).length);
      for (const [p, b] of Object.entries(v2)) r.write(p, b);
      const c2 = r.commit('v2');
      expect(c2.changes).toHaveLength(Object.keys(v1).length);

      const d = r.diff('v1', 'v2');
      const byPath = new Map<string, any>(d.files.map((f: { path: string }) => [f.path, f]));
      for (const [p, b] of Object.entries(plain)) {
        const f = byPath.get(p);
        expect(f.status, p).toBe('modified');
        expect(f.tensors, `${p} must not be recognised as a model`).toBeUndefined();
        // plain fixed-size cutting from offset 0; the flipped byte is in one chunk only
        expect({ path: p, total: f.chunksTotal, changed: f.chunksChanged }).toEqual({
          path: p,
          total: chunksOf(b.length),
          changed: 1,
        });
      }

      // on disk: neither side's file object has a layout, and its chunks are cut from offset 0
      const objectsOf = { v1: r.fileObjects('v1'), v2: r.fileObjects('v2') };
      for (const [p, b] of Object.entries(plain)) {
        for (const rev of ['v1', 'v2'] as const) {
          const fo = objectsOf[rev](p);
          expect(fo.layout, `${p} ${rev}`).toBeUndefined();
          expect(fo.size).toBe(b.length);
          expect(fo.chunks.map((c: [string, number]) => c[1])).toEqual(
            Array.from({ length: chunksOf(b.length) }, (_, i) => Math.min(CHUNK, b.length - i * CHUNK)),
          );
        }
      }
      for (const rev of ['v1', 'v2'] as const) {
        expect(objectsOf[rev]('models/weights.bin').layout.format).toBe('safetensors');
        const zl = objectsOf[rev]('models/zero-size.safetensors').layout;
        expect(zl.format).toBe('safetensors');
        // zero-size tensors own an empty chunk range
        for (const t of zl.tensors)
          expect(t.chunkEnd - t.chunkStart, t.name).toBe(
            t.name.endsWith('.empty') ? 0 : t.end - t.start === 8192 ? 2 : 1,
          );
      }

      const wb = byPath.get('models/weights.bin');
      expect(wb.tensors?.format).toBe('safetensors');
      expect(wb.tensors.changes).toEqual([f32ValuesChange('model.layers.1.w', 1000, 1)]);
      expect(wb.tensors.unchanged).toBe(1);

      const z = byPath.get('models/zero-size.safetensors');
      expect(z.tensors?.format).toBe('safetensors');
      expect(z.tensors.changes).toEqual([f32ValuesChange('model.layers.1.w', 1024, 1)]);
      expect(z.tensors.unchanged).toBe(4);
      expect(z.tensors.layers).toEqual([{ layer: 'model.layers.1.*', changed: 1, total: 2 }]);

      const u = byPath.get('models/unordered.safetensors');
      expect(u.tensors?.format).toBe('safetensors');
      expect(u.tensors.changes).toEqual([f32ValuesChange('model.layers.2.w', 1500, 2)]);
      expect(u.tensors.unchanged).toBe(1);

      ok(r.run(['checkout', 'v1']));
      for (const [p, b] of Object.entries(v1)) expect(r.read(p).equals(b), p).toBe(true);
      ok(r.run(['checkout', 'main']));
      for (const [p, b] of Object.entries(v2)) expect(r.read(p).equals(b), p).toBe(true);
      expect(json(r.run(['fsck', '--json'])).ok).toBe(true);
    },
  );
});
