/**
 * File objects in a partial store: push packs them apart from chunks and manifests, a version's side by side; a
 * clone takes only those of the version it checks out; ensureVersionFiles fetches another version's in one batch,
 * verified (a damaged one is REMOTE_CORRUPT and not stored); gc and fsck take one left on the remote as fine. Packs
 * of chunks are marked so, file objects name the packs of their chunks, and a partial store reads only those indexes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from '../../../helpers/cli.js';
import { json, ok, write } from '../../../helpers/assertions.js';
import { ensureVersionFiles, Repository } from '../../../../src/repo/repository/index.js';
import { openRepository } from '../../../../src/repo/transfer/index.js';
import { isMvmError } from '../../../../src/errors.js';

let t: ReturnType<typeof testdir>;
/** Version ids oldest first, and each one's file object ids. */
let versions: string[] = [];
let filesOf: (id: string) => string[];
/** The remote's pack indexes: pack id -> object ids in pack order. */
let packs: Map<string, string[]>;
/** The chunkPacks of the file objects' packs: file object id -> pack ids. */
let chunkPacks: Record<string, string[]>;
/** Each version's chunk ids. */
let chunksOf: (id: string) => string[];

beforeAll(() => {
  t = testdir();
  const a = t.path('a');
  const run = (args: string[]) => ok(mvm(args, { cwd: a, env: { MVM_PACK_SIZE: String(128 << 10) } }));
  for (let v = 0; v < 3; v++) {
    write(join(a, 'm/a.bin'), randomBytes(200_000, 10 + v));
    write(join(a, 'm/b.bin'), randomBytes(150_000, 20 + v));
    if (v === 0) {
      run(['init', '--chunk-size', String(16 << 10)]);
      run(['add', 'm']);
    }
    run(['commit', '-m', `v${v + 1}`]);
  }
  run(['remote', 'add', 'origin', t.path('remote')]);
  run(['push']);
  const repo = Repository.open(a);
  versions = repo.numbers.readAll() as string[];
  filesOf = (id) => Object.values(repo.version(id).files).map((e) => e.file);
  chunksOf = (id) => filesOf(id).flatMap((f) => repo.file(f).chunks.map((c) => c.id));
  packs = new Map();
  chunkPacks = {};
  for (const f of readdirSync(t.path('remote/packs')).filter((n) => n.endsWith('.idx'))) {
    const idx = JSON.parse(readFileSync(t.path(`remote/packs/${f}`), 'utf8')) as {
      objects: [string][];
      chunkPacks?: Record<string, string[]>;
    };
    packs.set(
      f.slice(0, 64),
      idx.objects.map((o) => o[0]),
    );
    Object.assign(chunkPacks, idx.chunkPacks ?? {});
  }
  ok(mvm(['clone', t.path('remote'), 'c'], { cwd: t.dir }));
}, 120_000);
afterAll(() => t?.cleanup());

describe('file objects on a remote and in a partial store', () => {
  it('push puts file objects in packs of their own, oldest version first, a version side by side', () => {
    const allFiles = versions.flatMap(filesOf);
    const holding = [...packs.values()].filter((ids) => ids.some((id) => allFiles.includes(id)));
    // nothing but file objects in those packs, in version order
    expect(holding.flat().sort()).toEqual([...allFiles].sort());
    expect(holding.flat()).toEqual(allFiles);
    // every pack of chunks is marked so; each file object names exactly the packs its chunks are in
    const marked = new Set(
      readdirSync(t.path('remote/packs'))
        .filter((n) => n.endsWith('.chunks'))
        .map((n) => n.slice(0, 64)),
    );
    const allChunks = new Set(versions.flatMap(chunksOf));
    const chunkPackIds = [...packs].filter(([, ids]) => ids.some((id) => allChunks.has(id))).map(([p]) => p);
    expect(chunkPackIds.length).toBeGreaterThan(3);
    expect([...marked].sort()).toEqual(chunkPackIds.sort());
    const repo = Repository.open(t.path('a'));
    for (const f of versions.flatMap(filesOf)) {
      const want = new Set(repo.file(f).chunks.map((c) => c.id));
      const holds = [...packs].filter(([, ids]) => ids.some((id) => want.has(id))).map(([p]) => p);
      expect([...chunkPacks[f]!].sort()).toEqual(holds.sort());
    }
  });

  it("a clone holds the manifests and the checked-out version's file objects only", () => {
    const c = Repository.open(t.path('c'));
    for (const v of versions) expect(c.objects.has(v)).toBe(true);
    expect(filesOf(versions[2]!).every((id) => c.objects.has(id))).toBe(true);
    expect([...filesOf(versions[0]!), ...filesOf(versions[1]!)].some((id) => c.objects.has(id))).toBe(false);
    const fsck = json(mvm(['fsck', '--json'], { cwd: t.path('c') }));
    expect(fsck.ok).toBe(true);
    expect(fsck.onRemote).toBeGreaterThanOrEqual(4);
    ok(mvm(['gc', '--grace', '0'], { cwd: t.path('c') }));
  });

  it("ensureVersionFiles fetches one version's file objects in one batch; a damaged one is not stored", async () => {
    // damage v1's first file object in its pack: a byte of its stored bytes flipped
    const [pack, ids] = [...packs].find(([, o]) => o.includes(filesOf(versions[0]!)[0]!))!;
    const idx = JSON.parse(readFileSync(t.path(`remote/packs/${pack}.idx`), 'utf8')) as {
      objects: [string, number, number][];
    };
    const [, offset, length] = idx.objects[ids.indexOf(filesOf(versions[0]!)[0]!)]!;
    const packFile = t.path(`remote/packs/${pack}.pack`);
    const good = readFileSync(packFile);
    const bad = Buffer.from(good);
    bad[offset + length - 2]! ^= 0xff;
    writeFileSync(packFile, bad);
    const repo = openRepository(t.path('c'));
    const err = await ensureVersionFiles(repo, [versions[0]!]).catch((e: unknown) => e);
    expect(isMvmError(err, 'REMOTE_CORRUPT')).toBe(true);
    expect(repo.objects.has(filesOf(versions[0]!)[0]!)).toBe(false);
    writeFileSync(packFile, good);
    const fetched = await ensureVersionFiles(repo, [versions[1]!]);
    expect(fetched.objects).toBe(2);
    expect(filesOf(versions[1]!).every((id) => repo.objects.has(id))).toBe(true);
    expect(repo.objects.has(filesOf(versions[0]!)[0]!)).toBe(false);
    // already here: nothing fetched
    expect((await ensureVersionFiles(repo, [versions[1]!])).objects).toBe(0);
  });

  it("a clone reads the chunks' pack indexes of the version it checks out only; a checkout reads more", () => {
    const cache = () => new Set(readdirSync(t.path('c/.mvm/remotes/origin/packs')).map((n) => n.slice(0, 64)));
    const named = (v: string) => new Set(filesOf(v).flatMap((f) => chunkPacks[f]!));
    const marked = readdirSync(t.path('remote/packs'))
      .filter((n) => n.endsWith('.chunks'))
      .map((n) => n.slice(0, 64));
    const readMarked = () => marked.filter((p) => cache().has(p));
    expect(readMarked().length).toBeGreaterThan(0);
    expect(readMarked().every((p) => named(versions[2]!).has(p))).toBe(true);
    expect(readMarked().length).toBeLessThan(marked.length);
    ok(mvm(['checkout', 'v1'], { cwd: t.path('c') }));
    expect(readFileSync(t.path('c/m/a.bin')).equals(randomBytes(200_000, 10))).toBe(true);
    expect([...named(versions[0]!)].every((p) => cache().has(p))).toBe(true);
    ok(mvm(['checkout', 'main'], { cwd: t.path('c') }));
  });
});
