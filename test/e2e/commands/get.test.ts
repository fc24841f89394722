// get: one file of a version written elsewhere.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

describe('get', () => {
  it('get writes one file of a version elsewhere, verified, leaving the workspace and HEAD alone', () => {
    const t = testdir({ 'models/m.bin': 'version one' });
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      ok(mvm(['add', 'models'], { cwd: t.dir }));
      ok(mvm(['commit', '-m', 'v1'], { cwd: t.dir }));
      writeFileSync(t.path('models/m.bin'), 'version two');
      ok(mvm(['commit', '-m', 'v2'], { cwd: t.dir }));
      const r = json(mvm(['get', 'v1', 'models/m.bin', '-o', t.path('out/'), '--json'], { cwd: t.dir }));
      expect(r).toMatchObject({ number: 1, path: 'models/m.bin', output: t.path('out/m.bin'), size: 11 });
      expect(readFileSync(t.path('out/m.bin'), 'utf8')).toBe('version one');
      expect(readFileSync(t.path('models/m.bin'), 'utf8')).toBe('version two');
      expect(json(mvm(['status', '--json'], { cwd: t.dir })).headNumber).toBe(2);
      expectError(mvm(['get', 'v1', 'models', '--json'], { cwd: t.dir }), 'PATH_NOT_FOUND', 4);
    } finally {
      t.cleanup();
    }
  });
});
