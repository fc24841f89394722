/**
 * Shared buffers that downloaded ranges reach the worker threads in, reused
 * from range to range. A range handed over by transfer instead becomes
 * garbage in a worker that allocates little and so rarely collects: peak
 * memory then grew with the download (about 90 MB more for a 1 GiB clone).
 * With slots it stays at about jobs x MAX_RANGE.
 */
export class RangeSlots {
  private readonly free: SharedArrayBuffer[] = [];

  /** `size`: the usual range, the least a new slot holds. */
  constructor(private readonly size: number) {}

  take(length: number): SharedArrayBuffer {
    const i = this.free.findIndex((b) => b.byteLength >= length);
    return i >= 0 ? this.free.splice(i, 1)[0]! : new SharedArrayBuffer(Math.max(length, this.size));
  }

  give(slot: SharedArrayBuffer): void {
    this.free.push(slot);
  }
}
