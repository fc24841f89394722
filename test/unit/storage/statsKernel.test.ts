/**
 * The WebAssembly bf16 statistics kernel against the JS loop it stands in
 * for: the same element and change counts and the same largest difference,
 * sums equal to rounding, and the JS loop's exact rules wherever a NaN
 * appears.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TensorDiffAccumulator } from '../../../src/core/tensorStats.js';
import { Bf16Pairs } from '../../../src/storage/statsKernel.js';
import { decodeObject, encodeObject } from '../../../src/storage/codec.js';

const SPECIALS = [0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1, 0x0001, 0x8001, 0x7f7f, 0xff7f, 0x3f80];

/**
 * The JS loop and the kernel on the same pair, in the order a worker goes:
 * room for the pair, the first side kept, then the second side from
 * `second` (a decode, run after the room is made) or b itself.
 */
function both(a: Buffer, b: Buffer, second: () => Uint8Array = () => b) {
  const js = new TensorDiffAccumulator('BF16');
  js.update(a, b);
  const p = Bf16Pairs.create()!;
  const wasm = new TensorDiffAccumulator('BF16', p.kernel);
  p.reserve(a.length);
  p.keepFirst(a);
  const got = second();
  const [x, y] = p.views(got);
  expect([x.buffer === y.buffer, x.length, y.length]).toEqual([true, a.length, a.length]);
  wasm.update(x, y);
  return { js: js.partial(), wasm: wasm.partial(), inPlace: y === got };
}

const close = (x: number, y: number, scale = 0) =>
  x === y || (Number.isNaN(x) && Number.isNaN(y))
    ? true
    : Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y), scale);

/**
 * The kernel adds in lanes, the JS loop in order: sums of squares agree to
 * rounding, but a·b can cancel (x·y + (-x·y) + tiny), where the two orders
 * may keep or lose the tiny term. Its error is bounded relative to Σ|a·b|,
 * itself at most sqrt(Σa² Σb²).
 */
function expectSums(wasm: Record<'aa' | 'bb' | 'ab' | 'dd', number>, js: Record<'aa' | 'bb' | 'ab' | 'dd', number>) {
  for (const k of ['aa', 'bb', 'dd'] as const) expect(close(wasm[k], js[k]), `${k}: ${wasm[k]} vs ${js[k]}`).toBe(true);
  expect(close(wasm.ab, js.ab, Math.sqrt(js.aa * js.bb)), `ab: ${wasm.ab} vs ${js.ab}`).toBe(true);
}

describe('bf16 statistics kernel', () => {
  it('loads on this Node', () => {
    expect(Bf16Pairs.create()).not.toBeNull();
  });

  it('gives the sums of the JS loop for any bf16 pairs, specials included, at any length', () => {
    const element = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
      { weight: 1, arbitrary: fc.constantFrom(...SPECIALS) },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(element, fc.boolean(), element), { minLength: 0, maxLength: 300 }), (pairs) => {
        // whole steps of 8 pairs, the lengths the kernel takes (others run the JS loop)
        pairs = pairs.slice(0, pairs.length & ~7);
        const a = Buffer.alloc(pairs.length * 2);
        const b = Buffer.alloc(pairs.length * 2);
        pairs.forEach(([x, same, y], i) => {
          a.writeUInt16LE(x, 2 * i);
          b.writeUInt16LE(same ? x : y, 2 * i);
        });
        const { js, wasm } = both(a, b);
        expect(wasm.elements).toBe(js.elements);
        expect(wasm.changed).toBe(js.changed);
        expect(wasm.max).toBe(js.max);
        expectSums(wasm, js);
      }),
      // a·b cancelling to a subnormal product: the orders of the two sums differ there
      {
        numRuns: 2000,
        examples: [
          [
            [
              [0, false, 0],
              [0, false, 0],
              [0x7f7f, false, 0xff7f],
              [0, false, 0],
              [0xff7f, true, 0],
              [0, false, 0],
              [0, false, 0],
              [1, false, 1],
            ],
          ],
        ],
      },
    );
  });

  it('matches on a whole chunk of trained-like weights, in several blocks, compared where the codec decoded it', () => {
    const n = 300_000;
    const a = Buffer.alloc(2 * n);
    const b = Buffer.alloc(2 * n);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < n; i++) {
      f[0] = (rnd() - 0.5) * 0.04;
      a.writeUInt16LE(u[0]! >>> 16, 2 * i);
      f[0] += rnd() < 0.5 ? 0 : (rnd() - 0.5) * 0.002;
      b.writeUInt16LE(u[0]! >>> 16, 2 * i);
    }
    // the second side as the codec leaves it: decoded from byte planes into the kernels' memory, compared there
    const stored = encodeObject(b, { level: 3, group: 'bf16' }).bytes;
    const { js, wasm, inPlace } = both(a, b, () => decodeObject(stored, 'x', { scratch: true }));
    expect(inPlace).toBe(true);
    expect(wasm.changed).toBe(js.changed);
    expect(js.changed).toBeGreaterThan(n / 4);
    expect(wasm.max).toBe(js.max);
    expectSums(wasm, js);
  });
});
