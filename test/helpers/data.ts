/** Deterministic data generators for test fixtures. */

// shared with the benchmarks, which are plain JavaScript
import { prng } from '../../scripts/lib/prng.mjs';

export { prng };

/** `n` deterministic pseudo-random bytes. */
export function seededBytes(n: number, seed = 1): Buffer {
  const rnd = prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

/** `count` bf16 values drawn from N(0, std²), deterministic in `seed`, as little-endian bytes. */
export function randomBf16(count: number, std = 0.02, seed = 1): Buffer {
  const rnd = prng(seed);
  const out = Buffer.alloc(count * 2);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < count; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rnd()));
    f[0] = std * r * Math.cos(2 * Math.PI * rnd());
    const bits = u[0]!;
    out.writeUInt16LE(((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
  }
  return out;
}

/** Tensor names of a small two-layer transformer (embedding, attention and MLP per layer, head). */
export const TRANSFORMER_TENSORS = [
  'embed.weight',
  'layers.0.attn.weight',
  'layers.0.mlp.weight',
  'layers.1.attn.weight',
  'layers.1.mlp.weight',
  'head.weight',
];
