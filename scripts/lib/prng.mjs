// mulberry32, a small deterministic PRNG: the same seed gives the same fixtures in the tests
// (test/helpers/data.ts) and the same generated histories in the benchmarks (bench/versions.mjs).

/**
 * A deterministic PRNG returning floats uniform in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
