import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

const isRoot = process.getuid?.() === 0;

// Behaviour of the command line itself: -C, exit codes chosen by commands, and the errno mapping.
describe('the command line', () => {
  it('-C DIR is applied once: a relative DIR names that folder, not a folder of the same name inside it', () => {
    const t = testdir({ 'a/m.bin': 'outer', 'a/a/m.bin': 'inner' });
    try {
      ok(mvm(['init'], { cwd: t.path('a/a') }));
      ok(mvm(['add', 'm.bin'], { cwd: t.path('a/a') }));
      ok(mvm(['commit', '-m', 'inner only'], { cwd: t.path('a/a') }));
      // from the parent of a/: -C a is a/, which is not a repository (applied twice it would reach a/a)
      expectError(mvm(['-C', 'a', 'status', '--json'], { cwd: t.dir }), 'NOT_A_REPOSITORY', 3);
      const inner = json(mvm(['-C', 'a/a', 'status', '--json'], { cwd: t.dir }));
      expect(inner.headNumber).toBe(1);
      expect(inner.tracked).toEqual(['m.bin']);
      // add with a relative path resolves against DIR
      const added = json(mvm(['-C', 'a/a', 'add', 'm.bin', '--json'], { cwd: t.dir }));
      expect(added.tracked).toEqual(['m.bin']);
      // a workspace inside another is refused, whatever the depth
      const nested = expectError(mvm(['init', '--json'], { cwd: t.path('a/a') }), 'ALREADY_A_REPOSITORY', 3);
      expect(nested.message).toContain('already exists');
      mkdirSync(t.path('a/a/deep/er'), { recursive: true });
      const inside = expectError(mvm(['init', '--json'], { cwd: t.path('a/a/deep/er') }), 'ALREADY_A_REPOSITORY', 3);
      expect(inside.data.outer).toBe(t.path('a/a'));
    } finally {
      t.cleanup();
    }
  });

  it(
    'an unknown command exits 2 (BAD_ARGUMENT) with a did-you-mean, with or without --help; known commands and the ' +
      'general help still exit 0',
    () => {
      const t = testdir();
      try {
        for (const [args, near] of [
          [['lgo'], 'log'],
          [['lgo', '--help'], 'log'],
          [['comit', '-m', 'x', '--help'], 'commit'],
          [['-q', 'comit', '-h'], 'commit'],
          [['frobnicate', '--help'], null],
        ] as [string[], string | null][]) {
          const e = expectError(mvm([...args, '--json'], { cwd: t.dir }), 'BAD_ARGUMENT', 2);
          expect(e.data.command).toBe(args.find((a) => !a.startsWith('-') && a !== 'x'));
          if (near) expect(e.message).toContain(`did you mean '${near}'`);
          else expect(e.message).not.toContain('did you mean');
          // without --json: one line on stderr, no help text on stdout
          const plain = mvm(args, { cwd: t.dir });
          expect(plain.exitCode).toBe(2);
          expect(plain.stdout).toBe('');
          expect(plain.stderr).toMatch(/^mvm: [^\n]+\n$/);
        }
        for (const args of [
          ['--help'],
          ['help'],
          ['log', '--help'],
          ['commit', '-h'],
          ['-C', '.', 'status', '--help'],
        ]) {
          const r = mvm(args, { cwd: t.dir });
          expect(r.exitCode, args.join(' ')).toBe(0);
          expect(r.stdout).toContain('mvm');
        }
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    '--version prints the package version; commit with nothing tracked is NOTHING_TRACKED; nothing to commit exits ' +
      '1',
    () => {
      const t = testdir({ 'm.bin': 'model' });
      try {
        const v = mvm(['--version'], { cwd: t.dir });
        expect(v.exitCode).toBe(0);
        expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
        expect(v.stdout).not.toContain('unknown');
        ok(mvm(['init'], { cwd: t.dir }));
        const none = expectError(mvm(['commit', '-m', 'x', '--json'], { cwd: t.dir }), 'NOTHING_TRACKED', 1);
        expect(none.data.hint).toContain('mvm add');
        expect(mvm(['commit', '-m', 'x'], { cwd: t.dir }).stderr).toContain('nothing is tracked');
        ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
        ok(mvm(['commit', '-m', 'v1'], { cwd: t.dir }));
        const again = mvm(['commit', '-m', 'again'], { cwd: t.dir });
        expect(again.exitCode).toBe(1);
        expect(again.stdout).toContain('nothing to commit');
        const j = mvm(['commit', '-m', 'again', '--json'], { cwd: t.dir });
        expect(j.exitCode).toBe(1);
        expect(JSON.parse(j.stdout)).toMatchObject({ created: false, number: 1 });
        // --allow-empty still makes one
        expect(json(mvm(['commit', '-m', 'empty', '--allow-empty', '--json'], { cwd: t.dir })).number).toBe(2);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'the bundled CLI (dist/bundle) finds what its bundled packages look for beside themselves (yargs its message ' +
      'catalogues), and says so in one line when it is not built',
    () => {
      const t = testdir({ 'm.bin': 'model' });
      try {
        // yargs' French catalogue lives in its own package folder, not in dist/bundle
        const fr = mvm(['log', '--bogus'], { cwd: t.dir, env: { LANG: 'fr_FR.UTF-8', LC_ALL: '' } });
        expect(fr.exitCode).toBe(2);
        expect(fr.stderr).toContain('Argument inconnu');
        ok(mvm(['init'], { cwd: t.dir }));
        ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
        ok(mvm(['commit', '-m', 'v1'], { cwd: t.dir }));
        const s = mvm(['status'], { cwd: t.dir });
        expect(s.exitCode).toBe(0);
        expect(s.stdout).toContain('workspace matches HEAD');
        // bin/mvm.js where nothing is built says so in one line
        const bin = readFileSync(new URL('../../../bin/mvm.js', import.meta.url), 'utf8');
        mkdirSync(t.path('unbuilt/bin'), { recursive: true });
        writeFileSync(t.path('unbuilt/bin/mvm.js'), bin);
        const unbuilt = spawnSync(process.execPath, [t.path('unbuilt/bin/mvm.js'), 'status'], {
          cwd: t.dir,
          encoding: 'utf8',
        });
        expect(unbuilt.status).toBe(1);
        expect(unbuilt.stderr).toBe(
          'mvm: the command line is not built (dist/bundle/mvm.js is missing): run npm run build\n',
        );
      } finally {
        t.cleanup();
      }
    },
  );

  it('a user config (~/.config/mvm/config.json, or MVM_CONFIG) gives the author and init defaults', () => {
    const t = testdir({ 'm.bin': 'model' });
    try {
      writeFileSync(
        t.path('user.json'),
        JSON.stringify({ author: 'Config Person <cp@example.com>', init: { chunkSize: 4096, compressionLevel: 5 } }),
      );
      const env = { MVM_CONFIG: t.path('user.json'), MVM_AUTHOR: '' };
      mkdirSync(t.path('ws'));
      const run = (args: string[]) => mvm(args, { cwd: t.path('ws'), env });
      expect(json(run(['init', '--json'])).chunkSize).toBe(4096);
      expect(JSON.parse(readFileSync(t.path('ws/.mvm/config.json'), 'utf8'))).toMatchObject({
        chunkSize: 4096,
        compressionLevel: 5,
      });
      writeFileSync(t.path('ws/m.bin'), 'x');
      ok(run(['add', 'm.bin']));
      expect(json(run(['commit', '-m', 'v1', '--json'])).id).toMatch(/^[0-9a-f]{64}$/);
      expect(json(run(['show', 'v1', '--json'])).version.author).toBe('Config Person <cp@example.com>');
      // MVM_AUTHOR still wins; a broken config is a clear error
      expect(
        json(mvm(['show', 'v1', '--json'], { cwd: t.path('ws'), env: { MVM_CONFIG: t.path('user.json') } })).id,
      ).toBeTruthy();
      writeFileSync(t.path('user.json'), '{ not json');
      const broken = expectError(run(['commit', '-m', 'v2', '--allow-empty', '--json']), 'BAD_VALUE', 2);
      expect(broken.message).toContain('user.json');
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

  it.skipIf(!isRoot)(
    'an unreadable config.json is a permissions error (UNREADABLE), not a corrupt repository (needs root to run as ' +
      'another user)',
    () => {
      const t = testdir({ 'm.bin': 'one' });
      try {
        ok(mvm(['init'], { cwd: t.dir }));
        chmodSync(t.path('.mvm/config.json'), 0o000);
        chmodSync(t.path('.mvm'), 0o755);
        expectError(mvm(['status', '--json'], { cwd: t.dir, uid: 65534, gid: 65534 }), 'UNREADABLE', 8);
      } finally {
        t.cleanup();
      }
    },
  );

  it.skipIf(!isRoot)(
    '--data naming a path that cannot be read is UNREADABLE, one that does not exist PATH_NOT_FOUND (needs root to ' +
      'run as another user)',
    () => {
      const t = testdir({ 'm.bin': 'one', 'data/x.csv': 'a,b\n' });
      try {
        ok(mvm(['init'], { cwd: t.dir }));
        ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
        expectError(mvm(['commit', '-m', 'x', '--data', 'nope', '--json'], { cwd: t.dir }), 'PATH_NOT_FOUND', 4);
        mkdirSync(t.path('data/locked'));
        chmodSync(t.path('data/locked'), 0o000);
        // another user cannot look inside: refused before anything is written
        expectError(
          mvm(['commit', '-m', 'x', '--data', 'data/locked/inside', '--json'], { cwd: t.dir, uid: 65534, gid: 65534 }),
          'UNREADABLE',
          8,
        );
        expect(json(mvm(['log', '--json'], { cwd: t.dir }))).toEqual([]);
      } finally {
        chmodSync(t.path('data/locked'), 0o755);
        t.cleanup();
      }
    },
  );
});
