import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closeSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRepository } from '../../../../src/repo/repository/create.js';
import { Repository } from '../../../../src/repo/repository/repository.js';
import { assembleFile, type AssemblyTally } from '../../../../src/repo/workspace/fileio.js';
import { withPool } from '../../../../src/repo/repository/session.js';
import { OBJECT_FORMAT, type FileObject } from '../../../../src/core/objects.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-fileio-'));
  createRepository({ dir });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fileOf = (parts: { id: string; size: number }[]): FileObject => ({
  type: 'file',
  format: OBJECT_FORMAT,
  size: parts.reduce((n, p) => n + p.size, 0),
  chunkSize: 1 << 20,
  chunks: parts,
});

/** Four stored chunks; the old file is a b c, the new one a b d (the last chunk changed). */
function setup() {
  const repo = Repository.open(dir);
  const [a, b, c, d] = [randomBytes(4000), randomBytes(4000), randomBytes(4000), randomBytes(3000)];
  const [ia, ib, ic, id] = [a, b, c, d].map((x) => repo.objects.put(x)) as [string, string, string, string];
  const old = fileOf([
    { id: ia, size: 4000 },
    { id: ib, size: 4000 },
    { id: ic, size: 4000 },
  ]);
  const next = fileOf([
    { id: ia, size: 4000 },
    { id: ib, size: 4000 },
    { id: id, size: 3000 },
  ]);
  const path = join(dir, 'w.bin');
  writeFileSync(path, Buffer.concat([a, b, c]));
  // written well before now: not racily clean
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
  return { repo, path, old, next, want: Buffer.concat([a, b, d]) };
}

async function build(repo: Repository, next: FileObject, base: Parameters<typeof assembleFile>[4]['base']) {
  const tally: AssemblyTally = { copied: 0, checked: 0, decoded: 0 };
  const tmp = await withPool((pool) => assembleFile(repo, pool, next, 0o644, { base, tally }));
  const bytes = readFileSync(tmp);
  rmSync(tmp);
  return { bytes, tally };
}

describe('assembleFile from the old version of the file', () => {
  it('takes the chunks that line up from the in-kernel copy unread when the file is known unchanged', async () => {
    const { repo, path, old, next, want } = setup();
    const seen = lstatSync(path, { bigint: true });
    const r = await build(repo, next, { path, file: old, seen });
    expect(r.bytes.equals(want)).toBe(true);
    expect(r.tally).toEqual({ copied: 8000, checked: 0, decoded: 3000 });
  });

  it('reads back and hashes the copied chunks when the file changed since it was identified', async () => {
    const { repo, path, old, next, want } = setup();
    const seen = lstatSync(path, { bigint: true });
    // the second chunk overwritten in place after identification: the stat no longer matches
    const fd = openSync(path, 'r+');
    writeSync(fd, randomBytes(4000), 0, 4000, 4000);
    closeSync(fd);
    const r = await build(repo, next, { path, file: old, seen });
    expect(r.bytes.equals(want)).toBe(true);
    expect(r.tally).toEqual({ copied: 0, checked: 4000, decoded: 7000 });
  });

  it('reads back and hashes when no stat was seen, or the file was written just before (racily clean)', async () => {
    const { repo, path, old, next, want } = setup();
    const unseen = await build(repo, next, { path, file: old });
    expect(unseen.bytes.equals(want)).toBe(true);
    expect(unseen.tally).toEqual({ copied: 0, checked: 8000, decoded: 3000 });
    utimesSync(path, new Date(), new Date());
    const racy = await build(repo, next, { path, file: old, seen: lstatSync(path, { bigint: true }) });
    expect(racy.bytes.equals(want)).toBe(true);
    expect(racy.tally).toEqual({ copied: 0, checked: 8000, decoded: 3000 });
  });

  it('copies nothing when under half of the new file lines up with the old one', async () => {
    const { repo, path, old, next, want } = setup();
    // the old file's chunks shifted by one: only the first lines up (4000 of 11000 bytes)
    const shifted = fileOf([old.chunks[0]!, old.chunks[2]!, old.chunks[1]!]);
    const r = await build(repo, next, { path, file: shifted, seen: lstatSync(path, { bigint: true }) });
    expect(r.bytes.equals(want)).toBe(true);
    expect(r.tally).toEqual({ copied: 0, checked: 0, decoded: 11000 });
  });

  it('decodes nothing from a base that is gone: every chunk comes from the store', async () => {
    const { repo, path, old, next, want } = setup();
    const seen = lstatSync(path, { bigint: true });
    rmSync(path);
    const r = await build(repo, next, { path, file: old, seen });
    expect(r.bytes.equals(want)).toBe(true);
    expect(r.tally).toEqual({ copied: 0, checked: 0, decoded: 11000 });
  });

  it('writes the changed chunks of a large file behind the copy as it runs, and the result is exact', async () => {
    const repo = Repository.open(dir);
    const MiB = 1 << 20;
    const chunks = Array.from({ length: 48 }, () => randomBytes(MiB));
    // every fourth chunk changed, and the new file one chunk longer
    const newer = chunks.map((c, i) => (i % 4 === 1 ? randomBytes(MiB) : c));
    newer.push(randomBytes(MiB / 2));
    const ref = (b: Buffer) => ({ id: repo.objects.put(b), size: b.length });
    const old = fileOf(chunks.map(ref));
    const next = fileOf(newer.map(ref));
    const path = join(dir, 'big.bin');
    writeFileSync(path, Buffer.concat(chunks));
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    const r = await build(repo, next, { path, file: old, seen: lstatSync(path, { bigint: true }) });
    expect(r.bytes.equals(Buffer.concat(newer))).toBe(true);
    expect(r.tally).toEqual({ copied: 36 * MiB, checked: 0, decoded: 12 * MiB + MiB / 2 });
  }, 60_000);
});
