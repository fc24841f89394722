import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';
import { s3Objects } from '../../helpers/s3objects.js';
import { Repository } from '../../../src/repo/repository/repository.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { canonicalJson } from '../../../src/core/canonical.js';

// What a remote's registry, refs and pack indexes may say: only versions held
// here get numbers (in one write), a version whose push lost the ref swap is
// never numbered, and huge or lying files are REMOTE_CORRUPT before they are read.
let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3(['limits-bucket']);
});
afterAll(async () => {
  await s3?.stop();
});

let seq = 0;
const objects = s3Objects(() => s3, 'limits-bucket');

type Backend = {
  name: string;
  url(t: ReturnType<typeof testdir>): string;
  env(): Record<string, string>;
  args(): string[];
  put(url: string, key: string, data: Buffer): Promise<void>;
  get(url: string, key: string): Promise<Buffer>;
  del(url: string, key: string): Promise<void>;
};
const BACKENDS: Backend[] = [
  {
    name: 'folder',
    url: (t) => t.path('remote'),
    env: () => ({}),
    args: () => [],
    put: async (url, key, data) => writeFileSync(join(url, key), data),
    get: async (url, key) => readFileSync(join(url, key)),
    del: async (url, key) => rmSync(join(url, key)),
  },
  {
    name: 's3',
    url: () => `s3://limits-bucket/r${process.pid}-${++seq}`,
    env: () => s3.env,
    args: () => ['--endpoint', s3.endpoint],
    put: objects.put,
    get: objects.get,
    del: objects.del,
  },
];

/** A workspace with one version pushed to `url`. */
function origin(b: Backend, t: ReturnType<typeof testdir>, url: string, name = 'a') {
  const dir = t.path(name);
  const run = (args: string[], env: Record<string, string> = {}) =>
    mvm(args, { cwd: dir, env: { ...b.env(), ...env } });
  write(join(dir, 'm.bin'), randomBytes(20_000, 3));
  ok(run(['init']));
  ok(run(['add', 'm.bin']));
  const v1 = json(run(['commit', '-m', 'v1', '--json'])).id as string;
  ok(run(['remote', 'add', 'origin', url, ...b.args()]));
  ok(run(['push']));
  return { dir, run, v1 };
}

const cloneRun = (
  b: Backend,
  t: ReturnType<typeof testdir>,
  url: string,
  name: string,
  env: Record<string, string> = {},
) => mvm(['clone', url, name, ...b.args(), '--json'], { cwd: t.dir, env: { ...b.env(), ...env } });
const lines = (ids: string[]) => Buffer.from(ids.map((id) => `${id}\n`).join(''), 'latin1');
const hex = (n: number) => blake3Hex(Buffer.from(`missing-${n}`));

describe('registry adoption', () => {
  it(
    'only versions held here are numbered, in one write: missing ids, a file object and repeats are burned, never ' +
      'written',
    async () => {
      const t = testdir();
      try {
        const b = BACKENDS[0]!;
        const url = b.url(t);
        const a = origin(b, t, url);
        write(join(a.dir, 'm.bin'), 'v2\n');
        const v2 = json(a.run(['commit', '-m', 'v2', '--json'])).id as string;
        ok(a.run(['push']));
        const fileId = Repository.open(a.dir).version(a.v1).files['m.bin']!.file;
        const junk = Array.from({ length: 2000 }, (_, i) => hex(i));
        writeFileSync(join(url, 'numbers'), lines([a.v1, v2, fileId, hex(-1), a.v1, v2, ...junk]));
        const log = t.path('faults.log');
        json(cloneRun(b, t, url, 'c', { MVM_FAULT: 'count', MVM_FAULT_LOG: log }));
        const c = t.path('c');
        const numbers = readFileSync(join(c, '.mvm/numbers'), 'latin1').split('\n').slice(0, -1);
        expect(numbers.slice(0, 2)).toEqual([a.v1, v2]);
        expect(numbers.length).toBe(6 + junk.length);
        expect(numbers.slice(2).every((l) => l === '-'.repeat(64))).toBe(true);
        // one append for the whole registry (each entry was its own append, re-reading the log)
        const appends = readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => / append .*numbers$/.test(l));
        expect(appends.length).toBe(1);
        const shown = json(mvm(['log', '--json'], { cwd: c }));
        expect(shown.map((e: { number: number }) => e.number)).toEqual([2, 1]);
        expect(json(mvm(['fsck', '--json'], { cwd: c })).ok).toBe(true);
        // a line an older mvm adopted unchecked (a file object) goes at the next fetch
        writeFileSync(
          join(c, '.mvm/numbers'),
          readFileSync(join(c, '.mvm/numbers'), 'latin1') + `${fileId}\n`,
          'latin1',
        );
        ok(mvm(['fetch'], { cwd: c }));
        expect(readFileSync(join(c, '.mvm/numbers'), 'latin1')).not.toContain(fileId);
        expect(json(mvm(['fsck', '--json'], { cwd: c })).ok).toBe(true);
        // a later commit here has no number until its push, which numbers it after the registry
        write(join(c, 'm.bin'), 'v3\n');
        const v3 = json(mvm(['commit', '-m', 'v3', '--json'], { cwd: c }));
        expect(v3.number).toBe(null);
        const pushed = json(mvm(['push', '--json'], { cwd: c }));
        expect(pushed.newNumbers).toEqual([{ id: v3.id, number: numbers.length + 1 }]);
      } finally {
        t.cleanup();
      }
    },
  );

  it('a push that lost the ref swap after sending its packs never gets its version numbered on the remote', () => {
    const t = testdir();
    try {
      const b = BACKENDS[0]!;
      const url = b.url(t);
      const a = origin(b, t, url);
      json(cloneRun(b, t, url, 'b'));
      const bRun = (args: string[]) => mvm(args, { cwd: t.path('b') });
      write(join(a.dir, 'mine.txt'), 'mine\n');
      ok(a.run(['add', 'mine.txt']));
      const orphan = json(a.run(['commit', '-m', 'a2', '--json'])).id as string;
      // find the fault point of the ref swap on a copy, then make it fail on the real push
      cpSync(a.dir, t.path('a-copy'), { recursive: true });
      cpSync(url, t.path('remote-copy'), { recursive: true });
      writeFileSync(
        t.path('a-copy/.mvm/remotes.json'),
        JSON.stringify({ remotes: { origin: { url: t.path('remote-copy') } } }),
      );
      const log = t.path('count.log');
      ok(mvm(['push'], { cwd: t.path('a-copy'), env: { MVM_FAULT: 'count', MVM_FAULT_LOG: log } }));
      const point = readFileSync(log, 'utf8')
        .split('\n')
        .find((l) => / write .* refs\/heads\/main$/.test(l))!
        .split(' ')[0];
      expectError(a.run(['push', '--json'], { MVM_FAULT: `fail:${point}` }), 'IO_ERROR', 8);
      // its packs (and manifest) are on the remote, the ref is not moved
      expect(readFileSync(join(url, 'refs/heads/main'), 'utf8').trim()).toBe(a.v1);
      expect(
        readdirSync(join(url, 'packs')).some(
          (f) => f.endsWith('.idx') && readFileSync(join(url, 'packs', f), 'utf8').includes(orphan),
        ),
      ).toBe(true);
      // someone else wins, a rebases and pushes
      write(join(t.path('b'), 'm.bin'), 'theirs\n');
      const theirs = json(bRun(['commit', '-m', 'b2', '--json'])).id as string;
      ok(bRun(['push']));
      const rebased = json(a.run(['pull', '--rebase', '--json']));
      expect(rebased.outcome).toBe('rebased');
      ok(a.run(['push']));
      const registry = readFileSync(join(url, 'numbers'), 'latin1').split('\n').slice(0, -1);
      expect(registry).toEqual([a.v1, theirs, rebased.to]);
      expect(registry).not.toContain(orphan);
      json(cloneRun(b, t, url, 'c'));
      expect(json(mvm(['fsck', '--json'], { cwd: t.path('c') })).ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});

describe.each(BACKENDS)('what a remote says is checked before it is read, on $name', (b) => {
  it('a huge ref, a huge or garbled registry: REMOTE_CORRUPT at once, nothing cloned', async () => {
    const t = testdir();
    try {
      const url = b.url(t);
      const a = origin(b, t, url);
      const ref = await b.get(url, 'refs/heads/main');
      const registry = await b.get(url, 'numbers');
      const big = async (key: string) => {
        // a sparse 1 GiB file in a folder; on S3 just past the limit of its kind
        if (b.name === 'folder') truncateSync(join(url, key), 1 << 30);
        else await b.put(url, key, Buffer.alloc(key === 'numbers' ? (64 << 20) + 65 : 2048, 0x30));
      };
      await big('refs/heads/main');
      expectError(cloneRun(b, t, url, 'c1'), 'REMOTE_CORRUPT', 7);
      expect(existsSync(t.path('c1'))).toBe(false);
      await b.put(url, 'refs/heads/main', ref);
      await b.put(url, 'numbers', Buffer.concat([registry, Buffer.alloc(65, 0)]));
      expectError(cloneRun(b, t, url, 'c2'), 'REMOTE_CORRUPT', 7);
      expect(existsSync(t.path('c2'))).toBe(false);
      if (b.name === 'folder') {
        await big('numbers');
        const started = Date.now();
        expectError(cloneRun(b, t, url, 'c3'), 'REMOTE_CORRUPT', 7);
        expect(Date.now() - started).toBeLessThan(60_000);
      }
      await b.put(url, 'numbers', registry);
      expect(json(cloneRun(b, t, url, 'ok')).id).toBe(a.v1);
    } finally {
      t.cleanup();
    }
  });

  it('a pack index whose entry runs past its pack or past 4 GiB: REMOTE_CORRUPT naming the pack', async () => {
    const t = testdir();
    try {
      const url = b.url(t);
      const a = origin(b, t, url);
      const cache = join(a.dir, '.mvm/remotes/origin/packs');
      // the pack holding the manifest (packs are named by the hash of their object list)
      const idxFile = readdirSync(cache).find((f) => readFileSync(join(cache, f), 'utf8').includes(`"${a.v1}"`))!;
      const pack = idxFile.slice(0, 64);
      const index = JSON.parse(readFileSync(join(cache, idxFile), 'utf8')) as {
        format: number;
        pack: string;
        objects: [string, number, number][];
      };
      const packBytes = await b.get(url, `packs/${pack}.pack`);
      // only the lying index names the manifest
      await b.del(url, `packs/${pack}.idx`);
      for (const [i, length] of [
        [1, index.objects[0]![2] + 10],
        [2, 2 ** 33],
      ] as const) {
        const objects: [string, number, number][] = [[index.objects[0]![0], 0, length]];
        const id = blake3Hex(Buffer.from(canonicalJson(objects)));
        await b.put(url, `packs/${id}.pack`, packBytes);
        await b.put(url, `packs/${id}.idx`, Buffer.from(JSON.stringify({ format: index.format, pack: id, objects })));
        const err = expectError(cloneRun(b, t, url, `c${i}`), 'REMOTE_CORRUPT', 7);
        expect(JSON.stringify(err.data) + err.message).toContain(id);
        expect(existsSync(t.path(`c${i}`))).toBe(false);
        await b.del(url, `packs/${id}.idx`);
      }
    } finally {
      t.cleanup();
    }
  });
});
