/**
 * Hostile deltas on a remote: a fetch accepts a delta only through a base it
 * holds or checks first, within the depth bound, of the size its file object
 * declares, decoding to content that hashes to its id. Each hostile remote
 * below (folders; two of them on s3rver too) is refused with REMOTE_CORRUPT,
 * nothing is stored, the mvm process stays under 300 MB, and the repository
 * still passes fsck.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { mvmPeak } from '../../helpers/peak.js';
import { deltaBomb, zstdBomb } from '../../helpers/bombs.js';
import { deltaModel } from '../../helpers/deltaModels.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';
import { s3Objects } from '../../helpers/s3objects.js';
import { buildPack } from '../../../src/storage/remote/packs.js';
import { decodeObject, deltaOf, encodeDelta } from '../../../src/storage/codec.js';
import { storedBytes, storedIds as storedIdsOf } from '../../helpers/storedObjects.js';
import { blake3Hex } from '../../../src/storage/hash.js';

const PEAK_MIB = 300;
const GiB = 1 << 30;

let t: ReturnType<typeof testdir>;
let s3: LocalS3;
/** The remote holding v1 and its fine-tune v2; a fetcher holding v1; v2's delta chunk, its base and their contents. */
let fx: { remote: string; fetcher: string; delta: string; base: string; deltaContent: Buffer; baseContent: Buffer };

beforeAll(async () => {
  s3 = await startS3(['hostile']);
  t = testdir();
  const a = t.path('a');
  const run = (args: string[], cwd = a) => mvm(args, { cwd });
  const m = deltaModel(11);
  write(join(a, 'model.safetensors'), m.v1);
  ok(run(['init']));
  ok(run(['add', 'model.safetensors']));
  ok(run(['commit', '-m', 'v1']));
  const remote = t.path('remote');
  ok(run(['remote', 'add', 'origin', remote]));
  ok(run(['push']));
  ok(mvm(['clone', remote, 'fetcher', '--full'], { cwd: t.dir }));
  write(join(a, 'model.safetensors'), m.v2);
  ok(run(['commit', '-m', 'v2']));
  ok(run(['push']));
  // v2's one delta chunk, as the origin stores it
  const objects = join(a, '.mvm', 'objects');
  const deltas = storedIds(a).filter((id) => storedBytes(objects, id)[2] === 3);
  expect(deltas).toHaveLength(1);
  const delta = deltas[0]!;
  const stored = storedBytes(objects, delta);
  const base = deltaOf(stored)!.base;
  const baseContent = decodeObject(storedBytes(objects, base), base);
  const deltaContent = decodeObject(stored, delta, { loadBase: () => baseContent });
  fx = { remote, fetcher: t.path('fetcher'), delta, base, deltaContent, baseContent };
}, 120_000);

afterAll(async () => {
  t?.cleanup();
  await s3?.stop();
});

/** The objects in a store, loose or packed. */
function storedIds(repo: string): string[] {
  return [...storedIdsOf(join(repo, '.mvm', 'objects'))];
}

/** `content` as a bf16 delta on `baseId` (whose content is `base`), its depth byte set to `depth`. */
function deltaOn(content: Buffer, base: Buffer, baseId: string, depth = 1): Buffer {
  const d = Buffer.from(encodeDelta(content, base, baseId, 1, 'bf16')!.bytes);
  d[8 + 32] = depth;
  return d;
}

/** `n` contents of the delta chunk's size, each the base with a few bytes changed. */
function variants(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const c = Buffer.from(fx.baseContent);
    for (let k = 0; k < 16; k++) c[(i * 977 + k * 4099) % c.length] ^= 1 + k;
    return c;
  });
}

let seq = 0;

/** A copy of the remote whose packs hold `objects` (by id: replacing a copy there, or added), rewritten as one. */
function plantedRemote(objects: Map<string, Buffer>): string {
  const remote = t.path(`remote-${++seq}`);
  cpSync(fx.remote, remote, { recursive: true });
  const packs = join(remote, 'packs');
  const all = new Map<string, Buffer>();
  for (const f of readdirSync(packs).filter((n) => n.endsWith('.idx'))) {
    const index = JSON.parse(readFileSync(join(packs, f), 'utf8')) as {
      pack: string;
      objects: [string, number, number][];
    };
    const pack = readFileSync(join(packs, `${index.pack}.pack`));
    for (const [oid, offset, length] of index.objects) all.set(oid, pack.subarray(offset, offset + length));
    rmSync(join(packs, f));
    rmSync(join(packs, `${index.pack}.pack`));
  }
  for (const [id, bytes] of objects) all.set(id, bytes);
  const built = buildPack(
    [...all].map(([oid, data]) => ({ id: oid, length: data.length })),
    (oid) => all.get(oid)!,
  );
  writeFileSync(join(packs, `${built.id}.pack`), built.data);
  writeFileSync(join(packs, `${built.id}.idx`), JSON.stringify(built.index));
  return remote;
}

/** Fetches from a remote holding `objects` into a copy of the fetcher: refused, nothing stored, fsck clean. */
function refusedFetch(objects: Map<string, Buffer>): { id: string; message: string } {
  const remote = plantedRemote(objects);
  const dir = t.path(`fetcher-${seq}`);
  cpSync(fx.fetcher, dir, { recursive: true });
  ok(mvm(['remote', 'add', 'evil', remote], { cwd: dir }));
  const before = storedIds(dir).sort();
  const r = mvmPeak(['fetch', 'evil', '--json'], { cwd: dir });
  const err = expectError(r, 'REMOTE_CORRUPT', 7);
  expect(r.peakMiB, `peak ${r.peakMiB.toFixed(0)} MiB`).toBeLessThan(PEAK_MIB);
  expect(storedIds(dir).sort()).toEqual(before);
  expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
  return { id: (err.data as { id: string }).id, message: err.message };
}

describe('hostile deltas on a folder remote: fetch refuses them and stores nothing', () => {
  it('the planted remote unchanged is fetched, as a delta (the fixture is sound)', () => {
    const dir = t.path('fetcher-sound');
    cpSync(fx.fetcher, dir, { recursive: true });
    ok(mvm(['remote', 'add', 'plain', plantedRemote(new Map())], { cwd: dir }));
    ok(mvm(['fetch', 'plain'], { cwd: dir }));
    expect(storedBytes(join(dir, '.mvm', 'objects'), fx.delta)[2]).toBe(3);
    expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
  });

  it('a delta whose decoded bytes do not hash to its id', () => {
    const [other] = variants(1);
    const err = refusedFetch(new Map([[fx.delta, deltaOn(other!, fx.baseContent, fx.base)]]));
    expect(err.id).toBe(fx.delta);
  });

  it('a delta whose base is on neither side', () => {
    const missing = 'ab'.repeat(32);
    const err = refusedFetch(new Map([[fx.delta, deltaOn(fx.deltaContent, fx.baseContent, missing)]]));
    expect(err.id).toBe(fx.delta);
    expect(err.message).toMatch(/neither here nor on the remote/);
    // fsck --remote, from the fetcher, names it as corrupt: its base is in no pack
    const f = mvm(['fsck', '--remote', 'evil', '--json'], { cwd: t.path(`fetcher-${seq}`) });
    expect(f.exitCode).toBe(7);
    const problems = JSON.parse(f.stdout).problems as { kind: string; id: string; message: string }[];
    expect(problems.map((p) => [p.kind, p.id])).toEqual([['corrupt', fx.delta]]);
    expect(problems[0]!.message).toMatch(/no pack holds/);
    // push --repair from the origin, which holds the chunk, mends the remote; the fetch then takes it
    const a = t.path('a');
    ok(mvm(['remote', 'add', `evil${seq}`, t.path(`remote-${seq}`)], { cwd: a }));
    ok(mvm(['push', `evil${seq}`, '--repair'], { cwd: a }));
    expect(json(mvm(['fsck', '--remote', `evil${seq}`, '--json'], { cwd: a })).ok).toBe(true);
    ok(mvm(['fetch', 'evil'], { cwd: t.path(`fetcher-${seq}`) }));
    expect(json(mvm(['fsck', '--json'], { cwd: t.path(`fetcher-${seq}`) })).ok).toBe(true);
  });

  it('a chain of deltas deeper than 8 (each claiming depth 1), fetched as bases for the one wanted', () => {
    // delta -> c9 -> ... -> c1 -> the base the fetcher holds: ten deltas
    const cs = variants(9);
    const ids = cs.map((c) => blake3Hex(c));
    const objects = new Map<string, Buffer>();
    cs.forEach((c, i) =>
      objects.set(ids[i]!, i === 0 ? deltaOn(c, fx.baseContent, fx.base) : deltaOn(c, cs[i - 1]!, ids[i - 1]!)),
    );
    objects.set(fx.delta, deltaOn(fx.deltaContent, cs[8]!, ids[8]!));
    const err = refusedFetch(objects);
    expect(err.id).toBe(fx.delta);
    expect(err.message).toMatch(/deeper than 8/);
  });

  it('a chain of 8 deltas (the bound), each claiming depth 1, is taken and stored at its depths here', () => {
    const cs = variants(7);
    const ids = cs.map((c) => blake3Hex(c));
    const objects = new Map<string, Buffer>();
    cs.forEach((c, i) =>
      objects.set(ids[i]!, i === 0 ? deltaOn(c, fx.baseContent, fx.base) : deltaOn(c, cs[i - 1]!, ids[i - 1]!)),
    );
    objects.set(fx.delta, deltaOn(fx.deltaContent, cs[6]!, ids[6]!));
    const dir = t.path('fetcher-chain');
    cpSync(fx.fetcher, dir, { recursive: true });
    ok(mvm(['remote', 'add', 'chain', plantedRemote(objects)], { cwd: dir }));
    ok(mvm(['fetch', 'chain'], { cwd: dir }));
    const depth = (id: string) => storedBytes(join(dir, '.mvm', 'objects'), id)[8 + 32];
    expect([...ids, fx.delta].map(depth)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
    ok(mvm(['checkout', 'chain/main', '--force'], { cwd: dir }));
    expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
  });

  it('two deltas based on each other (a cycle)', () => {
    const [c] = variants(1);
    const cId = blake3Hex(c!);
    const err = refusedFetch(
      new Map([
        [fx.delta, deltaOn(fx.deltaContent, c!, cId)],
        [cId, deltaOn(c!, fx.deltaContent, fx.delta)],
      ]),
    );
    expect(err.message).toMatch(/a cycle of deltas/);
  });

  it('a delta whose base on the remote is itself a delta that does not hash to its id', () => {
    const [c, wrong] = variants(2);
    const cId = blake3Hex(c!);
    const err = refusedFetch(
      new Map([
        [fx.delta, deltaOn(fx.deltaContent, c!, cId)],
        [cId, deltaOn(wrong!, fx.baseContent, fx.base)],
      ]),
    );
    expect(err.id).toBe(cId);
  });

  it('a delta claiming 4 GiB - 16 bytes, and one whose base on the remote is a 1 GiB zstd bomb', () => {
    expect(refusedFetch(new Map([[fx.delta, deltaBomb(0xfffffff0, fx.base, 1 << 20)]])).id).toBe(fx.delta);
    const bombId = 'cd'.repeat(32);
    const err = refusedFetch(
      new Map([
        [fx.delta, deltaOn(fx.deltaContent, fx.baseContent, bombId)],
        [bombId, zstdBomb(GiB)],
      ]),
    );
    expect(err.id).toBe(bombId);
    // a delta of the declared size whose difference planes expand to 1 GiB
    expect(refusedFetch(new Map([[fx.delta, deltaBomb(fx.deltaContent.length, fx.base, GiB)]])).id).toBe(fx.delta);
  });
});

describe('hostile deltas on s3rver', () => {
  it('a delta that does not hash to its id, and one on a missing base: refused, nothing stored', async () => {
    const objects = s3Objects(() => s3, 'hostile');
    const [other] = variants(1);
    for (const bytes of [
      deltaOn(other!, fx.baseContent, fx.base),
      deltaOn(fx.deltaContent, fx.baseContent, 'ef'.repeat(32)),
    ]) {
      const folder = plantedRemote(new Map([[fx.delta, bytes]]));
      const url = `s3://hostile/r${process.pid}-${seq}`;
      const walk = (d: string): string[] =>
        readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
      for (const f of walk(folder)) await objects.put(url, f.slice(folder.length + 1), readFileSync(f));
      const dir = t.path(`s3-fetcher-${seq}`);
      cpSync(fx.fetcher, dir, { recursive: true });
      ok(mvm(['remote', 'add', 'evil', url, '--endpoint', s3.endpoint], { cwd: dir, env: s3.env }));
      const before = storedIds(dir).sort();
      const err = expectError(mvm(['fetch', 'evil', '--json'], { cwd: dir, env: s3.env }), 'REMOTE_CORRUPT', 7);
      expect((err.data as { id: string }).id).toBe(fx.delta);
      expect(storedIds(dir).sort()).toEqual(before);
      expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
    }
  });
});
