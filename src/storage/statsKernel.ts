import { KERNELS_WASM } from './kernelsWasm.js';

// Node has WebAssembly; the TypeScript libraries this project compiles against (no DOM) do not declare it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

interface StatsExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  stats_bf16(x: number, y: number, n: number, out: number): void;
}

/** The sums a block kernel writes (core/tensorStats.ts BlockSums): `max` is read as the running maximum. */
export interface BlockSumsOut {
  aa: number;
  bb: number;
  ab: number;
  dd: number;
  max: number;
  changed: number;
}

/**
 * Folds n bf16 pairs into `s` in WebAssembly SIMD, as accumulateLut does in
 * JS; false (and `s` untouched) when it cannot: n not a multiple of 8, or a
 * NaN difference somewhere (the JS loop then redoes the block exactly).
 */
export type Bf16StatsKernel = (x: Uint16Array, y: Uint16Array, n: number, s: BlockSumsOut) => boolean;

let kernel: Bf16StatsKernel | null | undefined;

/**
 * This thread's bf16 statistics kernel, or null where WebAssembly SIMD is
 * missing or MVM_KERNELS=js. It has its own instance (and memory), apart
 * from the byte-plane kernels, whose memory may hold the chunks it reads.
 */
export function bf16StatsKernel(): Bf16StatsKernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (process.env.MVM_KERNELS === 'js') return kernel;
  let k: StatsExports;
  try {
    k = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(KERNELS_WASM, 'base64'))).exports as StatsExports;
  } catch {
    return kernel;
  }
  kernel = (x, y, n, s) => {
    if (n % 8 !== 0) return false;
    const bytes = n * 2;
    const out = 2 * bytes;
    const need = out + 56;
    if (k.memory.buffer.byteLength < need) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
    const mem = new Uint8Array(k.memory.buffer);
    mem.set(new Uint8Array(x.buffer, x.byteOffset, bytes), 0);
    mem.set(new Uint8Array(y.buffer, y.byteOffset, bytes), bytes);
    const o = new Float64Array(k.memory.buffer, out, 7);
    o[4] = s.max;
    k.stats_bf16(0, bytes, n, out);
    if (o[6] !== 0) return false;
    s.aa = o[0]!;
    s.bb = o[1]!;
    s.ab = o[2]!;
    s.dd = o[3]!;
    s.max = o[4]!;
    s.changed = o[5]!;
    return true;
  };
  return kernel;
}
