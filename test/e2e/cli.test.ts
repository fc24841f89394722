import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync } from 'node:fs';
import { mvm, testdir } from '../helpers/cli.js';
import { expectError, json, ok } from '../helpers/assertions.js';

const isRoot = process.getuid?.() === 0;

// Behaviour of the command line itself: -C, exit codes chosen by commands, and the errno mapping.
describe('the command line', () => {
  it('-C DIR is applied once: a relative DIR names that folder, not a folder of the same name inside it', () => {
    const t = testdir({ 'a/m.bin': 'outer', 'a/a/m.bin': 'inner' });
    try {
      ok(mvm(['init'], { cwd: t.path('a') }));
      ok(mvm(['init'], { cwd: t.path('a/a') }));
      ok(mvm(['add', 'm.bin'], { cwd: t.path('a/a') }));
      ok(mvm(['commit', '-m', 'inner only'], { cwd: t.path('a/a') }));
      // from the parent of a/: -C a is a/, whose repository has no versions and tracks nothing
      const st = json(mvm(['-C', 'a', 'status', '--json'], { cwd: t.dir }));
      expect(st.head).toBeNull();
      expect(st.tracked).toEqual([]);
      const inner = json(mvm(['-C', 'a/a', 'status', '--json'], { cwd: t.dir }));
      expect(inner.headNumber).toBe(1);
      expect(inner.tracked).toEqual(['m.bin']);
      // add with a relative path resolves against DIR
      const added = json(mvm(['-C', 'a', 'add', 'm.bin', '--json'], { cwd: t.dir }));
      expect(added.tracked).toEqual(['m.bin']);
    } finally {
      t.cleanup();
    }
  });

  it('commands ask for their exit code: status --exit-code is 1 on changes and 0 when clean, fsck 0 when sound', () => {
    const t = testdir({ 'm.bin': 'one' });
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
      const dirty = mvm(['status', '--exit-code', '--short'], { cwd: t.dir });
      expect(dirty.exitCode).toBe(1);
      expect(dirty.stdout).toBe('A m.bin\n');
      expect(dirty.stderr).toBe('');
      expect(mvm(['status', '--exit-code', '--json'], { cwd: t.dir }).exitCode).toBe(1);
      ok(mvm(['commit', '-m', 'one'], { cwd: t.dir }));
      ok(mvm(['status', '--exit-code'], { cwd: t.dir }));
      expect(json(mvm(['fsck', '--json'], { cwd: t.dir })).ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it.skipIf(!isRoot)('an unreadable config.json is a permissions error (UNREADABLE), not a corrupt repository (needs root to run as another user)', () => {
    const t = testdir({ 'm.bin': 'one' });
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      chmodSync(t.path('.mvm/config.json'), 0o000);
      chmodSync(t.path('.mvm'), 0o755);
      expectError(mvm(['status', '--json'], { cwd: t.dir, uid: 65534, gid: 65534 }), 'UNREADABLE', 8);
    } finally {
      t.cleanup();
    }
  });

  it.skipIf(!isRoot)('--data naming a path that cannot be read is UNREADABLE, one that does not exist PATH_NOT_FOUND (needs root to run as another user)', () => {
    const t = testdir({ 'm.bin': 'one', 'data/x.csv': 'a,b\n' });
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
      expectError(mvm(['commit', '-m', 'x', '--data', 'nope', '--json'], { cwd: t.dir }), 'PATH_NOT_FOUND', 4);
      mkdirSync(t.path('data/locked'));
      chmodSync(t.path('data/locked'), 0o000);
      // another user cannot look inside: refused before anything is written
      expectError(mvm(['commit', '-m', 'x', '--data', 'data/locked/inside', '--json'], { cwd: t.dir, uid: 65534, gid: 65534 }), 'UNREADABLE', 8);
      expect(json(mvm(['log', '--json'], { cwd: t.dir }))).toEqual([]);
    } finally {
      chmodSync(t.path('data/locked'), 0o755);
      t.cleanup();
    }
  });
});
