import { describe, expect, it } from 'vitest';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';
import { Repository } from '../../../src/repo/repository/repository.js';

/** A runner of mvm in t/w (with `env`), after `mvm init` there. */
function initW(t: ReturnType<typeof testdir>, env: Record<string, string> = {}) {
  const run = (args: string[]) => mvm(args, { cwd: t.path('w'), env });
  ok(run(['init']));
  return run;
}

type FileEntry = ReturnType<Repository['version']>['files'][string];

/**
 * In t/w (holding models/a.bin), with `env` for every run: version v1 committed by mvm, then a version written by
 * hand on top of it with models/a.bin and the entries `extra` gives for a.bin's entry, tagged evil.
 */
function handMadeVersion(
  t: ReturnType<typeof testdir>,
  env: Record<string, string>,
  extra: (entry: FileEntry) => Record<string, FileEntry>,
) {
  const run = initW(t, env);
  ok(run(['add', 'models']));
  const v1 = json(run(['commit', '-m', 'v1', '--json'])).id as string;
  const repo = Repository.open(t.path('w'));
  const good = repo.version(v1);
  const entry = good.files['models/a.bin']!;
  const files = { 'models/a.bin': entry, ...extra(entry) };
  const evil = repo.putObject({ ...good, parents: [v1], message: 'evil', files });
  repo.refs.write('refs/tags/evil', evil);
  return { run, repo, v1, evil };
}

// A repository whose newest version was written by hand (as a tampered copy or a hostile remote would hold it).
describe('a hand-made hostile version', () => {
  it(
    'checkout refuses it with UNSAFE_VERSION and writes nothing; fsck reports it; revision names cannot leave ' +
      '.mvm/refs',
    () => {
      const t = testdir({ 'w/models/a.bin': 'model bytes', 'outside.txt': 'keep me' });
      try {
        const { run, v1, evil } = handMadeVersion(t, {}, (entry) => ({
          '../outside.txt': entry,
          '.git/hooks/post-checkout': { ...entry, mode: 0o755 },
          '.mvm/config.json': entry,
          'models/x': { ...entry, mode: 0o4755 },
        }));
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
    },
  );
});

describe("every command that writes a version's files checks it as checkout does", () => {
  it(
    'eval, get, export and deploy --export refuse a hand-made version with ../ paths and setuid modes ' +
      '(UNSAFE_VERSION) and write nothing outside',
    () => {
      const t = testdir({ 'w/models/a.bin': 'model bytes', 'tmp/.keep': '' });
      try {
        // eval's temporary folder is made under TMPDIR: a path climbing out of it would land in t/ or t/tmp/
        const { run, repo, evil } = handMadeVersion(t, { TMPDIR: t.path('tmp') }, (entry) => ({
          '../escaped.txt': entry,
          '../../outside.txt': entry,
          'models/x': { ...entry, mode: 0o4755 },
        }));
        // a number, as a hostile registry would give it, so export and deploy reach the writing
        repo.numbers.append(evil);
        const outside = () =>
          [
            t.path('escaped.txt'),
            t.path('outside.txt'),
            t.path('tmp/escaped.txt'),
            t.path('tmp/outside.txt'),
            t.path('serve/escaped.txt'),
            t.path('serve/m/escaped.txt'),
          ].filter((p) => existsSync(p));
        const e = expectError(
          run(['eval', 'v1', 'evil', '--json', '--', 'sh', '-c', 'echo \'{"acc": 1}\'']),
          'UNSAFE_VERSION',
          7,
        );
        expect(e.data.problems).toHaveLength(3);
        expect(outside()).toEqual([]);
        expect(readdirSync(t.path('tmp'))).toEqual(['.keep']);
        // nothing was recorded for v1 either: the whole run was refused before it started
        expect(json(run(['show', 'v1', '--json'])).annotations ?? []).toEqual([]);
        expectError(run(['get', 'evil', 'models/a.bin', '-o', t.path('got.bin'), '--json']), 'UNSAFE_VERSION', 7);
        expectError(
          run(['export', 'evil', t.path('serve'), '--layout', 'triton', '--name', 'm', '--json']),
          'UNSAFE_VERSION',
          7,
        );
        expectError(
          run(['deploy', 'evil', '--export', t.path('serve'), '--layout', 'triton', '--name', 'm', '--json']),
          'UNSAFE_VERSION',
          7,
        );
        expect(outside()).toEqual([]);
        expect(existsSync(t.path('got.bin'))).toBe(false);
        expect(existsSync(t.path('serve/m/2'))).toBe(false);
        // the good version still evaluates, in a folder that is gone afterwards
        const ran = json(
          run([
            'eval',
            'v1',
            '--json',
            '--dry-run',
            '--',
            'sh',
            '-c',
            'test -f "$MVM_PATH/models/a.bin" && echo \'{"acc": 1}\'',
          ]),
        );
        expect(ran.runs.map((r: { ok: boolean }) => r.ok)).toEqual([true]);
        expect(readdirSync(t.path('tmp'))).toEqual(['.keep']);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('the workspace itself as an attacker leaves it', () => {
  it(
    'a tracked folder swapped for a symlink to a folder outside: checkout refuses to write or delete through it ' +
      '(SYMLINK_IN_PATH); --force replaces the link, never its target',
    () => {
      const t = testdir({
        'w/models/a.bin': 'v1 bytes',
        'w/models/gone.bin': 'only in v1',
        'outside/keep.txt': 'keep me',
      });
      try {
        const run = initW(t);
        ok(run(['add', 'models']));
        ok(run(['commit', '-m', 'v1']));
        writeFileSync(t.path('w/models/a.bin'), 'v2 bytes');
        rmSync(t.path('w/models/gone.bin'));
        ok(run(['commit', '-m', 'v2']));
        // the attacker: models/ now points outside, holding a file named like a tracked one
        rmSync(t.path('w/models'), { recursive: true });
        writeFileSync(t.path('outside/a.bin'), 'v2 bytes');
        symlinkSync(t.path('outside'), t.path('w/models'));
        const outside = () =>
          Object.fromEntries(
            readdirSync(t.path('outside')).map((n) => [n, readFileSync(t.path(`outside/${n}`), 'utf8')]),
          );
        const before = outside();
        const e = expectError(run(['checkout', 'v1', '--json']), 'SYMLINK_IN_PATH', 5);
        expect(e.data.paths).toEqual(['models']);
        expect(outside()).toEqual(before);
        ok(run(['checkout', 'v1', '--force']));
        expect(outside()).toEqual(before);
        expect(lstatSync(t.path('w/models')).isDirectory()).toBe(true);
        expect(readFileSync(t.path('w/models/a.bin'), 'utf8')).toBe('v1 bytes');
        expect(readFileSync(t.path('w/models/gone.bin'), 'utf8')).toBe('only in v1');
        expect(json(run(['status', '--json'])).clean).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'add and commit refuse a tracked path under a symlinked folder at any depth (SYMLINK_IN_PATH), so nothing ' +
      'outside is stored',
    () => {
      const t = testdir({
        'w/models/sub/w.bin': 'v1 bytes',
        'w/other.bin': 'o',
        'outside/w.bin': 'secret outside',
        'outside/sub/w.bin': 'secret deeper',
      });
      try {
        const run = initW(t);
        // mvm add lnk/w.bin, lnk a symlink to a folder outside (a top-level `mvm add lnk` was already refused)
        symlinkSync(t.path('outside'), t.path('w/lnk'));
        for (const p of ['lnk/w.bin', 'lnk/sub/w.bin', 'lnk/sub']) {
          const e = expectError(run(['add', p, '--json']), 'SYMLINK_IN_PATH', 5);
          expect(e.data.paths).toEqual(['lnk']);
        }
        expectError(run(['add', 'lnk', '--json']), 'BAD_ARGUMENT', 2);
        expect(readFileSync(t.path('w/.mvm/tracked.json'), 'utf8')).not.toContain('lnk');
        rmSync(t.path('w/lnk'));
        // tracked paths at two depths, committed; then their folder becomes a link to the outside
        ok(run(['add', 'models/sub/w.bin', 'other.bin']));
        const v1 = json(run(['commit', '-m', 'v1', '--json'])).id as string;
        rmSync(t.path('w/models'), { recursive: true });
        symlinkSync(t.path('outside'), t.path('w/models'));
        const e = expectError(run(['commit', '-m', 'v2', '--json']), 'SYMLINK_IN_PATH', 5);
        expect(e.data.paths).toEqual(['models']);
        expect(e.data.tracked).toEqual(['models/sub/w.bin']);
        expectError(run(['status', '--json']), 'SYMLINK_IN_PATH', 5);
        // one level down too: models is real again, models/sub is the link
        rmSync(t.path('w/models'));
        mkdirSync(t.path('w/models'));
        symlinkSync(t.path('outside/sub'), t.path('w/models/sub'));
        expect(expectError(run(['commit', '-m', 'v2', '--json']), 'SYMLINK_IN_PATH', 5).data.paths).toEqual([
          'models/sub',
        ]);
        // a tracked folder that is itself the link
        rmSync(t.path('w/models/sub'));
        mkdirSync(t.path('w/models/sub'));
        writeFileSync(t.path('w/models/sub/w.bin'), 'v1 bytes');
        ok(run(['rm', 'models/sub/w.bin']));
        ok(run(['add', 'models']));
        rmSync(t.path('w/models'), { recursive: true });
        symlinkSync(t.path('outside'), t.path('w/models'));
        expect(expectError(run(['commit', '-m', 'v2', '--json']), 'SYMLINK_IN_PATH', 5).data.paths).toEqual(['models']);
        // nothing from outside was stored: v1 is still the only version
        const repo = Repository.open(t.path('w'));
        expect(repo.headId()).toBe(v1);
        expect(repo.numbers.readAll()).toEqual([v1]);
        // checkout --force replaces the link (never its target) and brings v1 back
        ok(run(['checkout', 'v1', '--force']));
        expect(lstatSync(t.path('w/models/sub')).isDirectory()).toBe(true);
        expect(readFileSync(t.path('w/models/sub/w.bin'), 'utf8')).toBe('v1 bytes');
        expect(readFileSync(t.path('outside/sub/w.bin'), 'utf8')).toBe('secret deeper');
        expect(readFileSync(t.path('outside/w.bin'), 'utf8')).toBe('secret outside');
      } finally {
        t.cleanup();
      }
    },
  );

  it('a file that becomes a folder between versions (and back) checks out both ways', () => {
    const t = testdir({ 'w/models/net': 'a single file' });
    try {
      const run = initW(t);
      ok(run(['add', 'models']));
      ok(run(['commit', '-m', 'file']));
      rmSync(t.path('w/models/net'));
      mkdirSync(t.path('w/models/net'));
      writeFileSync(t.path('w/models/net/a.bin'), 'a');
      writeFileSync(t.path('w/models/net/b.bin'), 'b');
      ok(run(['commit', '-m', 'folder']));
      ok(run(['checkout', 'v1']));
      expect(readFileSync(t.path('w/models/net'), 'utf8')).toBe('a single file');
      expect(json(run(['status', '--json'])).clean).toBe(true);
      ok(run(['checkout', 'v2']));
      expect(readdirSync(t.path('w/models/net')).sort()).toEqual(['a.bin', 'b.bin']);
      expect(json(run(['status', '--json'])).clean).toBe(true);
      // an untracked file inside the folder is not thrown away
      writeFileSync(t.path('w/models/net/mine.txt'), 'mine');
      const e = expectError(run(['checkout', 'v1', '--json']), 'UNCOMMITTED_CHANGES', 5);
      expect(e.message).toContain('models/net/mine.txt');
      expect(readFileSync(t.path('w/models/net/mine.txt'), 'utf8')).toBe('mine');
    } finally {
      t.cleanup();
    }
  });

  it('HEAD or a ref holding a path out of .mvm is REF_CORRUPT and nothing is written through it', () => {
    const t = testdir({ 'w/models/a.bin': 'x', 'outside.txt': 'keep me' });
    try {
      const run = initW(t);
      ok(run(['add', 'models']));
      ok(run(['commit', '-m', 'v1']));
      writeFileSync(t.path('w/.mvm/HEAD'), 'ref: refs/../../../outside.txt\n');
      writeFileSync(t.path('w/models/a.bin'), 'y');
      expectError(run(['commit', '-m', 'v2', '--json']), 'REF_CORRUPT', 7);
      expectError(run(['status', '--json']), 'REF_CORRUPT', 7);
      expect(readFileSync(t.path('outside.txt'), 'utf8')).toBe('keep me');
    } finally {
      t.cleanup();
    }
  });
});
