import { describe, it, expect } from 'vitest';
import { planChunks, DEFAULT_CHUNK_SIZE, type ChunkSpan } from '../../../src/core/chunking.js';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../../src/core/limits.js';
import type { TensorInfo } from '../../../src/core/formats/types.js';

function tensor(name: string, start: number, end: number): TensorInfo {
  return { name, dtype: 'F32', shape: [(end - start) / 4], start, end };
}

/** Checks the invariants every plan must hold: contiguous, non-empty, covering [0, size). */
function expectCovers(spans: ChunkSpan[], size: number): void {
  let pos = 0;
  for (const s of spans) {
    expect(s.start).toBe(pos);
    expect(s.end).toBeGreaterThan(s.start);
    pos = s.end;
  }
  expect(pos).toBe(size);
}

describe('chunk size constants', () => {
  it('has a 1 MiB default within the allowed range', () => {
    expect(DEFAULT_CHUNK_SIZE).toBe(1 << 20);
    expect(MIN_CHUNK_SIZE).toBeLessThanOrEqual(DEFAULT_CHUNK_SIZE);
    expect(MAX_CHUNK_SIZE).toBeGreaterThanOrEqual(DEFAULT_CHUNK_SIZE);
  });
});

describe('planChunks without tensors', () => {
  it('plans nothing for an empty file', () => {
    expect(planChunks(0, 64)).toEqual([]);
    expect(planChunks(0, 64, [])).toEqual([]);
  });

  it('cuts an exact multiple into equal chunks', () => {
    const spans = planChunks(256, 64);
    expect(spans).toEqual([
      { start: 0, end: 64, tensor: -1 },
      { start: 64, end: 128, tensor: -1 },
      { start: 128, end: 192, tensor: -1 },
      { start: 192, end: 256, tensor: -1 },
    ]);
  });

  it('leaves only the last chunk short', () => {
    const spans = planChunks(1000, 300);
    expect(spans.map((s) => s.end - s.start)).toEqual([300, 300, 300, 100]);
    expectCovers(spans, 1000);
  });

  it('makes one short chunk for a file smaller than the chunk size', () => {
    expect(planChunks(10, 64)).toEqual([{ start: 0, end: 10, tensor: -1 }]);
  });

  it('holds the invariants for many sizes', () => {
    for (const size of [1, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097, 10_000]) {
      for (const cs of [64, 100, 4096]) {
        const spans = planChunks(size, cs);
        expectCovers(spans, size);
        expect(spans.length).toBe(Math.ceil(size / cs));
        spans.slice(0, -1).forEach((s) => expect(s.end - s.start).toBe(cs));
        spans.forEach((s) => expect(s.tensor).toBe(-1));
      }
    }
  });
});

describe('planChunks with tensors', () => {
  it('gives the header, gaps and trailer their own chunks and restarts at each tensor', () => {
    // header [0,100), t0 [100,300), gap [300,310), t1 [310,400), trailer [400,450)
    const spans = planChunks(450, 64, [tensor('a', 100, 300), tensor('b', 310, 400)]);
    expectCovers(spans, 450);
    expect(spans).toEqual([
      { start: 0, end: 64, tensor: -1 },
      { start: 64, end: 100, tensor: -1 },
      { start: 100, end: 164, tensor: 0 },
      { start: 164, end: 228, tensor: 0 },
      { start: 228, end: 292, tensor: 0 },
      { start: 292, end: 300, tensor: 0 },
      { start: 300, end: 310, tensor: -1 },
      { start: 310, end: 374, tensor: 1 },
      { start: 374, end: 400, tensor: 1 },
      { start: 400, end: 450, tensor: -1 },
    ]);
  });

  it('never lets a chunk straddle a tensor boundary', () => {
    const tensors = [tensor('a', 8, 200), tensor('b', 200, 204), tensor('c', 204, 1000)];
    const spans = planChunks(1001, 128, tensors);
    expectCovers(spans, 1001);
    for (const s of spans) {
      if (s.tensor >= 0) {
        const t = tensors[s.tensor]!;
        expect(s.start).toBeGreaterThanOrEqual(t.start);
        expect(s.end).toBeLessThanOrEqual(t.end);
      } else {
        for (const t of tensors) expect(s.end <= t.start || s.start >= t.end).toBe(true);
      }
    }
    // each tensor starts a chunk
    for (const t of tensors) expect(spans.some((s) => s.start === t.start)).toBe(true);
  });

  it('gives adjacent tensors no gap chunk', () => {
    const spans = planChunks(128, 64, [tensor('a', 0, 40), tensor('b', 40, 128)]);
    expect(spans).toEqual([
      { start: 0, end: 40, tensor: 0 },
      { start: 40, end: 104, tensor: 1 },
      { start: 104, end: 128, tensor: 1 },
    ]);
  });

  it('gives zero-size tensors no chunk, and does not split the surrounding data because of them', () => {
    const tensors = [tensor('a', 0, 64), tensor('empty', 64, 64), tensor('b', 64, 128)];
    const spans = planChunks(128, 64, tensors);
    expect(spans).toEqual([
      { start: 0, end: 64, tensor: 0 },
      { start: 64, end: 128, tensor: 2 },
    ]);
    expect(spans.some((s) => s.tensor === 1)).toBe(false);
  });

  it('handles a file whose only tensor is empty', () => {
    const spans = planChunks(50, 64, [tensor('empty', 10, 10)]);
    expectCovers(spans, 50);
    expect(spans.every((s) => s.tensor === -1)).toBe(true);
  });

  it('shift invariance: the same tensor at two offsets yields identical chunk spans relative to its start', () => {
    const cs = 64;
    const len = 64 * 5 + 17;
    const relSpans = (headerLen: number) => {
      const t = tensor('w', headerLen, headerLen + len);
      const spans = planChunks(headerLen + len + 9, cs, [t]);
      expectCovers(spans, headerLen + len + 9);
      return spans.filter((s) => s.tensor === 0).map((s) => [s.start - t.start, s.end - t.start]);
    };
    const a = relSpans(8);
    const b = relSpans(8 + 37);
    const c = relSpans(1000);
    expect(a).toEqual(b);
    expect(a).toEqual(c);
    expect(a.length).toBe(6);
    expect(a[a.length - 1]).toEqual([320, len]);
  });

  it('shift invariance also holds for a tensor following another one of a different size', () => {
    const relOf = (firstLen: number) => {
      const t0 = tensor('x', 16, 16 + firstLen);
      const t1 = tensor('y', 16 + firstLen, 16 + firstLen + 500);
      return planChunks(16 + firstLen + 500, 128, [t0, t1])
        .filter((s) => s.tensor === 1)
        .map((s) => [s.start - t1.start, s.end - t1.start]);
    };
    expect(relOf(100)).toEqual(relOf(333));
    expect(relOf(100)).toEqual([
      [0, 128],
      [128, 256],
      [256, 384],
      [384, 500],
    ]);
  });
});
