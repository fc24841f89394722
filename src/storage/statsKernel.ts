import type { BlockKernel, BlockSums } from '../core/tensorStats.js';
import { wasmKernels, type Kernels } from './kernels.js';

/** Reads the kernel's results at `out` into the block sums; false when a difference was NaN. */
function takeSums(buffer: ArrayBuffer, out: number, s: BlockSums): boolean {
  const o = new Float64Array(buffer, out, 7);
  if (o[6] !== 0) return false;
  s.aa = o[0]!;
  s.bb = o[1]!;
  s.ab = o[2]!;
  s.dd = o[3]!;
  s.max = o[4]!;
  s.changed = o[5]!;
  return true;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * The bf16 statistics loop of core/tensorStats.ts in WebAssembly SIMD
 * (stats_bf16 in kernels.wat), on chunk pairs compared where the codec
 * decodes them: in the memory of this thread's byte-plane kernels
 * (kernels.ts). The first side is kept beside the codec's arena, the second
 * is compared where its decode left it, so a pair costs one copy (copying
 * both sides into a memory of the kernel's own took three). The kernel
 * folds a block into the sums as accumulateLut does and declines (the JS
 * loop then redoes the block exactly) when the block's length is not a
 * multiple of 8 or some difference is NaN. `create` gives null where
 * WebAssembly SIMD is missing or MVM_KERNELS=js.
 */
export class Bf16Pairs {
  private keptAt = 0;
  private outAt = 0;
  private size = 0;

  private constructor(private readonly k: Kernels) {}

  static create(): Bf16Pairs | null {
    const k = wasmKernels();
    return k ? new Bf16Pairs(k) : null;
  }

  /**
   * Makes room for a pair of `size`-byte chunks before either is decoded:
   * the codec's arena (input and output), then the kept first side, then the
   * kernel's results; growing the memory now means no decode grows it later.
   */
  reserve(size: number): void {
    this.size = size;
    this.keptAt = align16(align16(size) + size);
    this.outAt = align16(this.keptAt + size);
    const need = this.outAt + 64;
    const have = this.k.memory.buffer.byteLength;
    if (need > have) this.k.memory.grow(Math.ceil((need - have) / 65536));
  }

  /** Keeps the first side's content where the next decode leaves it alone. */
  keepFirst(content: Uint8Array): void {
    new Uint8Array(this.k.memory.buffer, this.keptAt, this.size).set(content);
  }

  /**
   * Both sides as views of the memory: the kept first side, and `second`
   * where it lies, or copied into the arena's input area when it was decoded
   * elsewhere (a delta, a plain zstd or raw object), which no view needs now.
   */
  views(second: Uint8Array): [Uint8Array, Uint8Array] {
    const buffer = this.k.memory.buffer;
    const x = new Uint8Array(buffer, this.keptAt, this.size);
    if (second.buffer === buffer) return [x, second];
    const y = new Uint8Array(buffer, 0, this.size);
    y.set(second);
    return [x, y];
  }

  /** The block kernel for windows of the views: false (the JS loop runs) for anything else. */
  readonly kernel: BlockKernel = (x, y, n, s) => {
    const buffer = this.k.memory.buffer;
    if (n % 8 !== 0 || x.buffer !== buffer || y.buffer !== buffer) return false;
    new Float64Array(buffer, this.outAt, 7)[4] = s.max;
    this.k.stats_bf16(x.byteOffset, y.byteOffset, n, this.outAt);
    return takeSums(buffer, this.outAt, s);
  };
}
