import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MVM_BIN, mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { GIT_ENV, git, pushedProject } from '../../helpers/git.js';

// mvm alongside git: mvm.lock names the model of each git commit, mvm-remotes.json
// names the remote, and a fresh `git clone` + `mvm pull` brings the model back.
describe('mvm with git', () => {
  it(
    'git clone + mvm pull restores the model of HEAD; git checkout of an older commit + mvm checkout --lock ' +
      'restores that one; hooks do it by themselves',
    () => {
      const t = testdir();
      try {
        // a `mvm` on PATH for the git hooks
        const bin = t.path('bin');
        mkdirSync(bin);
        writeFileSync(join(bin, 'mvm'), `#!/bin/sh\nexec "${process.execPath}" "${MVM_BIN}" "$@"\n`);
        chmodSync(join(bin, 'mvm'), 0o755);
        const env = { ...GIT_ENV, PATH: `${bin}:${process.env.PATH}` };
        const proj = t.path('proj');
        mkdirSync(proj);
        const run = (cwd: string, args: string[]) => mvm(args, { cwd, env });
        git(proj, ['init', '-q', '-b', 'main']);
        write(join(proj, 'train.py'), 'print("train")\n');
        write(join(proj, 'models/w.bin'), randomBytes(300_000, 3));
        ok(run(proj, ['init']));
        ok(run(proj, ['add', 'models']));
        const v1 = json(run(proj, ['commit', '-m', 'v1', '--json']));
        const lock1 = JSON.parse(readFileSync(join(proj, 'mvm.lock'), 'utf8'));
        expect(lock1).toEqual({
          format: 1,
          version: v1.id,
          tracked: ['models'],
          files: {
            'models/w.bin': { file: expect.stringMatching(/^[0-9a-f]{64}$/), mode: expect.any(Number), size: 300_000 },
          },
        });
        ok(run(proj, ['remote', 'add', 'origin', t.path('remote'), '--shared']));
        ok(run(proj, ['push']));
        git(proj, ['add', '.gitignore', 'mvm.lock', 'mvm-remotes.json', 'train.py']);
        git(proj, ['commit', '-q', '-m', 'model v1']);
        // the model itself is not in git
        expect(git(proj, ['ls-files'])).toBe('.gitignore\nmvm-remotes.json\nmvm.lock\ntrain.py\n');

        // a teammate: git clone, then mvm pull
        git(t.dir, ['clone', '-q', proj, 'mate']);
        const mate = t.path('mate');
        expect(existsSync(join(mate, 'models'))).toBe(false);
        expectError(run(mate, ['status', '--json']), 'NOT_A_REPOSITORY', 3);
        // the remote the project names is used only once this clone trusts it
        const untrusted = expectError(run(mate, ['pull', '--json']), 'REMOTE_UNTRUSTED', 10);
        expect(untrusted.data.url).toBe(t.path('remote'));
        expect(existsSync(join(mate, '.mvm'))).toBe(false);
        expect(json(run(mate, ['remote', 'trust', 'origin', '--json']))).toMatchObject({
          remote: { name: 'origin', url: t.path('remote') },
          created: true,
        });
        const pulled = json(run(mate, ['pull', '--json']));
        expect(pulled.to).toBe(v1.id);
        expect(pulled.number).toBe(1);
        expect(readFileSync(join(mate, 'models/w.bin')).equals(readFileSync(join(proj, 'models/w.bin')))).toBe(true);
        expect(git(mate, ['status', '--porcelain'])).toBe('');
        expect(json(run(mate, ['status', '--json']))).toMatchObject({
          clean: true,
          branch: 'main',
          lock: { version: v1.id, matchesHead: true, matchesWorkspace: true },
        });

        // v2 in the project: commit, push, git commit of the lock
        write(join(proj, 'models/w.bin'), randomBytes(300_000, 4));
        const v2 = json(run(proj, ['commit', '-m', 'v2', '--json']));
        ok(run(proj, ['push']));
        git(proj, ['commit', '-q', '-am', 'model v2']);
        git(mate, ['pull', '-q']);
        // git brought the new lock: status says the workspace and HEAD are behind it
        const st = json(run(mate, ['status', '--json']));
        expect(st.lock).toMatchObject({ version: v2.id, matchesHead: false, matchesWorkspace: false });
        expect(run(mate, ['status']).stdout).toContain("'mvm checkout --lock' restores it");
        const co = json(run(mate, ['checkout', '--lock', '--json']));
        expect(co.id).toBe(v2.id);
        expect(readFileSync(join(mate, 'models/w.bin')).equals(randomBytes(300_000, 4))).toBe(true);
        // an older git commit brings its model back
        git(mate, ['checkout', '-q', 'HEAD~1']);
        expect(json(run(mate, ['checkout', '--lock', '--json'])).id).toBe(v1.id);
        expect(readFileSync(join(mate, 'models/w.bin')).equals(randomBytes(300_000, 3))).toBe(true);
        expect(git(mate, ['status', '--porcelain'])).toBe('');

        // hooks: git checkout alone restores the model; an existing hook is kept
        write(join(mate, '.git/hooks/pre-push'), '#!/bin/sh\necho mine\n', 0o755);
        const hooks = json(run(mate, ['hooks', 'install', '--json']));
        expect(hooks.map((h: { hook: string; outcome: string }) => [h.hook, h.outcome])).toEqual([
          ['post-checkout', 'installed'],
          ['post-merge', 'installed'],
          ['pre-push', 'kept'],
          ['merge driver', 'installed'],
        ]);
        expect(readFileSync(join(mate, '.git/hooks/pre-push'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
        git(mate, ['checkout', '-q', 'main'], env);
        expect(readFileSync(join(mate, 'models/w.bin')).equals(randomBytes(300_000, 4))).toBe(true);
        expect(json(run(mate, ['status', '--json'])).lock).toMatchObject({
          version: v2.id,
          matchesHead: true,
          matchesWorkspace: true,
        });
      } finally {
        t.cleanup();
      }
    },
  );

  it('outside git no mvm.lock is written; a hostile mvm.lock is refused before anything is written', () => {
    const t = testdir({ 'models/a.bin': 'weights' });
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      ok(mvm(['add', 'models'], { cwd: t.dir }));
      const v1 = json(mvm(['commit', '-m', 'v1', '--json'], { cwd: t.dir }));
      expect(existsSync(t.path('mvm.lock'))).toBe(false);
      writeFileSync(
        t.path('mvm.lock'),
        JSON.stringify({
          format: 1,
          version: v1.id,
          files: { '../escape': { file: 'a'.repeat(64), mode: 420, size: 1 } },
        }),
      );
      expectError(mvm(['checkout', '--lock', '--json'], { cwd: t.dir }), 'UNSAFE_VERSION', 7);
      expect(existsSync(t.path('../escape'))).toBe(false);
      writeFileSync(t.path('mvm.lock'), 'not json');
      expectError(mvm(['checkout', '--lock', '--json'], { cwd: t.dir }), 'BAD_VALUE', 2);
    } finally {
      t.cleanup();
    }
  });

  it(
    'a cloned repository that ships models -> ../outside: mvm pull refuses with SYMLINK_IN_PATH naming the link ' +
      'and writes nothing, even when outside holds the same bytes',
    () => {
      const t = testdir();
      try {
        const { proj, run } = pushedProject(t, randomBytes(50_000, 7), 'models/w.bin');
        // the hostile commit: the model folder is a link out of the clone
        execFileSync('sh', ['-c', `rm -r models && ln -s ../outside models`], { cwd: proj });
        git(proj, ['add', '-f', 'models']);
        git(proj, ['commit', '-q', '-m', 'models is a link']);
        git(t.dir, ['clone', '-q', proj, 'mate']);
        const mate = t.path('mate');
        expect(lstatSync(join(mate, 'models')).isSymbolicLink()).toBe(true);
        // outside holds the very bytes of v1 (a pull used to find them there and write nothing), and a file of its own
        write(t.path('outside/w.bin'), randomBytes(50_000, 7));
        write(t.path('outside/mine.txt'), 'keep me');
        ok(run(mate, ['remote', 'trust', 'origin']));
        const e = expectError(run(mate, ['pull', '--json']), 'SYMLINK_IN_PATH', 5);
        expect(e.data.paths).toEqual(['models']);
        expect(e.message).toContain('models/w.bin');
        // the store trust made holds no version, and the link is as git left it
        expect(existsSync(join(mate, '.mvm/HEAD')) ? readFileSync(join(mate, '.mvm/HEAD'), 'utf8') : '').not.toMatch(
          /[0-9a-f]{64}/,
        );
        expect(lstatSync(join(mate, 'models')).isSymbolicLink()).toBe(true);
        expect(readdirSync(t.path('outside')).sort()).toEqual(['mine.txt', 'w.bin']);
        expect(readFileSync(t.path('outside/w.bin')).equals(randomBytes(50_000, 7))).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'mvm.lock naming a version nobody pushed: pull in a fresh clone and checkout --lock say so (UNKNOWN_REVISION ' +
      'naming mvm.lock and the version), not that the remote is damaged',
    () => {
      const t = testdir();
      try {
        const { proj, run } = pushedProject(t, randomBytes(40_000, 1), 'models');
        git(t.dir, ['clone', '-q', proj, 'mate']);
        ok(run(t.path('mate'), ['remote', 'trust', 'origin']));
        ok(run(t.path('mate'), ['pull']));
        // v2 is committed, its lock goes to git, but it is never pushed
        write(join(proj, 'models/w.bin'), randomBytes(40_000, 2));
        const v2 = json(run(proj, ['commit', '-m', 'v2', '--json'])).id as string;
        git(proj, ['commit', '-q', '-am', 'model v2']);
        git(t.dir, ['clone', '-q', proj, 'fresh']);
        ok(run(t.path('fresh'), ['remote', 'trust', 'origin']));
        const e = expectError(run(t.path('fresh'), ['pull', '--json']), 'UNKNOWN_REVISION', 4);
        expect(e.data).toMatchObject({ path: 'mvm.lock', revision: v2, remote: 'origin' });
        expect(e.message).toContain('mvm.lock');
        expect(e.message).toContain(v2.slice(0, 12));
        expect(e.data.hint).toContain('mvm push');
        expect(existsSync(t.path('fresh/models'))).toBe(false);
        // a clone that has the store already: git pull brings the lock, checkout --lock says the same
        git(t.path('mate'), ['pull', '-q']);
        const again = expectError(run(t.path('mate'), ['checkout', '--lock', '--json']), 'UNKNOWN_REVISION', 4);
        expect(again.data).toMatchObject({ path: 'mvm.lock', revision: v2 });
        // once pushed, both work
        ok(run(proj, ['push']));
        ok(run(t.path('fresh'), ['pull']));
        expect(readFileSync(t.path('fresh/models/w.bin')).equals(randomBytes(40_000, 2))).toBe(true);
        ok(run(t.path('mate'), ['checkout', '--lock']));
        expect(readFileSync(t.path('mate/models/w.bin')).equals(randomBytes(40_000, 2))).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});
