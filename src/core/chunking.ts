import type { PackedRun, TensorInfo } from './formats/types.js';

/** Default chunk size: 1 MiB. Tests shrink it through `mvm init --chunk-size`. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** One planned chunk: a byte range of the file, and the tensor it belongs to if any. */
export interface ChunkSpan {
  start: number;
  end: number;
  /** Index into the layout's tensor list, or -1 for header, padding, packed runs and plain data. */
  tensor: number;
  /** Index into the layout's packed runs, for a chunk of one. */
  run?: number;
}

/**
 * Cuts a byte range into fixed-size spans starting at `start`. Invariant:
 * spans are contiguous, non-empty, and only the last may be short.
 */
function fixed(start: number, end: number, chunkSize: number, tensor: number, out: ChunkSpan[], run?: number): void {
  for (let s = start; s < end; s += chunkSize)
    out.push(
      run === undefined
        ? { start: s, end: Math.min(end, s + chunkSize), tensor }
        : { start: s, end: Math.min(end, s + chunkSize), tensor, run },
    );
}

/**
 * Plans how a file of `size` bytes is cut. Without tensors: fixed-size chunks
 * from offset 0. With tensors (sorted, non-overlapping, within the file):
 * everything before, between and after tensors is cut on its own, and fixed
 * chunking restarts at every tensor's first byte, so an unchanged tensor makes
 * the same chunks wherever it sits in the file. Zero-size tensors own no chunk.
 * Packed runs of small tensors (sorted, not overlapping the tensors) are cut
 * like tensors, each run as one.
 */
export function planChunks(
  size: number,
  chunkSize: number,
  tensors: readonly TensorInfo[] = [],
  packed: readonly PackedRun[] = [],
): ChunkSpan[] {
  const out: ChunkSpan[] = [];
  let pos = 0;
  let r = 0;
  const region = (start: number, end: number, tensor: number, run?: number) => {
    if (start > pos) fixed(pos, start, chunkSize, -1, out);
    fixed(start, end, chunkSize, tensor, out, run);
    pos = Math.max(pos, end);
  };
  tensors.forEach((t, i) => {
    for (; r < packed.length && packed[r]!.start < t.start; r++) region(packed[r]!.start, packed[r]!.end, -1, r);
    region(t.start, t.end, i);
  });
  for (; r < packed.length; r++) region(packed[r]!.start, packed[r]!.end, -1, r);
  if (pos < size) fixed(pos, size, chunkSize, -1, out);
  return out;
}
