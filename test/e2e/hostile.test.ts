import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mvm, testdir } from '../helpers/cli.js';
import { expectError, json, ok } from '../helpers/assertions.js';
import { Repository } from '../../src/repo/repository.js';

// A repository whose newest version was written by hand (as a tampered copy or a hostile remote would hold it).
describe('a hand-made hostile version', () => {
  it('checkout refuses it with UNSAFE_VERSION and writes nothing; fsck reports it; revision names cannot leave .mvm/refs', () => {
    const t = testdir({ 'w/models/a.bin': 'model bytes', 'outside.txt': 'keep me' });
    try {
      const w = t.path('w');
      const run = (args: string[]) => mvm(args, { cwd: w });
      ok(run(['init']));
      ok(run(['add', 'models']));
      const v1 = json(run(['commit', '-m', 'v1', '--json'])).id as string;
      const repo = Repository.open(w);
      const good = repo.version(v1);
      const entry = good.files['models/a.bin']!;
      const evil = repo.putObject({
        ...good,
        parents: [v1],
        message: 'evil',
        files: { 'models/a.bin': entry, '../outside.txt': entry, '.git/hooks/post-checkout': { ...entry, mode: 0o755 }, '.mvm/config.json': entry, 'models/x': { ...entry, mode: 0o4755 } },
      });
      repo.refs.write('refs/tags/evil', evil);
      const err = expectError(run(['checkout', 'evil', '--force', '--json']), 'UNSAFE_VERSION', 7);
      expect(err.data.problems).toHaveLength(4);
      expect(readFileSync(t.path('outside.txt'), 'utf8')).toBe('keep me');
      expect(existsSync(t.path('w/.git'))).toBe(false);
      expect(existsSync(t.path('w/models/x'))).toBe(false);
      expect(json(run(['status', '--json'])).head).toBe(v1);
      const f = run(['fsck', '--json']);
      expect(f.exitCode).toBe(7);
      const problems = JSON.parse(f.stdout).problems as { kind: string; id: string }[];
      expect(problems.map((p) => [p.kind, p.id])).toEqual([['unsafe', evil]]);
      // a revision that climbs out of .mvm/refs is an unknown revision, whatever the file holds
      for (const rev of ['refs/../../outside.txt', '../config.json', 'refs/heads/../../HEAD']) {
        expectError(run(['show', rev, '--json']), 'UNKNOWN_REVISION', 4);
      }
    } finally {
      t.cleanup();
    }
  });
});
