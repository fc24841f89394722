/** Fine-tune deltas: the element difference and its inverse, and the delta encoding in the codec. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyDiff, applyJs, deltaWidth, diffJs, elementDiff, MAX_DELTA_DEPTH } from '../../../src/storage/delta.js';
import { ownKernels } from '../../../src/storage/kernelInstance.js';
import { decodeObject, deltaOf, encodeDelta, encodeObject } from '../../../src/storage/codec.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { codeOf } from '../../helpers/errors.js';
import { prng } from '../../helpers/modelWriters.js';

const RUNS = Math.max(50, Number(process.env.MVM_FUZZ_RUNS ?? 300));

/** bf16 weights N(0, 0.02) and the same with a relative change `rel` of every value. */
function finetune(count: number, rel: number, seed: number): [Buffer, Buffer] {
  const r = prng(seed);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const a = Buffer.alloc(count * 2);
  const b = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const x = 0.02 * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    f[0] = x;
    a.writeUInt16LE((u[0]! + 0x8000) >>> 16, i * 2);
    f[0] = x + rel * 0.02 * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    b.writeUInt16LE((u[0]! + 0x8000) >>> 16, i * 2);
  }
  return [a, b];
}

describe('element differences', () => {
  it('apply exactly inverts diff for widths 2 and 4, any bytes, length and alignment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2 as const, 4 as const),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1 }),
        (w, bytes, shift, seed) => {
          const r = prng(seed);
          const a = Buffer.alloc(bytes.length + shift).subarray(shift);
          a.set(bytes);
          const b = Buffer.from(a.map((x) => (r() < 0.3 ? Math.floor(r() * 256) : x)));
          const diff = Buffer.alloc(b.length + shift).subarray(shift);
          elementDiff(a, b, w, diff);
          const back = Buffer.alloc(b.length);
          applyDiff(a, diff, w, back);
          expect(back.equals(b)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('maps small steps either way to small numbers (zigzag)', () => {
    const a = Buffer.from(new Uint16Array([100, 100, 0, 65535]).buffer);
    const b = Buffer.from(new Uint16Array([101, 99, 65535, 0]).buffer);
    const d = Buffer.alloc(8);
    elementDiff(a, b, 2, d);
    expect([...new Uint16Array(d.buffer, d.byteOffset, 4)]).toEqual([2, 1, 1, 2]);
    expect(deltaWidth('bf16')).toBe(2);
    expect(deltaWidth('f32')).toBe(4);
    expect(deltaWidth('f64')).toBeNull();
  });
});

describe('delta objects', () => {
  it('encode a fine-tuned chunk smaller than whole and decode it bit for bit through its base', () => {
    const [a, b] = finetune(1 << 18, 0.1, 3);
    const baseId = blake3Hex(a);
    const whole = encodeObject(b, { level: 3, group: 'bf16' });
    const delta = encodeDelta(b, a, baseId, 1, 'bf16')!;
    expect(delta.bytes.length).toBeLessThan(whole.bytes.length * 0.85);
    expect(deltaOf(delta.bytes)).toEqual({ base: baseId, depth: 1 });
    expect(deltaOf(whole.bytes)).toBeNull();
    const loads: string[] = [];
    const out = decodeObject(delta.bytes, blake3Hex(b), { loadBase: (id) => (loads.push(id), a) });
    expect(out.equals(b)).toBe(true);
    expect(loads).toEqual([baseId]);
  });

  it('are refused without their base, past the depth bound, or against a base of another length', () => {
    const [a, b] = finetune(4096, 0.01, 4);
    const id = blake3Hex(b);
    const delta = encodeDelta(b, a, blake3Hex(a), 1, 'bf16')!;
    expect(codeOf(() => decodeObject(delta.bytes, id))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => decodeObject(delta.bytes, id, { loadBase: () => a.subarray(2) }))).toBe('OBJECT_CORRUPT');
    expect(encodeDelta(b, a, blake3Hex(a), MAX_DELTA_DEPTH + 1, 'bf16')).toBeNull();
    expect(encodeDelta(b, a, blake3Hex(a), 1, 'f64')).toBeNull();
    // a store whose objects are each other's base (only damage could do it) stops instead of recursing forever
    const loop = (): Buffer => decodeObject(delta.bytes, id, { loadBase: loop });
    expect(codeOf(loop)).toBe('OBJECT_CORRUPT');
  });
});

describe('delta kernels in WebAssembly', () => {
  it('load on this Node', () => {
    expect(ownKernels()).not.toBeNull();
  });

  it('diff and apply give the bytes of the JS loops, at any length and offset, and apply undoes diff', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2 as const, 4 as const),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer(),
        (w, count, skew, seed) => {
          const r = prng(seed);
          const len = count * w + (seed & 1 ? 0 : (seed >>> 1) % w);
          const mk = () => {
            const b = Buffer.alloc(len + skew).subarray(skew);
            for (let i = 0; i < len; i++) b[i] = r() * 256;
            return b;
          };
          const a = mk();
          const b = mk();
          const n = Math.floor(len / w);
          const diff = Buffer.alloc(len);
          elementDiff(a, b, w, diff);
          const want = Buffer.alloc(len);
          diffJs(a, b, w, want, n);
          expect(diff.subarray(0, n * w).equals(want.subarray(0, n * w))).toBe(true);
          const back = Buffer.alloc(len);
          applyDiff(a, diff, w, back);
          expect(back.equals(b)).toBe(true);
          const backJs = Buffer.alloc(len);
          applyJs(a, diff, w, backJs, n);
          expect(backJs.subarray(0, n * w).equals(b.subarray(0, n * w))).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
