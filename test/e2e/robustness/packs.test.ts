import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cliEnv, mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { FsObjectStore } from '../../../src/storage/objectStore.js';
import { TRAILER_SIZE } from '../../../src/storage/pack.js';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'mvm.js');

/**
 * A safetensors model of `n` tensors, as ONNX and TFLite models hold them: most
 * tiny (scalars, shapes, biases of a few floats), every tenth a weight of
 * 20k-60k floats; about 5 MB in all.
 */
function manyTensors(n: number, seed: number, changed: Set<number> = new Set()): Buffer {
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const count = i % 10 === 0 ? 20_000 + ((i * 7919) % 40_000) : [1, 2, 4, 8, 16, 64, 128][i % 7]!;
    const r = randomBytes(count * 4, seed * 1000 + i + (changed.has(i) ? 500_000 : 0));
    // floats of a trained layer: small values, so the byte planes have something to find
    const f = new Float32Array(count);
    for (let k = 0; k < count; k++) f[k] = (r[k * 4]! - 128) / 512 + r[k * 4 + 1]! / 65536;
    const b = Buffer.from(f.buffer);
    header[`model.layers.${Math.floor(i / 4)}.block_${i % 4}.weight`] = {
      dtype: 'F32',
      shape: [count],
      data_offsets: [off, off + b.length],
    };
    parts.push(b);
    off += b.length;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, ...parts]);
}

/** Disk blocks (bytes) that everything under `dir` takes, folders included. */
function diskBytes(dir: string): number {
  let total = lstatSync(dir).blocks * 512;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? diskBytes(p) : lstatSync(p).blocks * 512;
  }
  return total;
}

/** The stored bytes of every object of a repository, as its store reports them. */
function storedBytes(repoDir: string): { objects: number; bytes: number } {
  const store = new FsObjectStore(join(repoDir, '.mvm', 'objects'), join(repoDir, '.mvm', 'tmp'), {
    level: 3,
    fsync: false,
  });
  let objects = 0;
  let bytes = 0;
  for (const id of new Set(store.list())) {
    objects++;
    bytes += store.storedSize(id);
  }
  return { objects, bytes };
}

/** Files under `.mvm/objects` (packs and loose objects). */
function objectFiles(repoDir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      e.isDirectory() ? walk(join(d, e.name)) : out.push(join(d, e.name));
  };
  walk(join(repoDir, '.mvm', 'objects'));
  return out;
}

/** How many files under `<repoDir>/.mvm/objects` a command opened (strace, every thread). */
function opensOfObjects(cwd: string, args: string[], repoDir = cwd): number {
  const log = join(cwd, '..', `strace-${process.pid}-${Math.random().toString(16).slice(2)}.txt`);
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', log, process.execPath, BIN, ...args], {
    cwd,
    env: cliEnv(),
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = readFileSync(log, 'utf8').split('\n');
  rmSync(log, { force: true });
  const objects = join(repoDir, '.mvm', 'objects') + '/';
  return lines.filter((l) => l.includes(`"${objects}`) && !l.includes('O_DIRECTORY')).length;
}

describe('packs of small objects', () => {
  let t: ReturnType<typeof testdir>;
  const run = (args: string[], cwd = t.dir) => mvm(args, { cwd });
  let chunks = 0;

  beforeAll(() => {
    t = testdir();
    write(t.path('model.safetensors'), manyTensors(400, 1));
  });
  afterAll(() => t?.cleanup());

  it('a 5 MB model of 400 tensors: a few files, disk at most 1.05x its stored bytes, no file opened per chunk', () => {
    ok(run(['init']));
    ok(run(['add', 'model.safetensors']));
    const opens = opensOfObjects(t.dir, ['commit', '-m', 'one']);
    const show = json(run(['show', 'v1', '--tensors', '--json']));
    chunks = show.files[0].chunks;
    expect(chunks).toBeGreaterThan(400);
    const files = objectFiles(t.dir);
    expect(files.length).toBeLessThan(10);
    expect(files.some((f) => f.endsWith('.pack'))).toBe(true);
    expect(opens).toBeLessThan(20);
    const stored = storedBytes(t.dir);
    expect(stored.objects).toBeGreaterThan(chunks);
    const disk = diskBytes(join(t.dir, '.mvm', 'objects'));
    expect(disk / stored.bytes).toBeLessThanOrEqual(1.05);
    expect(JSON.parse(readFileSync(t.path('.mvm/config.json'), 'utf8')).format).toBe(2);
  });

  it('checkout and clone read and write packs: no file opened per chunk, bytes exact', () => {
    const model = readFileSync(t.path('model.safetensors'));
    rmSync(t.path('model.safetensors'));
    expect(opensOfObjects(t.dir, ['checkout', 'v1'])).toBeLessThan(20);
    expect(readFileSync(t.path('model.safetensors')).equals(model)).toBe(true);
    const remote = t.path('../packs-remote');
    ok(run(['remote', 'add', 'origin', remote]));
    ok(run(['push', 'origin', 'main']));
    const clone = t.path('../packs-clone');
    expect(opensOfObjects(t.path('..'), ['clone', remote, clone], clone)).toBeLessThan(20);
    expect(readFileSync(join(clone, 'model.safetensors')).equals(model)).toBe(true);
    expect(objectFiles(clone).length).toBeLessThan(10);
    ok(run(['fsck'], clone));
    rmSync(remote, { recursive: true, force: true });
    rmSync(clone, { recursive: true, force: true });
  });

  it('gc merges packs, leaves out what nothing reaches, and fsck checks every packed object', () => {
    ok(run(['branch', 'exp']));
    ok(run(['checkout', 'exp']));
    write(t.path('model.safetensors'), manyTensors(400, 1, new Set([3, 5, 7, 11])));
    ok(run(['commit', '-m', 'exp']));
    const exp = json(run(['show', 'exp', '--json'])).id;
    ok(run(['checkout', 'main']));
    write(t.path('model.safetensors'), manyTensors(400, 1, new Set([13])));
    ok(run(['commit', '-m', 'two']));
    const before = storedBytes(t.dir);
    expect(objectFiles(t.dir).filter((f) => f.endsWith('.pack')).length).toBe(3);
    ok(run(['branch', '-D', 'exp']));
    const gc = json(run(['gc', '--grace', '0', '--json']));
    expect(gc.removed.objects).toBeGreaterThanOrEqual(5); // exp's manifest, file object and four chunks
    expect(gc.packs.written).toBe(1);
    const files = objectFiles(t.dir);
    // every object small enough is now in the one pack
    expect(files).toHaveLength(1);
    const after = storedBytes(t.dir);
    expect(after.objects).toBe(before.objects - gc.removed.objects);
    const gone = run(['show', exp, '--json']);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toMatch(/removed by 'mvm gc'/);
    const fsck = json(run(['fsck', '--json']));
    expect(fsck.ok).toBe(true);
    expect(fsck.objectsChecked).toBe(after.objects);
    ok(run(['checkout', 'v1']));
    expect(readFileSync(t.path('model.safetensors')).equals(manyTensors(400, 1))).toBe(true);
    ok(run(['checkout', 'main']));
  });

  it('a damaged pack index: fsck names the pack and what it held (exit 7), --repair moves it aside', () => {
    // a repository of its own: chunks packed, manifests loose (a pack gc wrote would hold those too)
    const d = testdir();
    const run = (args: string[]) => mvm(args, { cwd: d.dir });
    write(d.path('model.safetensors'), manyTensors(400, 2));
    ok(run(['init']));
    ok(run(['add', 'model.safetensors']));
    ok(run(['commit', '-m', 'one']));
    const pack = objectFiles(d.dir).find((f) => f.endsWith('.pack'))!;
    const b = readFileSync(pack);
    b[b.length - TRAILER_SIZE - 3] ^= 0xff; // inside the index: its checksum no longer matches
    chmodSync(pack, 0o644);
    writeFileSync(pack, b);
    const r = run(['fsck', '--json']);
    expect(r.exitCode).toBe(7);
    const problems = JSON.parse(r.stdout).problems as { kind: string; ref?: string; message: string }[];
    expect(problems.find((p) => p.kind === 'bad-file')?.message).toMatch(/does not match its checksum/);
    expect(problems.filter((p) => p.kind === 'missing').length).toBeGreaterThanOrEqual(400);
    const rep = run(['fsck', '--repair', '--json']);
    expect(JSON.parse(rep.stdout).repaired.join('\n')).toMatch(/moved damaged pack .* to \.mvm\/lost\//);
    expect(readdirSync(d.path('.mvm/lost')).some((f) => f.endsWith('.pack'))).toBe(true);
    // the workspace still holds main's bytes: a commit stores its chunks again
    const again = run(['commit', '-m', 'again']);
    expect(again.exitCode, again.stderr).toBe(1); // nothing to commit, but the lost chunks are stored again
    expect(json(run(['fsck', '--json'])).ok).toBe(true);
    d.cleanup();
  });

  it('a repository of format 1 keeps loose objects until gc upgrades it to format 2 and packs them', () => {
    const d = testdir();
    const run = (args: string[]) => mvm(args, { cwd: d.dir });
    ok(run(['init']));
    const config = d.path('.mvm/config.json');
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), format: 1 }));
    write(d.path('model.safetensors'), manyTensors(100, 3));
    ok(run(['add', 'model.safetensors']));
    ok(run(['commit', '-m', 'one']));
    // what an mvm of format 1 reads: loose objects only
    expect(objectFiles(d.dir).some((f) => f.includes('/pack/'))).toBe(false);
    const loose = objectFiles(d.dir).length;
    expect(loose).toBeGreaterThan(100);
    const gc = json(run(['gc', '--json']));
    expect(gc.upgraded).toBe(true);
    expect(gc.packs.packed).toBeGreaterThan(100);
    expect(JSON.parse(readFileSync(config, 'utf8')).format).toBe(2);
    expect(objectFiles(d.dir).length).toBeLessThan(loose / 10);
    expect(json(run(['fsck', '--json'])).ok).toBe(true);
    rmSync(d.path('model.safetensors'));
    ok(run(['checkout', 'v1']));
    expect(readFileSync(d.path('model.safetensors')).equals(manyTensors(100, 3))).toBe(true);
    // a format newer than this mvm's is refused, as an older mvm refuses format 2
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), format: 3 }));
    const r = run(['status']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/repository format 3 is newer than this mvm understands/);
    d.cleanup();
  });
});
