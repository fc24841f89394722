import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir, type RunResult } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';
import { BACKENDS, makeOrigin, startRemoteS3, stopRemoteS3, workspace, type Backend } from '../../helpers/remotes.js';
import { Repository } from '../../../src/repo/repository/repository.js';
import { corruptStored, removeStored } from '../../helpers/storedObjects.js';

// Healing: a damaged remote is found by fsck --remote and mended by push --repair
// from a good repository (on a folder and on s3rver); a store refetches what
// fsck --repair set aside.
beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

/** A repository with a version of three files pushed to `url` (each chunk in a pack of its own). */
function origin(b: Backend, t: ReturnType<typeof testdir>, url: string) {
  const a = makeOrigin(b, t, url, { 'models/second.bin': randomBytes(300_000, 9) });
  ok(a.run(['push']));
  return a;
}

/** The remote's pack indexes as the pushing repository cached them: pack id -> object ids. */
function packsOf(a: { path: (p: string) => string }): Map<string, string[]> {
  const dir = a.path('.mvm/remotes/origin/packs');
  return new Map(
    readdirSync(dir).map((f) => [
      f.slice(0, 64),
      (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { objects: [string][] }).objects.map((o) => o[0]),
    ]),
  );
}

/** fsck --remote --json: its exit code and report. */
function fsckRemote(a: { run: (args: string[]) => RunResult }): {
  code: number;
  r: { ok: boolean; problems: { kind: string; id?: string; pack?: string; ref?: string }[] };
} {
  const out = a.run(['fsck', '--remote', 'origin', '--json']);
  expect(out.stderr).toBe('');
  return { code: out.exitCode, r: JSON.parse(out.stdout) };
}

describe.each(BACKENDS)('healing a remote on $name', (b) => {
  it(
    'a flipped byte in a pack, a deleted index and a garbled ref: fsck --remote names each (exit 7), push --repair ' +
      'mends them, fsck --remote is clean and a fresh clone is bit-exact',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'heal');
        const a = origin(b, t, url);
        expect(fsckRemote(a)).toMatchObject({ code: 0, r: { ok: true, problems: [] } });
        const repo = Repository.open(a.dir);
        const head = repo.version(repo.headId()!);
        const bigChunk = repo.file(head.files['models/big.bin']!.file).chunks[0]!.id;
        const secondFile = head.files['models/second.bin']!.file;
        const packs = packsOf(a);
        const flipped = [...packs].find(([, ids]) => ids.includes(bigChunk))![0];
        const dropped = [...packs].find(([, ids]) => ids.includes(secondFile))![0];
        expect(flipped).not.toBe(dropped);
        // 1. damage: a byte of big.bin's chunk, the index of the pack holding second.bin's file object, the ref
        const data = await b.get(url, `packs/${flipped}.pack`);
        data[Math.floor(data.length / 2)] ^= 0xff;
        await b.put(url, `packs/${flipped}.pack`, data);
        await b.del(url, `packs/${dropped}.idx`);
        await b.put(url, 'refs/heads/main', Buffer.from('not a version\n'));
        // 2. detected
        const before = fsckRemote(a);
        expect(before.code).toBe(7);
        expect(before.r.ok).toBe(false);
        const kinds = before.r.problems.map((p) => `${p.kind} ${p.id ?? p.ref}`);
        expect(kinds).toContain(`corrupt ${bigChunk}`);
        expect(kinds).toContain(`missing ${secondFile}`);
        expect(kinds).toContain('bad-ref refs/heads/main');
        expect(before.r.problems.find((p) => p.kind === 'corrupt')!.pack).toBe(flipped);
        // a plain push cannot overwrite the garbled ref, and sends nothing of what is damaged
        expectError(a.run(['push', '--json']), 'REMOTE_CORRUPT', 7);
        expectError(
          mvm(['clone', url, 'broken', ...b.addArgs(), '--json'], { cwd: t.dir, env: b.env() }),
          'REMOTE_CORRUPT',
          7,
        );
        // 3. repaired from the good repository
        const pushed = json(a.run(['push', '--repair', '--json']));
        expect(pushed.repair.found).toBe(before.r.problems.length);
        expect(pushed.repair.unrepaired).toEqual([]);
        expect(pushed.repair.objects).toBeGreaterThanOrEqual(2);
        expect(pushed.repair.refs).toEqual([{ ref: 'refs/heads/main', to: repo.headId() }]);
        // the damaged pack is named by nothing any more: retired (and deleted), or written again whole
        expect([...pushed.repair.retired, ...pushed.repair.rewritten]).toContain(flipped);
        // 4. the remote is sound, and a fresh clone is bit-exact
        expect(fsckRemote(a)).toMatchObject({ code: 0, r: { ok: true, problems: [] } });
        const c = workspace(b, t, 'c');
        json(mvm(['clone', url, 'c', '--full', ...b.addArgs(), '--json'], { cwd: t.dir, env: b.env() }));
        for (const f of ['models/big.bin', 'models/small.txt', 'models/second.bin'])
          expect(readFileSync(c.path(f)).equals(readFileSync(a.path(f))), f).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it('push --force overwrites a garbled remote ref (a plain push is REMOTE_CORRUPT with a hint)', async () => {
    const t = testdir();
    try {
      const url = b.url(t, 'force');
      const a = origin(b, t, url);
      await b.put(url, 'refs/heads/main', Buffer.from('\x00\x01garbage'));
      const err = expectError(a.run(['push', '--json']), 'REMOTE_CORRUPT', 7);
      expect(err.data.hint).toMatch(/--force/);
      const r = json(a.run(['push', '--force', '--json']));
      expect(r.updates).toEqual([
        { ref: 'refs/heads/main', from: null, to: Repository.open(a.dir).headId(), forced: true },
      ]);
      expect(fsckRemote(a).code).toBe(0);
    } finally {
      t.cleanup();
    }
  });
});

describe('healing on a folder remote', () => {
  it('a truncated pack and a garbled index: fsck --remote names both, push --repair mends them', async () => {
    const t = testdir();
    try {
      const b = BACKENDS[0]!;
      const url = b.url(t, 'trunc');
      const a = origin(b, t, url);
      const repo = Repository.open(a.dir);
      const head = repo.version(repo.headId()!);
      const secondChunk = repo.file(head.files['models/second.bin']!.file).chunks[0]!.id;
      const packs = packsOf(a);
      const cut = [...packs].find(([, ids]) => ids.includes(secondChunk))![0];
      const garbled = [...packs].find(([, ids]) => ids.includes(repo.headId()!))![0];
      const data = await b.get(url, `packs/${cut}.pack`);
      await b.put(url, `packs/${cut}.pack`, data.subarray(0, data.length - 10));
      await b.put(url, `packs/${garbled}.idx`, Buffer.from('{"format":1,'));
      const before = fsckRemote(a);
      expect(before.code).toBe(7);
      const kinds = before.r.problems.map((p) => `${p.kind} ${p.pack ?? p.id}`);
      expect(kinds).toContain(`bad-pack ${cut}`);
      expect(kinds).toContain(`bad-index ${garbled}`);
      expect(kinds).toContain(`corrupt ${cut}`);
      const pushed = json(a.run(['push', '--repair', '--json']));
      expect(pushed.repair.unrepaired).toEqual([]);
      // the garbled index is gone, or written again whole (the same objects make the same pack)
      expect([...pushed.repair.retired, ...pushed.repair.rewritten]).toContain(garbled);
      expect([...pushed.repair.retired, ...pushed.repair.rewritten]).toContain(cut);
      expect(fsckRemote(a)).toMatchObject({ code: 0, r: { ok: true } });
      json(mvm(['clone', url, 'c', '--full', '--json'], { cwd: t.dir }));
      expect(readFileSync(t.path('c/models/second.bin')).equals(randomBytes(300_000, 9))).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it(
    'what a good copy cannot mend is reported: push --repair from a store that lacks the damaged object exits 7 ' +
      'and retires nothing',
    async () => {
      const t = testdir();
      try {
        const b = BACKENDS[0]!;
        const url = b.url(t, 'lack');
        const a = origin(b, t, url);
        // a partial clone holds no chunks: it cannot mend a damaged one
        const c = workspace(b, t, 'c');
        json(mvm(['clone', url, 'c', '--json', '--only', 'models/small.txt'], { cwd: t.dir }));
        const repo = Repository.open(a.dir);
        const bigChunk = repo.file(repo.version(repo.headId()!).files['models/big.bin']!.file).chunks[0]!.id;
        const flipped = [...packsOf(a)].find(([, ids]) => ids.includes(bigChunk))![0];
        const data = await b.get(url, `packs/${flipped}.pack`);
        data[10] ^= 0xff;
        await b.put(url, `packs/${flipped}.pack`, data);
        const r = c.run(['push', '--repair', '--json']);
        expect(r.exitCode).toBe(7);
        const out = JSON.parse(r.stdout);
        expect(out.repair.unrepaired.map((p: { kind: string; id: string }) => `${p.kind} ${p.id}`)).toEqual([
          `corrupt ${bigChunk}`,
        ]);
        expect(out.repair.retired).toEqual([]);
        expect(existsSync(join(url, 'packs', `${flipped}.idx`))).toBe(true);
        // the good repository mends it
        expect(json(a.run(['push', '--repair', '--json'])).repair.unrepaired).toEqual([]);
        expect(fsckRemote(a).code).toBe(0);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('a store refetches what fsck --repair set aside', () => {
  /** Flips a byte of a stored object (loose or packed). */
  function damage(dir: string, id: string) {
    corruptStored(join(dir, '.mvm', 'objects'), id);
  }

  it.each([
    { name: 'a full store, by fetch', cloneArgs: ['--full'], command: 'fetch' },
    { name: 'a partial store, by pull', cloneArgs: [], command: 'pull' },
  ])(
    '$name: a corrupt object, fsck --repair, then the fetch brings it back; fsck is clean',
    ({ cloneArgs, command }) => {
      const t = testdir();
      try {
        const b = BACKENDS[0]!;
        const url = b.url(t, 'lost');
        origin(b, t, url);
        const c = workspace(b, t, 'c');
        json(mvm(['clone', url, 'c', ...cloneArgs, '--json'], { cwd: t.dir }));
        const repo = Repository.open(c.dir);
        const head = repo.version(repo.headId()!);
        const fileId = head.files['models/second.bin']!.file;
        const damaged = [fileId];
        const full = cloneArgs.includes('--full');
        if (full) damaged.push(repo.file(head.files['models/big.bin']!.file).chunks[0]!.id);
        for (const id of damaged) damage(c.dir, id);
        c.run(['fsck', '--repair', '--json']);
        for (const id of damaged) expect(existsSync(c.path(`.mvm/lost/${id}`))).toBe(true);
        const fetched = json(c.run([command, '--json']));
        if (command === 'fetch') expect(fetched.objects).toBe(damaged.length);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        // the damaged copies leave lost/ once good ones are back, so later fetches walk nothing
        expect(readdirSync(c.path('.mvm/lost'))).toEqual([]);
        expect(readFileSync(c.path('models/second.bin')).equals(randomBytes(300_000, 9))).toBe(true);
        if (!full) return;
        // without anything set aside, a plain fetch does not look; fetch --full does
        const chunk = damaged[1]!;
        removeStored(join(c.dir, '.mvm', 'objects'), chunk);
        expect(json(c.run(['fetch', '--json'])).objects).toBe(0);
        expect(json(c.run(['fetch', '--full', '--json'])).objects).toBe(1);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});
