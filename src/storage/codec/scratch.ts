import { zstdBinding, type ZstdCCtx } from '../zstd.js';
import { releaseKernels } from '../kernels.js';
import { releaseDeltaKernels } from '../delta.js';

/**
 * The scratch buffers a Codec reuses from call to call: `group`, `out`,
 * `enc`, `plain`, `diff`, `delta` for coding, `read` for an object's stored
 * bytes and `input` for a chunk read from a file (see objectFile.ts and
 * chunkTasks.ts).
 */
export type ScratchName = 'group' | 'out' | 'enc' | 'plain' | 'diff' | 'delta' | 'read' | 'input';

/**
 * Scratch buffers larger than this are let go after a task (Codec.trim):
 * chunks up to 64 MiB keep theirs from chunk to chunk, while one oversized
 * (or hostile) chunk does not pin its memory in every thread it passed through.
 */
export const SCRATCH_KEEP = 64 << 20;

/**
 * A float's exponent plane is a few bits of entropy per byte with few long
 * repeats: level 1 with the smallest hash table (64 entries) and long
 * minimum matches leaves it to zstd's Huffman stage. On bf16 weights that
 * measured faster and smaller than level 3 (~690 vs ~170 MB/s on the plane,
 * 32.5% vs 37.2% of it), and than a 1,024-entry table (~340 MB/s, 33.2%):
 * the few short matches a larger table finds only cut the literals into
 * sequences, which cost time to find and to decode. Whole chunks with this
 * table, against 1,024 entries: bf16 encode 905 vs 540 MiB/s, decode ~2,350
 * vs ~1,600-1,900 MiB/s, no kind of plane larger (f32, f16, sparse f32,
 * rounded f32, int64, bf16 fine-tune deltas).
 */
function planeContext(): ZstdCCtx {
  const ctx = new (zstdBinding().CCtx)();
  const P = zstdBinding().CParameter;
  ctx.setParameter(P.compressionLevel!, 1);
  ctx.setParameter(P.minMatch!, 7);
  ctx.setParameter(P.hashLog!, 6);
  return ctx;
}

/**
 * The memory and zstd contexts of one Codec, made on first use: fresh 1 MiB
 * allocations cost page faults that measured as much as the compression
 * itself, so buffers are kept and only grow (until trim).
 */
export class CodecMemory {
  private readonly buffers: Record<ScratchName, Buffer> = {
    group: Buffer.alloc(0),
    out: Buffer.alloc(0),
    enc: Buffer.alloc(0),
    plain: Buffer.alloc(0),
    diff: Buffer.alloc(0),
    delta: Buffer.alloc(0),
    read: Buffer.alloc(0),
    input: Buffer.alloc(0),
  };
  /** Per nesting depth, the difference and the base of the delta being decoded there. */
  private readonly depths: { diff: Buffer; base: Buffer }[] = [];
  private cctx: ZstdCCtx | null = null;
  private planeCctx: ZstdCCtx | null = null;
  /** The sample and output buffers of a grouping guess (small and fixed: never trimmed). */
  guess = { grouped: Buffer.alloc(0), out: Buffer.alloc(0) };
  /** Deltas being decoded right now: a chain longer than MAX_DELTA_DEPTH (or a cycle in a damaged store) stops. */
  deltaNesting = 0;

  /** Scratch buffer `which`, grown to hold at least `n` bytes (the whole buffer, not cut to `n`). */
  of(n: number, which: ScratchName): Buffer {
    if (this.buffers[which].length < n) this.buffers[which] = Buffer.alloc(Math.max(n, 1 << 20));
    return this.buffers[which];
  }

  /** `n` bytes of the difference or base buffer of delta nesting depth `depth`. */
  atDepth(depth: number, which: 'diff' | 'base', n: number): Buffer {
    const s = (this.depths[depth] ??= { diff: Buffer.alloc(0), base: Buffer.alloc(0) });
    if (s[which].length < n) s[which] = Buffer.alloc(Math.max(n, 1 << 20));
    return s[which].subarray(0, n);
  }

  /** The zstd context for whole objects (the level is given per call). */
  context(): ZstdCCtx {
    this.cctx ??= new (zstdBinding().CCtx)();
    return this.cctx;
  }

  /** The zstd context for byte planes (see planeContext). */
  planeContext(): ZstdCCtx {
    this.planeCctx ??= planeContext();
    return this.planeCctx;
  }

  /** Lets go of the scratch buffers (and this thread's kernels' memory) that grew past `keep` bytes. */
  trim(keep: number): void {
    for (const k of Object.keys(this.buffers) as ScratchName[])
      if (this.buffers[k].length > keep) this.buffers[k] = Buffer.alloc(0);
    for (const s of this.depths) {
      if (s && s.diff.length > keep) s.diff = Buffer.alloc(0);
      if (s && s.base.length > keep) s.base = Buffer.alloc(0);
    }
    releaseKernels(2 * keep);
    releaseDeltaKernels(3 * keep);
  }

  /** The bytes of the coding buffers (not `read` or `input`), for the tests that hold trim to its word. */
  bytes(): number {
    return (
      Object.entries(this.buffers).reduce((n, [k, b]) => n + (k === 'read' || k === 'input' ? 0 : b.length), 0) +
      this.depths.reduce((n, s) => n + (s ? s.diff.length + s.base.length : 0), 0)
    );
  }
}
