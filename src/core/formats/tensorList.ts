/**
 * Collects the tensors a parser finds without holding an object per tensor
 * once a file has very many: past MAX_LISTED_TENSORS, tensors smaller than
 * PACK_BELOW keep only their range and dtype (in typed arrays) and end up in
 * packed runs instead of the tensor list. A file of a million tiny tensors
 * then costs a few dozen bytes per tensor, and its chunks are cut per run,
 * not per tensor.
 */
import type { Layout, PackedRun, TensorInfo } from './types.js';
import { MAX_LISTED_TENSORS } from '../limits.js';

/** Past MAX_LISTED_TENSORS, tensors smaller than this (bytes) are packed into runs. */
export const PACK_BELOW = 64 * 1024;

/** Limits of a TensorList (tests lower them). */
export interface PackingLimits {
  maxListed?: number;
  packBelow?: number;
}

export class TensorList {
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  private dtypes = new Uint16Array(1024);
  private readonly dtypeNames: string[] = [];
  private readonly dtypeIndex = new Map<string, number>();
  /** The full record of each tensor that stays listed; undefined for packed ones. */
  private readonly listed: (TensorInfo | undefined)[] = [];
  private readonly maxListed: number;
  private readonly packBelow: number;
  count = 0;

  constructor(limits: PackingLimits = {}) {
    this.maxListed = limits.maxListed ?? MAX_LISTED_TENSORS;
    this.packBelow = limits.packBelow ?? PACK_BELOW;
  }

  /** Adds one tensor; false when it has too many distinct dtypes to pack (not a model file). */
  add(t: TensorInfo): boolean {
    const n = this.count;
    if (n === this.starts.length) this.grow();
    let d = this.dtypeIndex.get(t.dtype);
    if (d === undefined) {
      if (this.dtypeNames.length === 0xffff) return false;
      d = this.dtypeNames.length;
      this.dtypeNames.push(t.dtype);
      this.dtypeIndex.set(t.dtype, d);
    }
    this.starts[n] = t.start;
    this.ends[n] = t.end;
    this.dtypes[n] = d;
    this.listed.push(n < this.maxListed || t.end - t.start >= this.packBelow ? t : undefined);
    this.count = n + 1;
    // the count just went past the limit: the small tensors listed so far let go of their records
    if (this.count === this.maxListed + 1) {
      for (let i = 0; i < this.count; i++)
        if (this.ends[i]! - this.starts[i]! < this.packBelow) this.listed[i] = undefined;
    }
    return true;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const copy = <T extends Float64Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.starts = copy(this.starts, (k) => new Float64Array(k));
    this.ends = copy(this.ends, (k) => new Float64Array(k));
    this.dtypes = copy(this.dtypes, (k) => new Uint16Array(k));
  }

  /**
   * The layout: every tensor listed (in the order added) while there are at
   * most MAX_LISTED_TENSORS; otherwise the large ones listed and the small ones
   * packed into runs, both sorted by offset. Null when packed tensors overlap.
   */
  layout(format: Layout['format']): Layout | null {
    if (this.count <= this.maxListed) return { format, tensors: this.listed as TensorInfo[] };
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const { starts, ends } = this;
    order.sort((a, b) => starts[a]! - starts[b]! || ends[a]! - ends[b]!);
    const tensors: TensorInfo[] = [];
    const packed: PackedRun[] = [];
    let run: PackedRun | null = null;
    let prevEnd = 0;
    for (const i of order) {
      const start = starts[i]!;
      const end = ends[i]!;
      if (start < prevEnd) return null;
      prevEnd = end;
      const t = this.listed[i];
      if (t) {
        tensors.push(t);
        run = null;
        continue;
      }
      const dtype = this.dtypeNames[this.dtypes[i]!]!;
      if (run) {
        run.end = end;
        run.count++;
        if (run.dtype !== dtype) run.dtype = null;
      } else {
        run = { start, end, dtype, count: 1 };
        packed.push(run);
      }
    }
    return { format, tensors, packed };
  }
}
