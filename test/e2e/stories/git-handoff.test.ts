// The git hand-off: mvm.lock keeps the branch attached when it names its tip, carries the tracked paths to every
// clone, and a lock git left conflict markers in says what to do.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MVM_BIN, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { git, pushedProject } from '../../helpers/git.js';

describe('mvm and git hand over', () => {
  it('git checkout main + mvm checkout --lock is back on main (not detached), and the next commit pushes', () => {
    const t = testdir();
    try {
      const { proj, run } = pushedProject(t, randomBytes(200_000, 1), 'models');
      write(join(proj, 'models/w.bin'), randomBytes(200_000, 2));
      const v2 = json(run(proj, ['commit', '-m', 'v2', '--json'])).id as string;
      git(proj, ['commit', '-q', '-am', 'model v2']);
      // an older git commit: its model is not main's tip, so mvm is detached there, as git is
      git(proj, ['checkout', '-q', 'HEAD~1']);
      expect(json(run(proj, ['checkout', '--lock', '--json'])).branch).toBeNull();
      // back on git's main: the lock names mvm's main tip, so mvm is on main again
      git(proj, ['checkout', '-q', 'main']);
      const back = json(run(proj, ['checkout', '--lock', '--json']));
      // (not pushed yet: no number until the registry gives it one)
      expect(back).toMatchObject({ branch: 'main', id: v2, number: null });
      write(join(proj, 'models/w.bin'), randomBytes(200_000, 3));
      const v3 = json(run(proj, ['commit', '-m', 'v3', '--json']));
      expect(v3.branch).toBe('main');
      expect(json(run(proj, ['push', '--json'])).newNumbers).toEqual([
        { id: v2, number: 2 },
        { id: v3.id, number: 3 },
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('the tracked folders travel in mvm.lock: a file a teammate adds in one is committed, pushed and pulled', () => {
    const t = testdir();
    try {
      const { proj, run } = pushedProject(t, randomBytes(100_000, 4), 'models');
      expect(JSON.parse(readFileSync(join(proj, 'mvm.lock'), 'utf8')).tracked).toEqual(['models']);
      git(t.dir, ['clone', '-q', proj, 'mate']);
      const mate = t.path('mate');
      ok(run(mate, ['remote', 'trust', 'origin']));
      ok(run(mate, ['pull']));
      write(join(mate, 'models/head.bin'), randomBytes(50_000, 5));
      const c = json(run(mate, ['commit', '-m', 'a new head', '--json']));
      expect(c.created).toBe(true);
      ok(run(mate, ['push']));
      ok(run(proj, ['pull']));
      expect(readFileSync(join(proj, 'models/head.bin'))).toEqual(randomBytes(50_000, 5));
    } finally {
      t.cleanup();
    }
  });

  it('an mvm.lock with git conflict markers says so and how to keep one side', () => {
    const t = testdir();
    try {
      const { proj, run } = pushedProject(t, randomBytes(10_000, 6), 'models');
      const lock = readFileSync(join(proj, 'mvm.lock'), 'utf8');
      write(
        join(proj, 'mvm.lock'),
        `<<<<<<< HEAD\n${lock}=======\n${lock.replace('"format"', '"format" ')}>>>>>>> exp\n`,
      );
      const e = expectError(run(proj, ['checkout', '--lock', '--json']), 'BAD_VALUE', 2);
      expect(e.message).toContain('conflict markers');
      expect(e.data.hint).toContain('git checkout --ours mvm.lock');
    } finally {
      t.cleanup();
    }
  });

  it('merge driver: a branch that changed the model merges cleanly; two that did keep a valid lock', () => {
    const t = testdir();
    try {
      const { proj, run } = pushedProject(t, randomBytes(20_000, 7), 'models');
      // mvm on PATH for git's merge driver
      const bin = t.path('bin');
      write(join(bin, 'mvm'), `#!/bin/sh\nexec "${process.execPath}" "${MVM_BIN}" "$@"\n`, 0o755);
      const env = { PATH: `${bin}:${process.env.PATH}` };
      ok(run(proj, ['hooks', 'install']));
      git(proj, ['add', '.gitattributes']);
      git(proj, ['commit', '-q', '-m', 'merge driver']);
      // exp retrains; main changes only code: the merge takes exp's model, no conflict
      git(proj, ['checkout', '-q', '-b', 'exp'], env);
      write(join(proj, 'models/w.bin'), randomBytes(20_000, 8));
      const v2 = json(run(proj, ['commit', '-m', 'exp retrain', '--json'])).id as string;
      git(proj, ['commit', '-q', '-am', 'exp model'], env);
      git(proj, ['checkout', '-q', 'main'], env);
      write(join(proj, 'train.py'), 'print(1)\n');
      git(proj, ['add', 'train.py']);
      git(proj, ['commit', '-q', '-m', 'code'], env);
      git(proj, ['merge', '-q', '--no-edit', 'exp'], env);
      expect(JSON.parse(readFileSync(join(proj, 'mvm.lock'), 'utf8')).version).toBe(v2);
      // both retrain: a conflict, and mvm.lock stays a lock (ours) that says so
      git(proj, ['checkout', '-q', '-b', 'exp2'], env);
      write(join(proj, 'models/w.bin'), randomBytes(20_000, 9));
      const theirs = json(run(proj, ['commit', '-m', 'exp2', '--json'])).id as string;
      git(proj, ['commit', '-q', '-am', 'exp2 model'], env);
      git(proj, ['checkout', '-q', 'main'], env);
      write(join(proj, 'models/w.bin'), randomBytes(20_000, 10));
      const ours = json(run(proj, ['commit', '-m', 'main retrain', '--json'])).id as string;
      git(proj, ['commit', '-q', '-am', 'main model'], env);
      let failed = '';
      try {
        git(proj, ['merge', '-q', '--no-edit', 'exp2'], env);
      } catch (e) {
        failed = String((e as { stdout?: string }).stdout ?? '') + String((e as { stderr?: string }).stderr ?? '');
      }
      expect(failed).toContain('both sides changed the model');
      expect(failed).toContain(theirs.slice(0, 12));
      expect(JSON.parse(readFileSync(join(proj, 'mvm.lock'), 'utf8')).version).toBe(ours);
      ok(run(proj, ['status']));
    } finally {
      t.cleanup();
    }
  });
});
