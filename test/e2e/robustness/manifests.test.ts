import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, testdir, type RunResult } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { Repository } from '../../../src/repo/repository/repository.js';
import { isStored, storedBytes as storedBytesOf } from '../../helpers/storedObjects.js';
import { buildPack, indexKey, packKey } from '../../../src/storage/remote/packs.js';

// Manifests through one door: a version, file object or annotation with a
// field of the wrong type is refused at fetch (REMOTE_CORRUPT, nothing
// stored) and, placed in .mvm/ by hand, reported by fsck and skipped by the
// index, never a crash of log, status, commit or fsck --repair.

/** A version like `base` with `change` applied, stored as-is (no checks) in `repo`; its id. */
function putRawVersion(repo: Repository, base: string, change: Record<string, unknown>): string {
  const raw = JSON.parse(repo.objects.get(base).toString('utf8')) as Record<string, unknown>;
  return repo.objects.put(Buffer.from(JSON.stringify({ ...raw, parents: [base], message: 'hostile', ...change })));
}

/** The stored bytes of an object, as a pack holds them. */
const storedBytes = (repo: Repository, id: string) => storedBytesOf(repo.objects.dir, id);

/** Workspace `dir` of `t`, holding models/: init, add and commit v1; `open` opens its repository for hand edits. */
function modelsAtV1(t: ReturnType<typeof testdir>, dir: string) {
  const run = (args: string[], cwd = t.path(dir)) => mvm(args, { cwd });
  ok(run(['init']));
  ok(run(['add', 'models']));
  const v1 = json(run(['commit', '-m', 'v1', '--json'])).id as string;
  return { run, v1, open: () => Repository.open(t.path(dir)) };
}

/** No crash: an exit code mvm chose and no stack trace. */
function noCrash(r: RunResult): void {
  expect(r.stderr).not.toMatch(/TypeError|internal error|\n\s+at /);
  expect(r.exitCode).not.toBe(70);
}

describe('a version with deps.data "x"', () => {
  it('on a folder remote is refused by fetch and clone with REMOTE_CORRUPT; nothing stored, fsck clean', () => {
    const t = testdir({ 'a/models/w.bin': 'weights v1' });
    try {
      const { run, v1, open } = modelsAtV1(t, 'a');
      const url = t.path('remote');
      ok(run(['remote', 'add', 'origin', url]));
      ok(run(['push']));
      ok(mvm(['clone', url, 'c', '--full'], { cwd: t.dir }));
      // the hostile remote: a pack holding the manifest, its index, and main moved to it
      const repo = open();
      const evil = putRawVersion(repo, v1, { deps: { data: 'x' } });
      const pack = buildPack([{ id: evil, length: storedBytes(repo, evil).length }], (id) => storedBytes(repo, id));
      writeFileSync(join(url, packKey(pack.id)), pack.data);
      writeFileSync(join(url, indexKey(pack.id)), JSON.stringify(pack.index));
      writeFileSync(join(url, 'refs', 'heads', 'main'), `${evil}\n`);

      const c = (args: string[]) => mvm(args, { cwd: t.path('c') });
      const err = expectError(c(['fetch', '--json']), 'REMOTE_CORRUPT', 7);
      expect(err.data.id).toBe(evil);
      expect(isStored(t.path('c/.mvm/objects'), evil)).toBe(false);
      expect(json(c(['fsck', '--json'])).ok).toBe(true);
      // log, status and commit go on as before
      ok(c(['log']));
      expect(json(c(['status', '--json'])).clean).toBe(true);
      expectError(c(['pull', '--json']), 'REMOTE_CORRUPT', 7);
      expect(json(c(['fsck', '--json'])).ok).toBe(true);

      expectError(mvm(['clone', url, 'd', '--json'], { cwd: t.dir }), 'REMOTE_CORRUPT', 7);
      expect(existsSync(t.path('d'))).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it(
    'placed in .mvm by hand: fsck reports it, the index skips it, log, status, commit and fsck --repair never ' +
      'crash',
    () => {
      const t = testdir({ 'w/models/w.bin': 'weights v1' });
      try {
        const { run, v1, open } = modelsAtV1(t, 'w');
        const repo = open();
        const evil = putRawVersion(repo, v1, { deps: { data: 'x' } });
        const evilMeta = putRawVersion(repo, v1, { meta: { k: { nested: true } } });
        // numbered and tagged, as a fetch of an older mvm left them
        repo.numbers.append(evil);
        repo.numbers.append(evilMeta);
        repo.refs.write('refs/tags/evil', evil);

        const f = run(['fsck', '--json']);
        expect(f.exitCode).toBe(7);
        const problems = JSON.parse(f.stdout).problems as { kind: string; id: string; message: string }[];
        expect(problems.map((p) => [p.kind, p.id]).sort()).toEqual(
          [
            ['corrupt', evil],
            ['corrupt', evilMeta],
          ].sort(),
        );
        expect(problems.find((p) => p.id === evil)!.message).toContain('deps.data');

        const log = run(['log', '--json']);
        noCrash(log);
        expect(json(log).map((e: { id: string }) => e.id)).toEqual([v1]);
        noCrash(run(['log', '--all']));
        expect(json(run(['status', '--json'])).clean).toBe(true);
        write(t.path('w/models/w.bin'), 'weights v2');
        const v2 = json(run(['commit', '-m', 'v2', '--json']));
        expect(v2.number).toBe(4);
        expectError(run(['show', 'evil', '--json']), 'OBJECT_CORRUPT', 7);

        const repaired = run(['fsck', '--repair', '--json']);
        noCrash(repaired);
        expect(JSON.parse(repaired.stdout).repaired.join('\n')).toContain(evil);
        noCrash(run(['log']));
        expect(json(run(['status', '--json'])).clean).toBe(true);

        // as HEAD itself: a clear OBJECT_CORRUPT from every command, never a TypeError
        const evil2 = putRawVersion(repo, v2.id, { git: 'main' });
        repo.refs.write('refs/heads/main', evil2);
        for (const args of [['log'], ['status'], ['commit', '-m', 'v3'], ['fsck']]) noCrash(run(args));
        expectError(run(['status', '--json']), 'OBJECT_CORRUPT', 7);
        noCrash(run(['fsck', '--repair']));
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'a file object whose tensor runs past the file, or an annotation whose note is a number, is reported by fsck, ' +
      'never a crash',
    () => {
      const t = testdir({ 'w/models/w.bin': 'weights v1' });
      try {
        const { run, v1, open } = modelsAtV1(t, 'w');
        const repo = open();
        const entry = repo.version(v1).files['models/w.bin']!;
        const raw = JSON.parse(repo.objects.get(entry.file).toString('utf8'));
        const badFile = repo.objects.put(
          Buffer.from(
            JSON.stringify({
              ...raw,
              layout: {
                format: 'safetensors',
                tensors: [{ name: 't', dtype: 'F32', shape: [1], start: 0, end: 1 << 30, chunkStart: 0, chunkEnd: 1 }],
              },
            }),
          ),
        );
        const evil = putRawVersion(repo, v1, { files: { 'models/w.bin': { ...entry, file: badFile } } });
        repo.refs.write('refs/tags/evil', evil);
        const ann = repo.objects.put(
          Buffer.from(
            JSON.stringify({
              type: 'annotation',
              format: 1,
              target: v1,
              author: 'a',
              time: 't',
              metrics: { f1: 'high' },
              note: 5,
            }),
          ),
        );
        mkdirSync(t.path('w/.mvm/logs'), { recursive: true });
        writeFileSync(t.path('w/.mvm/logs/annotations'), `${JSON.stringify({ target: v1, annotation: ann })}\n`, {
          flag: 'a',
        });
        const f = run(['fsck', '--json']);
        noCrash(f);
        const problems = JSON.parse(f.stdout).problems as { kind: string; id: string }[];
        expect(problems.map((p) => [p.kind, p.id]).sort()).toEqual(
          [
            ['corrupt', ann],
            ['corrupt', badFile],
          ].sort(),
        );
        // show names the damaged annotation (as it does a missing one); log leaves it out; neither crashes
        noCrash(run(['show', 'v1']));
        expectError(run(['show', 'v1', '--json']), 'OBJECT_CORRUPT', 7);
        expect(json(run(['log', '--json']))[0].metrics).toEqual({});
        expectError(run(['diff', 'v1', 'evil', '--json']), 'OBJECT_CORRUPT', 7);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('.mvm/config.json with a setting of the wrong type', () => {
  it('is REF_CORRUPT naming the setting, never a crash (a chunk size of "abc" died in the chunker)', () => {
    const t = testdir({ 'w/models/w.bin': 'weights v1' });
    try {
      const run = (args: string[]) => mvm(args, { cwd: t.path('w') });
      ok(run(['init']));
      ok(run(['add', 'models']));
      const path = t.path('w/.mvm/config.json');
      const good = JSON.parse(readFileSync(path, 'utf8'));
      for (const [field, value] of [
        ['chunkSize', 'abc'],
        ['chunkSize', 0],
        ['compressionLevel', 'max'],
        ['fsync', 'always'],
        ['partial', 5],
      ] as const) {
        writeFileSync(path, JSON.stringify({ ...good, [field]: value }));
        const e = expectError(run(['commit', '-m', 'v1', '--json']), 'REF_CORRUPT', 7);
        expect(e.data.field).toBe(field);
      }
      writeFileSync(path, '[1]');
      expectError(run(['status', '--json']), 'REF_CORRUPT', 7);
      writeFileSync(path, JSON.stringify(good));
      ok(run(['commit', '-m', 'v1']));
    } finally {
      t.cleanup();
    }
  });
});

describe('names that are also names of Object.prototype', () => {
  it(
    '__proto__ and constructor at the workspace root are stored, noticed when deleted, and restored by checkout ' +
      '--force',
    () => {
      const t = testdir({ 'w/__proto__': 'proto bytes', 'w/constructor': 'ctor bytes', 'w/m/__proto__': 'inner' });
      try {
        const run = (args: string[]) => mvm(args, { cwd: t.path('w') });
        ok(run(['init']));
        ok(run(['add', '__proto__', 'constructor', 'm']));
        const prototypeNames = ['--metric', 'constructor=1', '--param', '__proto__=2', '--meta', 'toString=x'];
        const c = json(run(['commit', '-m', 'v1', ...prototypeNames, '--json']));
        expect(c.files).toBe(3);
        const v = json(run(['show', 'HEAD', '--json'])).version;
        expect(Object.keys(v.files).sort()).toEqual(['__proto__', 'constructor', 'm/__proto__']);
        expect(v.metrics).toEqual({ constructor: 1 });
        expect(Object.keys(v.params)).toEqual(['__proto__']);
        expect(v.meta).toEqual({ toString: 'x' });
        // the workspace diff sees a changed __proto__ (its map dropped it before)
        writeFileSync(t.path('w/__proto__'), 'changed');
        const d = json(run(['diff', '--json']));
        expect(
          d.files
            .filter((f: { status: string }) => f.status !== 'unchanged')
            .map((f: { path: string; status: string }) => [f.path, f.status]),
        ).toEqual([['__proto__', 'modified']]);
        rmSync(t.path('w/__proto__'));
        rmSync(t.path('w/constructor'));
        expect(json(run(['status', '--json'])).changes).toEqual([
          { path: '__proto__', status: 'deleted' },
          { path: 'constructor', status: 'deleted' },
        ]);
        ok(run(['checkout', 'HEAD', '--force']));
        expect(readFileSync(t.path('w/__proto__'), 'utf8')).toBe('proto bytes');
        expect(readFileSync(t.path('w/constructor'), 'utf8')).toBe('ctor bytes');
        expect(json(run(['status', '--json'])).clean).toBe(true);
        // a metric that is only on Object.prototype is no metric
        expectError(run(['best', '--metric', 'toString', '--json']), 'NO_VERSIONS', 4);
        expect(json(run(['best', '--metric', 'constructor', '--json'])).value).toBe(1);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('a file name with a backslash', () => {
  it('is stored on Linux and comes back through push, clone and checkout', () => {
    const t = testdir({ 'w/models/a\\b.bin': 'back', 'w/x\\y': 'slash' });
    try {
      const run = (args: string[], cwd = t.path('w')) => mvm(args, { cwd });
      ok(run(['init']));
      ok(run(['add', 'models', 'x\\y']));
      ok(run(['commit', '-m', 'v1']));
      ok(run(['remote', 'add', 'origin', t.path('remote')]));
      ok(run(['push']));
      ok(mvm(['clone', t.path('remote'), 'c'], { cwd: t.dir }));
      expect(readdirSync(t.path('c/models'))).toEqual(['a\\b.bin']);
      expect(readFileSync(t.path('c/x\\y'), 'utf8')).toBe('slash');
      expect(json(run(['fsck', '--json'], t.path('c'))).ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
