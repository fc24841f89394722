/**
 * The WebAssembly SIMD byte-plane kernels against the JS kernels: the same
 * bytes for every width, kind, length and alignment, in both directions, on
 * the copying path and on the in-memory path the codec uses; the committed
 * module is what kernels.wat compiles to.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { groupBytes, ungroupBytes, type GroupKind } from '../../../src/storage/bytegroup.js';
import { decodeObject, Encoding, encodeObject } from '../../../src/storage/codec.js';
import { kernelArena, kernelName, wasmKernels } from '../../../src/storage/kernels.js';
// @ts-expect-error: a plain .mjs script without types
import { compileKernels, kernelsModule } from '../../../scripts/build-kernels.mjs';

/**
 * `len` bytes of trained-weight-like floats of `kind` (small values with noisy mantissas): byte planes store
 * them smaller than plain zstd does, so the codec keeps planes and the plane kernels are what decodes them.
 */
function weights(len: number, kind: GroupKind): Buffer {
  const out = Buffer.alloc(len);
  let x = 12345;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  const f = new Float32Array(1);
  const u = new Uint8Array(f.buffer);
  const w = kind === 'bf16' || kind === 'f16' ? 2 : kind === 'f32' ? 4 : kind === 'w2' ? 2 : 4;
  for (let i = 0; i + w <= len; i += w) {
    f[0] = (next() + next() + next() - 1.5) * 0.05;
    // bf16 keeps the float's top two bytes; the other kinds take its low bytes first, little-endian
    if (kind === 'bf16') out.set(u.subarray(2, 4), i);
    else out.set(u.subarray(4 - w, 4), i);
  }
  return out;
}

const RUNS = Math.max(50, Number(process.env.MVM_FUZZ_RUNS ?? 300));
const KINDS: GroupKind[] = ['bf16', 'f16', 'f32', 'w2', 'w4'];

describe('WebAssembly kernels', () => {
  it('load on this Node and are what kernels.wat compiles to', async () => {
    expect(kernelName()).toBe('wasm-simd');
    const bytes: Buffer = await compileKernels();
    expect(readFileSync(new URL('../../../src/storage/kernelsWasm.ts', import.meta.url), 'utf8')).toBe(
      kernelsModule(bytes),
    );
  });

  it('group and ungroup exactly as the JS kernels do, at any length and alignment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        fc.integer({ min: 0, max: 6000 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (kind, len, misalign, seed) => {
          let x = seed;
          const backing = Buffer.alloc(len + misalign);
          for (let i = 0; i < backing.length; i++) backing[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
          const input = backing.subarray(misalign);
          const js = groupBytes(input, kind, undefined, true);
          const wasm = groupBytes(input, kind);
          expect(wasm.equals(js)).toBe(true);
          const back = ungroupBytes(wasm, kind);
          expect(back.equals(ungroupBytes(js, kind, undefined, true))).toBe(true);
          expect(back.equals(input)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('transform in place in their own memory, as the codec decodes', () => {
    const k = wasmKernels()!;
    for (const kind of KINDS) {
      for (const len of [4096, 4097, 65_536 + 6, 1 << 20]) {
        const input = Buffer.alloc(len);
        for (let i = 0; i < len; i++) input[i] = (i * 2654435761) >>> 23;
        const grouped = groupBytes(input, kind, undefined, true);
        const a = kernelArena(k, len);
        a.input.set(grouped);
        ungroupBytes(a.input, kind, a.output);
        expect(Buffer.compare(a.output, input)).toBe(0);
      }
    }
  });

  it('decode byte-planed objects bit for bit, reused or not, across memory growth', () => {
    for (const [kind, len] of [
      ['bf16', 3 << 20],
      ['f32', 100_003],
      ['w2', 70_000],
      ['f32', 5 << 20],
    ] as const) {
      const content = weights(len, kind);
      const enc = encodeObject(content, { level: 3, group: kind });
      expect(enc.encoding).toBe(Encoding.planes);
      expect(decodeObject(enc.bytes, 'x').equals(content)).toBe(true);
      expect(decodeObject(enc.bytes, 'x', { scratch: true }).equals(content)).toBe(true);
    }
  });
});

describe('WebAssembly kernels and their memory', () => {
  it('re-encoding a result that lives in their memory is still exact', () => {
    const content = weights(300_000, 'bf16');
    const enc = encodeObject(content, { level: 3, group: 'bf16' });
    expect(enc.encoding).toBe(Encoding.planes);
    const decoded = decodeObject(enc.bytes, 'x', { scratch: true });
    // `decoded` is a view of the kernels' memory: encoding it must not write over it
    // (compared as a boolean: a failing toBe on two memories of many MiB takes minutes to print)
    expect(decoded.buffer === wasmKernels()!.memory.buffer).toBe(true);
    const again = encodeObject(decoded, { level: 3, group: 'bf16' });
    expect(decodeObject(again.bytes, 'y').equals(content)).toBe(true);
  });
});
