import { describe, it, expect } from 'vitest';
import { isObjectId, isIdPrefix, shortId } from '../../../src/core/ids.js';

const ID_B = '0123456789abcdef'.repeat(4);

describe('ids', () => {
  it('recognises full ids and prefixes', () => {
    expect(isObjectId(ID_B)).toBe(true);
    expect(isObjectId(ID_B.toUpperCase())).toBe(false);
    expect(isObjectId(ID_B.slice(1))).toBe(false);
    expect(isObjectId(ID_B + '0')).toBe(false);
    expect(isIdPrefix('abcd')).toBe(true);
    expect(isIdPrefix('abc')).toBe(false);
    expect(isIdPrefix('abcg')).toBe(false);
    expect(shortId(ID_B)).toBe('0123456789ab');
  });
});
