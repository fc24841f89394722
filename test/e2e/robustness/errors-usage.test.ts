/**
 * Every error mvm raises on purpose, through the real CLI (path, command-line and operating-system errors): the
 * stable `code` and documented exit code (src/errors.ts), the `{"error":{...}}` document on stdout with --json,
 * one `mvm: ` line on stderr, and that a failed command leaves the repository as it was.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mvm, randomBytes, type RunOptions } from '../../helpers/cli.js';
import {
  CHUNK,
  IS_ROOT,
  cleanups,
  expectError,
  json,
  ok,
  repo,
  snapshot,
  tmp,
  useErrorRepos,
  write,
} from '../../helpers/errorRepo.js';

useErrorRepos();

describe('path errors', () => {
  it('PATH_OUTSIDE_WORKSPACE (exit 2) for ../x and absolute paths outside', () => {
    const r = repo({ commit: false });
    const tracked = json(r.run(['status', '--json'])).tracked;
    expectError(r.run(['add', '../x', '--json']), 'PATH_OUTSIDE_WORKSPACE');
    expectError(r.run(['add', dirname(r.dir), '--json']), 'PATH_OUTSIDE_WORKSPACE');
    mkdirSync(r.path('sub'));
    expectError(r.run(['add', '../../elsewhere', '--json'], { cwd: r.path('sub') }), 'PATH_OUTSIDE_WORKSPACE');
    expectError(r.run(['rm', '../x', '--json']), 'PATH_OUTSIDE_WORKSPACE');
    expect(json(r.run(['status', '--json'])).tracked).toEqual(tracked);
  });

  it('a file whose name starts with two dots is inside the workspace', () => {
    const r = repo({ commit: false });
    write(r.path('..weights.bin'), randomBytes(100, 2));
    const a = json(r.run(['add', '..weights.bin', '--json']));
    expect(a.tracked).toContain('..weights.bin');
  });

  it('PATH_INSIDE_MVM (exit 2) for .mvm and anything inside it', () => {
    const r = repo({ commit: false });
    for (const p of ['.mvm', '.mvm/objects', './.mvm/config.json']) {
      expect(expectError(r.run(['add', p, '--json']), 'PATH_INSIDE_MVM').data.path).toBe(p);
    }
    expect(json(r.run(['status', '--json'])).tracked).toEqual(['models']);
    expect(readFileSync(r.path('.gitignore'), 'utf8')).not.toMatch(/^\/\.mvm\/.+/m);
  });

  it('PATH_NOT_FOUND (exit 4) for a missing path; nothing is tracked', () => {
    const r = repo({ commit: false });
    const gitignore = readFileSync(r.path('.gitignore'), 'utf8');
    const e = expectError(r.run(['add', 'missing.bin', '--json']), 'PATH_NOT_FOUND');
    expect(e.data.path).toBe('missing.bin');
    // one missing path among good ones: none is added
    write(r.path('other/x.bin'), 'x');
    expectError(r.run(['add', 'other', 'missing.bin', '--json']), 'PATH_NOT_FOUND');
    expect(json(r.run(['status', '--json'])).tracked).toEqual(['models']);
    expect(readFileSync(r.path('.gitignore'), 'utf8')).toBe(gitignore);
    expectError(r.run(['-C', r.path('nope'), 'status', '--json']), 'PATH_NOT_FOUND');
  });

  it('NOT_TRACKED (exit 4) for mvm rm of an untracked path', () => {
    const r = repo();
    write(r.path('other/x.bin'), 'x');
    expectError(r.run(['rm', 'other', '--json']), 'NOT_TRACKED');
    // a file inside a tracked folder is not itself a tracked spec
    expect(expectError(r.run(['rm', 'models/w.bin', '--json']), 'NOT_TRACKED').data.path).toBe('models/w.bin');
    expect(json(r.run(['status', '--json'])).tracked).toEqual(['models']);
    expect(readFileSync(r.path('.gitignore'), 'utf8')).toContain('/models/');
  });
});

describe('command-line errors', () => {
  it('BAD_VALUE (exit 2) for --metric accuracy=high, and nothing is written', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 8)); // a real change, so a commit would make a version
    const before = snapshot(r);
    const e = expectError(r.run(['commit', '-m', 'x', '--metric', 'accuracy=high', '--json']), 'BAD_VALUE');
    expect(e.data.key).toBe('accuracy');
    expect(snapshot(r)).toEqual(before);
    expect(json<any[]>(r.run(['log', '--json']))).toHaveLength(1);
    // the next good commit gets the next number: none was burned
    expect(json(r.run(['commit', '-m', 'x', '--metric', 'accuracy=0.5', '--json'])).number).toBe(2);
  });

  it('BAD_VALUE (exit 2) for malformed --meta, --param, --date and --chunk-size', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 9));
    const before = snapshot(r);
    expect(expectError(r.run(['commit', '-m', 'x', '--meta', 'novalue', '--json']), 'BAD_VALUE').data.value).toBe(
      'novalue',
    );
    expectError(r.run(['commit', '-m', 'x', '--meta', '=v', '--json']), 'BAD_VALUE');
    expectError(r.run(['commit', '-m', 'x', '--param', 'lr', '--json']), 'BAD_VALUE');
    expectError(r.run(['commit', '-m', 'x', '--date', 'yesterday-ish', '--json']), 'BAD_VALUE');
    expect(snapshot(r)).toEqual(before);
    const t = tmp();
    expectError(mvm(['init', '--chunk-size', '10', '--json'], { cwd: t.dir }), 'BAD_VALUE');
    expect(existsSync(join(t.dir, '.mvm', 'config.json'))).toBe(false);
  });

  it('BAD_EXPRESSION (exit 2) for a bad --where, with the position in error.data', () => {
    const r = repo();
    const e = expectError(r.run(['log', '--where', 'metrics.accuracy >> 0.9', '--json']), 'BAD_EXPRESSION');
    expect(typeof e.data.position).toBe('number');
    expect(e.data.position).toBe(18);
    expect(e.data.expression).toBe('metrics.accuracy >> 0.9');
    const e2 = expectError(r.run(['log', '--where', 'metrics.accuracy > ', '--json']), 'BAD_EXPRESSION');
    expect(e2.data.position).toBe(19);
    const e3 = expectError(r.run(['log', '--where', '(metrics.accuracy > 1', '--json']), 'BAD_EXPRESSION');
    expect(typeof e3.data.position).toBe('number');
  });

  it('BAD_ARGUMENT (exit 2) for an unknown command, an unknown flag, a missing argument', () => {
    const r = repo();
    expectError(r.run(['frobnicate', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['status', '--frob', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['checkout', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['add', '--json']), 'BAD_ARGUMENT');
    const none = mvm([], { cwd: r.dir });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/^mvm: [^\n]+\n$/);
  });

  it('BAD_VALUE or BAD_ARGUMENT (exit 2) for a non-numeric -n', () => {
    const r = repo();
    const res = r.run(['log', '-n', 'abc', '--json']);
    expect(res.exitCode, res.stdout).toBe(2);
    expect(['BAD_VALUE', 'BAD_ARGUMENT']).toContain(JSON.parse(res.stdout).error?.code);
  });

  it('commit without a message is BAD_ARGUMENT (exit 2), and nothing is written', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 10));
    const before = snapshot(r);
    expectError(r.run(['commit', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['commit', '-m', '', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['commit', '-m', '   ', '--json']), 'BAD_ARGUMENT');
    expect(snapshot(r)).toEqual(before);
  });

  it('REF_EXISTS (exit 1) for a branch that exists', () => {
    const r = repo();
    ok(r.run(['branch', 'exp']));
    expectError(r.run(['branch', 'exp', '--json']), 'REF_EXISTS');
    expectError(r.run(['branch', 'main', '--json']), 'REF_EXISTS');
  });
});

describe('operating-system errors', () => {
  it('UNREADABLE (exit 8) when a tracked file cannot be read; no version is made', () => {
    const t = tmp();
    // root reads anything, so run mvm as nobody in a world-writable folder it owns the repository of
    const as: Partial<RunOptions> = IS_ROOT ? { uid: 65534, gid: 65534 } : {};
    chmodSync(t.dir, 0o777);
    const run = (args: string[]) => mvm(args, { cwd: t.dir, ...as });
    write(t.path('models/a.bin'), randomBytes(20_000, 11));
    write(t.path('models/b.bin'), randomBytes(9_000, 12));
    ok(run(['init', '--chunk-size', String(CHUNK)]));
    if (IS_ROOT) expect(statSync(t.path('.mvm/config.json')).uid).toBe(65534);
    ok(run(['add', 'models']));
    ok(run(['commit', '-m', 'first']));
    const numbers = readFileSync(t.path('.mvm/numbers'), 'utf8');
    const mainRef = readFileSync(t.path('.mvm/refs/heads/main'), 'utf8');

    write(t.path('models/b.bin'), randomBytes(9_000, 13));
    chmodSync(t.path('models/a.bin'), 0o000);
    const e = expectError(run(['commit', '-m', 'second', '--json']), 'UNREADABLE');
    expect(e.data.path).toBe(t.path('models/a.bin'));
    expect(readFileSync(t.path('.mvm/numbers'), 'utf8')).toBe(numbers);
    expect(readFileSync(t.path('.mvm/refs/heads/main'), 'utf8')).toBe(mainRef);
    expect(json<any[]>(run(['log', '--json']))).toHaveLength(1);
    expectError(run(['status', '--json']), 'UNREADABLE');
    ok(run(['fsck']));

    chmodSync(t.path('models/a.bin'), 0o644);
    expect(json(run(['commit', '-m', 'second', '--json'])).number).toBe(2);
  });

  it('DISK_FULL (exit 8) is what ENOSPC and EDQUOT map to', async () => {
    // the mapping the CLI relies on; the next test fills a real disk where it can
    const { fromSystemError } = await import('../../../dist/errors.js');
    const err = fromSystemError(Object.assign(new Error('no space'), { code: 'ENOSPC' }), '/x', 'writing');
    expect(err.code).toBe('DISK_FULL');
    expect(err.exitCode).toBe(8);
    expect(fromSystemError({ code: 'EDQUOT' }, '/x', 'writing').code).toBe('DISK_FULL');
  });

  it.skipIf(!IS_ROOT)(
    'DISK_FULL (exit 8) when the disk fills during a commit; the history stays intact (needs root to mount a tmpfs)',
    async ({ skip }) => {
      const t = tmp();
      const fsDir = t.path('fs');
      mkdirSync(fsDir);
      // 6 MiB: room for the 4 MiB model in the workspace, not for a second copy of it in .mvm
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', fsDir], { encoding: 'utf8' });
      // root without the right to mount (a container without CAP_SYS_ADMIN, say): say so rather than pass
      if (mount.status !== 0)
        skip(`cannot mount a tmpfs here: ${(mount.stderr || mount.error?.message || `exit ${mount.status}`).trim()}`);
      cleanups.push(() => {
        spawnSync('umount', ['-l', fsDir]);
      });
      const run = (args: string[]) => mvm(args, { cwd: fsDir });
      write(join(fsDir, 'models/small.bin'), randomBytes(100_000, 14));
      ok(run(['init', '--chunk-size', String(CHUNK)]));
      ok(run(['add', 'models']));
      const v1 = json(run(['commit', '-m', 'small', '--json']));
      const mainRef = readFileSync(join(fsDir, '.mvm/refs/heads/main'), 'utf8');

      write(join(fsDir, 'models/big.bin'), randomBytes(4 << 20, 15)); // incompressible
      const r = run(['commit', '-m', 'big', '--json']);
      expectError(r, 'DISK_FULL');
      expect(readFileSync(join(fsDir, '.mvm/refs/heads/main'), 'utf8')).toBe(mainRef);
      // still full: reads work and the history is intact
      const log = json<any[]>(run(['log', '--json']));
      expect(log.map((e) => e.id)).toEqual([v1.id]);
      expect(json(run(['fsck', '--json'])).ok).toBe(true);
      expect(json(run(['status', '--json'])).changes).toEqual([{ path: 'models/big.bin', status: 'added' }]);

      // free the space and carry on
      rmSync(join(fsDir, 'models/big.bin'));
      write(join(fsDir, 'models/small.bin'), randomBytes(100_000, 16));
      expect(json(run(['commit', '-m', 'after', '--json'])).number).toBe(2);
      expect(json(run(['fsck', '--json'])).ok).toBe(true);
      ok(run(['checkout', 'v1']));
      expect(readFileSync(join(fsDir, 'models/small.bin')).equals(randomBytes(100_000, 14))).toBe(true);
    },
  );
});
