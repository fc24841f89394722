import { describe, it, expect } from 'vitest';
import { canonicalJson } from '../../../src/core/canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    const v = { b: 1, a: { z: [3, { y: 1, x: 2 }], c: 'x' }, A: null };
    expect(canonicalJson(v)).toBe('{"A":null,"a":{"c":"x","z":[3,{"x":2,"y":1}]},"b":1}');
  });

  it('is stable whatever the insertion order', () => {
    const a = { one: 1, two: { p: true, q: [1, 2, 3] }, three: 'x' };
    const b = { three: 'x', two: { q: [1, 2, 3], p: true }, one: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe(canonicalJson(JSON.parse(canonicalJson(a))));
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });

  it('drops undefined object members', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('escapes strings as JSON does', () => {
    expect(canonicalJson({ 'k"ey': 'line\nbreak "q" \u00e9' })).toBe(
      JSON.stringify({ 'k"ey': 'line\nbreak "q" \u00e9' }),
    );
  });

  it('throws on non-finite numbers anywhere', () => {
    expect(() => canonicalJson(NaN)).toThrow();
    expect(() => canonicalJson({ a: Infinity })).toThrow();
    expect(() => canonicalJson({ a: [1, -Infinity] })).toThrow();
    expect(() => canonicalJson({ deep: { deeper: { x: NaN } } })).toThrow();
  });

  it('throws on values JSON cannot hold', () => {
    expect(() => canonicalJson(() => 1)).toThrow();
    expect(() => canonicalJson(10n)).toThrow();
    expect(() => canonicalJson(undefined)).toThrow();
  });
});
