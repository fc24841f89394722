/** Byte sources for parser tests, and the invariants every layout a parser returns must satisfy. */
import { expect } from 'vitest';
import type { ByteSource, Layout } from '../../../src/core/formats/types.js';

/** Re-export of the core Buffer-backed ByteSource, for tests. */
export { bufferSource } from '../../../src/core/formats/types.js';

/** A ByteSource of `size` bytes produced by `fill` on demand (for huge virtual files), counting bytes read. */
export function virtualSource(
  size: number,
  fill: (offset: number, length: number) => Buffer,
): ByteSource & { bytesRead: number } {
  const src = {
    size,
    bytesRead: 0,
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.max(0, Math.min(length, size - offset));
      src.bytesRead += n;
      return fill(offset, n);
    },
  };
  return src;
}

/**
 * Asserts the invariants every layout a parser returns must satisfy: integer, sorted, non-overlapping ranges within the
 * file.
 */
export function expectWellFormed(layout: Layout, size: number): void {
  let prevEnd = 0;
  for (const t of layout.tensors) {
    expect(Number.isSafeInteger(t.start) && Number.isSafeInteger(t.end)).toBe(true);
    expect(t.start).toBeGreaterThanOrEqual(prevEnd);
    expect(t.end).toBeGreaterThanOrEqual(t.start);
    expect(t.end).toBeLessThanOrEqual(size);
    prevEnd = t.end;
  }
}
