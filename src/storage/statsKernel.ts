import type { BlockKernel } from '../core/tensorStats.js';
import { kernelMemory, ownKernels } from './kernelInstance.js';

let kernel: BlockKernel | null | undefined;

/**
 * This thread's bf16 statistics kernel, or null where WebAssembly SIMD is
 * missing or MVM_KERNELS=js: it folds n bf16 pairs into the block sums in
 * WebAssembly SIMD, as accumulateLut does in JS, and returns false (sums
 * untouched) when it cannot: n not a multiple of 8, or a NaN difference
 * somewhere (the JS loop then redoes the block exactly). It has its own
 * instance (and memory), apart from the byte-plane kernels, whose memory may
 * hold the chunks it reads.
 */
export function bf16StatsKernel(): BlockKernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  const k = ownKernels();
  if (!k) return kernel;
  kernel = (x, y, n, s) => {
    if (n % 8 !== 0) return false;
    const bytes = n * 2;
    const out = 2 * bytes;
    const mem = kernelMemory(k, out + 56);
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
