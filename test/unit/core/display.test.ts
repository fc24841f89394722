import { describe, expect, it } from 'vitest';
import { displayNumber, displayValue } from '../../../src/core/display.js';

describe('displayNumber', () => {
  it('rounds float noise to six significant digits and leaves integers whole', () => {
    expect(displayNumber(0.09000000000000001)).toBe('0.09');
    expect(displayNumber(0.1 + 0.2)).toBe('0.3');
    expect(displayNumber(0.0003333333333333333)).toBe('0.000333333');
    expect(displayNumber(1 / 3)).toBe('0.333333');
    expect(displayNumber(123456789)).toBe('123456789');
    expect(displayNumber(123456.78)).toBe('123457');
    expect(displayNumber(1.5e-9)).toBe('1.5e-9');
    expect(displayNumber(-2.0000000001)).toBe('-2');
    expect(displayNumber(Number.NaN)).toBe('NaN');
  });
  it('writes non-numbers as text', () => {
    expect(displayValue(true)).toBe('true');
    expect(displayValue('resnet')).toBe('resnet');
    expect(displayValue(0.30000000000000004)).toBe('0.3');
  });
});
