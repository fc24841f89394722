import { join } from 'node:path';
import { prng } from './data.js';
import { allStored } from './storedObjects.js';
import { writeSafetensors } from './formats/safetensors.js';

/** N(0, 0.02) weights as f32 values. */
export function weights(n: number, seed: number): Float32Array {
  const r = prng(seed);
  return Float32Array.from(
    { length: n },
    () => 0.02 * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()),
  );
}

/** w += N(0, (rel * 0.02)^2), as a fine-tune step moves weights. */
export function tune(w: Float32Array, rel: number, seed: number): Float32Array {
  const r = prng(seed);
  return w.map((x) => x + rel * 0.02 * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

/** f32 values rounded to bf16, as little-endian bytes. */
export function bf16(w: Float32Array): Buffer {
  const u = new Uint32Array(w.buffer.slice(0));
  const out = Buffer.alloc(w.length * 2);
  for (let i = 0; i < w.length; i++)
    out.writeUInt16LE(((u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
  return out;
}

/** A bf16 safetensors file of the given tensors, named `layers.<i>.weight`. */
export function bf16Model(ws: Float32Array[]): Buffer {
  return writeSafetensors(
    ws.map((w, i) => ({ name: `layers.${i}.weight`, dtype: 'BF16', shape: [w.length], data: bf16(w) })),
  );
}

/**
 * A model of ten bf16 tensors of 256 KiB (one chunk each) and its 10%
 * fine-tune: one tensor in ten moved by 10% of its spread. `changedBytes`:
 * the bytes the fine-tune changed; `deltaChunks`: the chunks a commit of it
 * stores as deltas.
 */
export function deltaModel(seed: number): { v1: Buffer; v2: Buffer; changedBytes: number; deltaChunks: number } {
  const n = 128 * 1024;
  const ws = Array.from({ length: 10 }, (_, i) => weights(n, seed * 100 + i));
  const tuned = ws.map((w, i) => (i === 3 ? tune(w, 0.1, seed * 100 + 50) : w));
  return { v1: bf16Model(ws), v2: bf16Model(tuned), changedBytes: n * 2, deltaChunks: 1 };
}

/** Every object a store holds: how many are deltas and how many whole, and the deepest delta. */
export function storedEncodings(dir: string): { delta: number; whole: number; maxDepth: number } {
  const out = { delta: 0, whole: 0, maxDepth: 0 };
  for (const b of allStored(join(dir, '.mvm/objects')).values()) {
    if (b[2] === 3) {
      out.delta++;
      out.maxDepth = Math.max(out.maxDepth, b[8 + 32]!);
    } else out.whole++;
  }
  return out;
}
