/** Checks every format parser's tests share: truncations and random corruptions of a valid file. */
import { expect } from 'vitest';
import { detectLayout } from '../../../../src/core/formats/detect.js';
import type { Layout } from '../../../../src/core/formats/types.js';
import { bufferSource, expectWellFormed, prng } from '../../../helpers/modelWriters.js';

export const detect = (buf: Buffer): Promise<Layout | null> => detectLayout(bufferSource(buf));

/**
 * Every prefix of `buf` shorter than `validFrom` (all when small, else a spread) must be rejected; longer ones stay
 * well-formed.
 */
export async function expectTruncationsNull(buf: Buffer, validFrom = buf.length): Promise<void> {
  const step = Math.max(1, Math.floor(buf.length / 400));
  for (let cut = 0; cut < buf.length; cut += step) {
    const layout = await detect(buf.subarray(0, cut));
    if (cut < validFrom) expect(layout, `cut at ${cut}`).toBeNull();
    else expectWellFormed(layout!, cut);
  }
  expect(await detect(buf.subarray(0, validFrom - 1))).toBeNull();
}

/** Random single- and multi-byte corruptions must never throw and must yield null or a well-formed layout. */
export async function fuzzMutations(buf: Buffer, seed: number, rounds = 300): Promise<void> {
  const rnd = prng(seed);
  for (let i = 0; i < rounds; i++) {
    const m = Buffer.from(buf);
    const flips = 1 + Math.floor(rnd() * 3);
    for (let f = 0; f < flips; f++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    const layout = await detect(m);
    if (layout) expectWellFormed(layout, m.length);
  }
}
