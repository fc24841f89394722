/**
 * Decompression and parser bombs: objects on a remote (a folder and s3rver)
 * whose few bytes claim or expand to gigabytes, objects in the local store
 * that do the same, and model files whose names once multiplied. Each is
 * refused with a stable code (or, for model files, stored with shorter
 * names) while the mvm process stays under 300 MB at its peak, measured by
 * the kernel (getrusage of the child).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { mvmPeak } from '../../helpers/peak.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';
import { randomBf16, writeSafetensors } from '../../helpers/modelWriters.js';
import { claimingFrame, deltaBomb, planesBomb, rawBomb, storedObject, zstdBomb } from '../../helpers/bombs.js';
import { bundlePrefixBomb, onnxNameBomb, tfliteNameBomb } from '../../helpers/parserBombs.js';
import { buildPack } from '../../../src/storage/remote/packs.js';
import { decodeObject } from '../../../src/storage/codec.js';
import { decodeFileObject, decodeVersion } from '../../../src/core/objects.js';
import { isPacked, replaceStored, storedBytes, storedIds as storedIdsOf } from '../../helpers/storedObjects.js';

/** The bar: peak resident memory of the mvm process under any bomb. */
const PEAK_MIB = 300;
const GiB = 1 << 30;
const CHUNK = 64 << 10;

let s3: LocalS3;
let t: ReturnType<typeof testdir>;
/** The origin workspace, its pushed folder remote, and the ids of its one version, file object and chunk. */
let origin: { dir: string; remote: string; version: string; file: string; chunk: string };

beforeAll(async () => {
  s3 = await startS3(['bombs']);
  t = testdir();
  const dir = t.path('origin');
  write(join(dir, 'w.bin'), randomBytes(CHUNK, 3));
  ok(mvm(['init'], { cwd: dir }));
  ok(mvm(['add', 'w.bin'], { cwd: dir }));
  ok(mvm(['commit', '-m', 'v1'], { cwd: dir }));
  const remote = t.path('remote');
  ok(mvm(['remote', 'add', 'origin', remote], { cwd: dir }));
  ok(mvm(['push'], { cwd: dir }));
  const objects = join(dir, '.mvm', 'objects');
  const version = readFileSync(join(remote, 'refs', 'heads', 'main'), 'utf8').trim();
  const read = (id: string) => decodeObject(storedBytes(objects, id), id);
  const file = decodeVersion(read(version), version).files['w.bin']!.file;
  const chunks = decodeFileObject(read(file), file).chunks;
  expect(chunks.map((c) => c.size)).toEqual([CHUNK]);
  origin = { dir, remote, version, file, chunk: chunks[0]!.id };
}, 60_000);

afterAll(async () => {
  t?.cleanup();
  await s3?.stop();
});

let seq = 0;

/** A copy of a remote (the origin's by default) where object `id` is stored as `bytes` (its packs rewritten as one). */
function plantedRemote(id: string, bytes: Buffer, from = origin.remote): string {
  const remote = t.path(`remote-${++seq}`);
  cpSync(from, remote, { recursive: true });
  const packs = join(remote, 'packs');
  const objects = new Map<string, Buffer>();
  for (const f of readdirSync(packs).filter((n) => n.endsWith('.idx'))) {
    const index = JSON.parse(readFileSync(join(packs, f), 'utf8')) as {
      pack: string;
      objects: [string, number, number][];
    };
    const pack = readFileSync(join(packs, `${index.pack}.pack`));
    for (const [oid, offset, length] of index.objects)
      objects.set(oid, oid === id ? bytes : pack.subarray(offset, offset + length));
    rmSync(join(packs, f));
    rmSync(join(packs, `${index.pack}.pack`));
  }
  expect(objects.has(id)).toBe(true);
  const built = buildPack(
    [...objects].map(([oid, data]) => ({ id: oid, length: data.length })),
    (oid) => objects.get(oid)!,
  );
  writeFileSync(join(packs, `${built.id}.pack`), built.data);
  writeFileSync(join(packs, `${built.id}.idx`), JSON.stringify(built.index));
  return remote;
}

/** The same remote on s3rver: every file of the folder uploaded under a fresh prefix; its URL. */
async function onS3(folder: string): Promise<string> {
  const prefix = `r${process.pid}-${++seq}`;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  for (const f of walk(folder))
    await client.send(
      new PutObjectCommand({ Bucket: 'bombs', Key: `${prefix}/${relative(folder, f)}`, Body: readFileSync(f) }),
    );
  client.destroy();
  return `s3://bombs/${prefix}`;
}

/** The objects in a store, loose or packed. */
function storedIds(repo: string): string[] {
  return [...storedIdsOf(join(repo, '.mvm', 'objects'))];
}

/** Refused with `code`, under the bar. */
function refused(r: ReturnType<typeof mvmPeak>, code: string, exitCode = 7): void {
  expectError(r, code, exitCode);
  expect(r.peakMiB, `peak ${r.peakMiB.toFixed(0)} MiB`).toBeLessThan(PEAK_MIB);
}

const chunkBombs: [string, () => Buffer][] = [
  ['one zstd frame of RLE blocks with no content size under a 1 GiB header (32 KiB)', () => zstdBomb(GiB)],
  ['the same frame under a header of the size the file object declares', () => zstdBomb(CHUNK, GiB)],
  [
    'a zstd frame whose header claims 4 GiB - 1',
    () => storedObject(1, 0, 0xffffffff, claimingFrame(0xffffffff, 1 << 20)),
  ],
  ['a zstd frame claiming 1 GiB under the declared size', () => storedObject(1, 0, CHUNK, claimingFrame(GiB, CHUNK))],
  ['byte planes whose header claims 200 MiB, each plane 50 MiB of RLE', () => planesBomb(200 << 20)],
  ['byte planes of the declared size whose planes expand to 1 GiB', () => planesBomb(CHUNK, GiB)],
  ['a delta whose header claims 4 GiB - 16', () => deltaBomb(0xfffffff0, 'ab'.repeat(32), 1 << 20)],
  ['a raw object whose header claims 4 GiB - 1', () => rawBomb(0xffffffff)],
];

describe('decompression bombs from a folder remote: clone refuses them, stores nothing, under 300 MB', () => {
  it.each(chunkBombs)('chunk: %s', (_name, bomb) => {
    const remote = plantedRemote(origin.chunk, bomb());
    refused(mvmPeak(['clone', remote, `c${seq}`, '--full', '--json'], { cwd: t.dir }), 'REMOTE_CORRUPT');
    expect(existsSync(t.path(`c${seq}`))).toBe(false);
  });

  it(
    'a version manifest and a file object that are zstd bombs (1 GiB; 200 MiB) are refused at the metadata ' + 'limit',
    () => {
      for (const [id, bomb] of [
        [origin.version, zstdBomb(GiB)],
        [origin.file, zstdBomb(200 << 20)],
      ] as const) {
        const remote = plantedRemote(id, bomb);
        refused(mvmPeak(['clone', remote, `c${seq}`, '--json'], { cwd: t.dir }), 'REMOTE_CORRUPT');
        expect(existsSync(t.path(`c${seq}`))).toBe(false);
      }
    },
  );

  it('fetch into a repository stores nothing and fsck stays clean', () => {
    const remote = plantedRemote(origin.chunk, zstdBomb(GiB));
    const dir = t.path('fetcher');
    write(join(dir, 'other.txt'), 'mine\n');
    ok(mvm(['init'], { cwd: dir }));
    ok(mvm(['add', 'other.txt'], { cwd: dir }));
    ok(mvm(['commit', '-m', 'mine'], { cwd: dir }));
    ok(mvm(['remote', 'add', 'bombs', remote], { cwd: dir }));
    const before = storedIds(dir).sort();
    const err = expectError(mvmPeak(['fetch', 'bombs', '--json'], { cwd: dir }), 'REMOTE_CORRUPT', 7);
    expect(err.data.id).toBe(origin.chunk);
    expect(storedIds(dir).sort()).toEqual(before);
    expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
  });
});

describe('decompression bombs on s3rver', () => {
  it('a chunk and a version manifest that are 1 GiB zstd bombs: clone refuses them under 300 MB', async () => {
    for (const id of [origin.chunk, origin.version]) {
      const url = await onS3(plantedRemote(id, zstdBomb(GiB)));
      refused(
        mvmPeak(['clone', url, `s${seq}`, '--full', '--endpoint', s3.endpoint, '--json'], { cwd: t.dir, env: s3.env }),
        'REMOTE_CORRUPT',
      );
      expect(existsSync(t.path(`s${seq}`))).toBe(false);
    }
  });
});

describe('decompression bombs in the local store', () => {
  it('a chunk replaced by a 1 GiB zstd bomb is OBJECT_CORRUPT to fsck and checkout, under 300 MB', () => {
    const dir = t.path('local');
    cpSync(origin.dir, dir, { recursive: true });
    // another length than the chunk's: it leaves its pack and is read from its loose file
    const objects = join(dir, '.mvm', 'objects');
    expect(isPacked(objects, origin.chunk)).toBe(true);
    replaceStored(objects, origin.chunk, zstdBomb(GiB));
    expect(isPacked(objects, origin.chunk)).toBe(false);
    expect(storedBytes(objects, origin.chunk).equals(zstdBomb(GiB))).toBe(true);
    const fsck = mvmPeak(['fsck', '--json'], { cwd: dir });
    expect(fsck.exitCode).toBe(7);
    expect(fsck.peakMiB).toBeLessThan(PEAK_MIB);
    expect(JSON.stringify(JSON.parse(fsck.stdout))).toContain(origin.chunk);
    rmSync(join(dir, 'w.bin'));
    refused(mvmPeak(['checkout', 'HEAD', '--force', '--json'], { cwd: dir }), 'OBJECT_CORRUPT');
  });
});

describe('parser bombs: the file is committed with short names, under 300 MB, and restored bit-exact', () => {
  const files: [string, () => Record<string, Buffer>][] = [
    [
      'a TFLite model of 3,500 tensors sharing one 64 KiB name (190 KB)',
      () => ({ 'model.tflite': tfliteNameBomb(64 << 10, 3500) }),
    ],
    [
      'a bundle index of 6,000 keys sharing one 64 KiB prefix, with its data file',
      () => ({ 'ckpt.index': bundlePrefixBomb(64 << 10, 6000), 'ckpt.data-00000-of-00001': randomBytes(4 * 6000, 5) }),
    ],
    [
      "an ONNX model whose 3,000 constants take one node's 1 MiB output name",
      () => ({ 'model.onnx': onnxNameBomb(1 << 20, 3000) }),
    ],
  ];
  it.each(files)('%s', (_name, make) => {
    const dir = t.path(`model-${++seq}`);
    const made = make();
    for (const [name, bytes] of Object.entries(made)) write(join(dir, 'm', name), bytes);
    ok(mvm(['init'], { cwd: dir }));
    ok(mvm(['add', 'm'], { cwd: dir }));
    const commit = mvmPeak(['commit', '-m', 'bomb', '--json'], { cwd: dir });
    ok(commit);
    expect(commit.peakMiB, `peak ${commit.peakMiB.toFixed(0)} MiB`).toBeLessThan(PEAK_MIB);
    for (const name of Object.keys(made)) rmSync(join(dir, 'm', name));
    ok(mvm(['checkout', 'HEAD', '--force'], { cwd: dir }));
    for (const [name, bytes] of Object.entries(made))
      expect(readFileSync(join(dir, 'm', name)).equals(bytes)).toBe(true);
    expect(json(mvm(['fsck', '--json'], { cwd: dir })).ok).toBe(true);
  });
});

describe('decompression bombs fetched on demand by a partial store', () => {
  it(
    'a chunk that is a 250 MiB zstd bomb, met when get reads it from the remote, is REMOTE_CORRUPT at the size its ' +
      'file object declares, under 300 MB',
    () => {
      // a partial clone of a copy of the origin's remote, which then turns hostile
      const remote = t.path(`ondemand-${++seq}`);
      cpSync(origin.remote, remote, { recursive: true });
      const clone = t.path(`ondemand-clone-${seq}`);
      ok(mvm(['clone', remote, clone], { cwd: t.path('.') }));
      expect(storedIds(clone)).not.toContain(origin.chunk);
      // a header of 250 MiB, within the limit of any object: only the chunk's declared size stops it early
      const planted = plantedRemote(origin.chunk, zstdBomb(250 << 20));
      rmSync(remote, { recursive: true });
      cpSync(planted, remote, { recursive: true });
      const out = t.path(`ondemand-out-${seq}.bin`);
      const r = mvmPeak(['get', 'main', 'w.bin', '-o', out, '--json'], { cwd: clone });
      refused(r, 'REMOTE_CORRUPT');
      expect(existsSync(out)).toBe(false);
      expect(storedIds(clone)).not.toContain(origin.chunk);
      ok(mvm(['fsck'], { cwd: clone }));
    },
  );

  it(
    'a chunk that is a 250 MiB zstd bomb, met when diff --stats reads it from the remote, ' +
      'is REMOTE_CORRUPT at the size its file object declares, under 300 MB',
    () => {
      // two versions of a bf16 tensor of one 64 KiB chunk, pushed; a partial clone holds neither side's chunk
      const dir = t.path(`stats-origin-${++seq}`);
      const model = (seed: number) =>
        writeSafetensors([{ name: 'w', dtype: 'BF16', shape: [CHUNK / 2], data: randomBf16(CHUNK / 2, 0.02, seed) }]);
      write(join(dir, 'm.safetensors'), model(1));
      ok(mvm(['init'], { cwd: dir }));
      ok(mvm(['add', 'm.safetensors'], { cwd: dir }));
      ok(mvm(['commit', '-m', 'v1'], { cwd: dir }));
      write(join(dir, 'm.safetensors'), model(2));
      ok(mvm(['commit', '-m', 'v2'], { cwd: dir }));
      const remote = t.path(`stats-remote-${seq}`);
      ok(mvm(['remote', 'add', 'origin', remote], { cwd: dir }));
      ok(mvm(['push'], { cwd: dir }));
      const clone = t.path(`stats-clone-${seq}`);
      ok(mvm(['clone', remote, clone], { cwd: t.path('.') }));
      const objects = join(dir, '.mvm', 'objects');
      const read = (id: string) => decodeObject(storedBytes(objects, id), id);
      const v1 = json(mvm(['log', '--json'], { cwd: dir })).at(-1).id as string;
      const file = decodeVersion(read(v1), v1).files['m.safetensors']!.file;
      const tensorChunk = decodeFileObject(read(file), file).chunks.at(-1)!;
      expect(tensorChunk.size).toBe(CHUNK);
      expect(storedIds(clone)).not.toContain(tensorChunk.id);
      // the remote turns hostile: v1's tensor chunk becomes a bomb whose header (250 MiB) is under any object limit
      const planted = plantedRemote(tensorChunk.id, zstdBomb(250 << 20), remote);
      rmSync(remote, { recursive: true });
      cpSync(planted, remote, { recursive: true });
      const r = mvmPeak(['diff', '--stats', 'v1', 'v2', '--json'], { cwd: clone });
      refused(r, 'REMOTE_CORRUPT');
      expect(storedIds(clone)).not.toContain(tensorChunk.id);
      ok(mvm(['fsck'], { cwd: clone }));
    },
  );
});
