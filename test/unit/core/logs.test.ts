import { describe, expect, it } from 'vitest';
import { isDeployEntry, logCheck } from '../../../src/core/logs.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const line = { time: '2026-01-01T00:00:00.000Z', who: 'Ada', action: 'deploy', from: A, to: B };

describe('log line shapes', () => {
  it('accepts the lines deploy, promote, rollback and undo write', () => {
    expect(isDeployEntry(line)).toBe(true);
    expect(isDeployEntry({ ...line, from: null, reason: 'r', gates: ['metrics.acc > 0.9'] })).toBe(true);
    expect(isDeployEntry({ ...line, action: 'promote', fromEnv: 'staging', gates: 'skipped' })).toBe(true);
    expect(logCheck('envs/prod')!({ ...line, action: 'undo' })).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['who an object', { who: {} }],
    ['reason a number', { reason: 5 }],
    ['fromEnv a list', { fromEnv: ['x'] }],
    ['gates a number', { gates: 5 }],
    ['gates holding a number', { gates: ['ok', 1] }],
    ['to not an id', { to: 'v1' }],
    ['an unknown action', { action: 'yank' }],
  ])('refuses a deploy line with %s (every field is checked, not only the ids)', (_, change) => {
    expect(isDeployEntry({ ...line, ...change })).toBe(false);
  });

  it('has no check for a log named like a member of Object.prototype', () => {
    expect(logCheck('constructor')).toBeUndefined();
    expect(logCheck('__proto__')).toBeUndefined();
  });
});
