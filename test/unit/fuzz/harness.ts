/**
 * Property-based fuzzing (fast-check) of everything that reads untrusted text
 * or bytes: the model parsers (and the files that describe weight files
 * beside them), the revision parser, the --where language, version decoding
 * and manifest validation (HDF5 and .keras seeds come from h5py). `npm test` runs MVM_FUZZ_RUNS cases
 * per property (200 by default); `npm run fuzz` runs 100,000 and prints the counts.
 *
 * This file holds what the fuzz suites share: the run settings, the case counter and seed-file mutations.
 */
import fc from 'fast-check';

const RUNS = Math.max(1, Number(process.env.MVM_FUZZ_RUNS ?? 200));
const SEED = process.env.MVM_FUZZ_SEED ? Number(process.env.MVM_FUZZ_SEED) : undefined;
const counts = new Map<string, number>();
export const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
export const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };

/** Prints how many cases each property ran (a suite's afterAll). */
export function reportCounts(): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} cases: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

/** Edits to a seed file: overwritten bytes, then an optional cut or insertion. */
export const mutation = fc.record({
  writes: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  insert: fc.option(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }), { nil: undefined }),
});

export function mutate(
  seed: Buffer,
  m: fc.RecordValue<{
    writes: { at: number; byte: number }[];
    cut: number | undefined;
    insert: { at: number; bytes: Uint8Array } | undefined;
  }>,
): Buffer {
  let b = Buffer.from(seed);
  for (const w of m.writes) b[w.at % b.length] = w.byte;
  if (m.insert) {
    const at = m.insert.at % (b.length + 1);
    b = Buffer.concat([b.subarray(0, at), Buffer.from(m.insert.bytes), b.subarray(at)]);
  }
  if (m.cut !== undefined) b = b.subarray(0, m.cut % (b.length + 1));
  return b;
}
