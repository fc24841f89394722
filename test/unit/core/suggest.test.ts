import { describe, expect, it } from 'vitest';
import { didYouMean, suggest } from '../../../src/core/suggest.js';

describe('suggest', () => {
  it('finds close names and abbreviations, best first, and nothing far away', () => {
    expect(suggest('acuracy', ['accuracy', 'loss', 'f1'])).toEqual(['accuracy']);
    expect(suggest('experimnt', ['experiment', 'main', 'exp'])).toEqual(['experiment']);
    expect(suggest('metrics.acc', ['metrics.accuracy', 'metrics.loss'])).toEqual(['metrics.accuracy']);
    expect(suggest('los', ['loss', 'lost', 'f1'])).toEqual(['lost', 'loss'].sort());
    expect(suggest('zzzz', ['accuracy', 'loss'])).toEqual([]);
    expect(suggest('loss', ['loss'])).toEqual([]);
    expect(didYouMean('mian', ['main', 'dev'])).toBe(" (did you mean 'main'?)");
    expect(didYouMean('qqq', ['main'])).toBe('');
  });
});
