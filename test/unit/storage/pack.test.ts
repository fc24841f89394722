import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3Hex } from '../../../src/storage/hash.js';
import { ENTRY_SIZE, PackBuilder, PackIndex, PACK_MAGIC, TRAILER_SIZE } from '../../../src/storage/pack.js';
import { PackSet } from '../../../src/storage/packSet.js';
import { FsObjectStore, PackedCollector } from '../../../src/storage/objectStore.js';
import { encodeObject } from '../../../src/storage/codec.js';
import { isMvmError } from '../../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh objects folder and tmp folder. */
function folders(): { objects: string; tmp: string; packs: string } {
  const root = mkdtempSync(join(tmpdir(), 'mvm-pack-'));
  dirs.push(root);
  const objects = join(root, 'objects');
  const tmp = join(root, 'tmp');
  mkdirSync(join(objects, 'pack'), { recursive: true });
  mkdirSync(tmp);
  return { objects, tmp, packs: join(objects, 'pack') };
}

/** `n` small objects: id and stored bytes. */
function objects(n: number, seed = 0): { id: string; content: Buffer; stored: Buffer }[] {
  return Array.from({ length: n }, (_, i) => {
    const content = Buffer.from(`object ${seed}-${i} `.repeat(1 + (i % 5)));
    return { id: blake3Hex(content), content, stored: Buffer.from(encodeObject(content, { level: 3 }).bytes) };
  });
}

function writePack(packs: string, tmp: string, objs: { id: string; stored: Buffer }[]): string {
  const b = new PackBuilder(tmp, packs, false);
  for (const o of objs) b.add(o.id, o.stored);
  return b.finish()!;
}

/** The error a pack whose bytes were changed by `mutate` gives when loaded. */
function loadError(path: string, mutate: (b: Buffer) => Buffer): string {
  chmodSync(path, 0o644);
  writeFileSync(path, mutate(readFileSync(path)));
  try {
    PackIndex.load(path);
    return 'loaded';
  } catch (e) {
    expect(isMvmError(e, 'OBJECT_CORRUPT')).toBe(true);
    return (e as Error).message;
  }
}

describe('pack files', () => {
  it('write then read: every object found at its bytes, others not; named by the index hash', () => {
    const { packs, tmp } = folders();
    const objs = objects(50);
    const path = writePack(packs, tmp, objs);
    expect(readdirSync(tmp)).toEqual([]);
    const index = PackIndex.load(path);
    expect(index.count).toBe(50);
    const file = readFileSync(path);
    expect(file.subarray(0, 8).equals(PACK_MAGIC)).toBe(true);
    const indexBytes = file.subarray(file.length - TRAILER_SIZE - 50 * ENTRY_SIZE, file.length - TRAILER_SIZE);
    expect(path.endsWith(`${blake3Hex(indexBytes)}.pack`)).toBe(true);
    for (const o of objs) {
      const i = index.find(Buffer.from(o.id, 'hex'));
      expect(i).toBeGreaterThanOrEqual(0);
      const e = index.entry(i);
      expect(e.id).toBe(o.id);
      expect(file.subarray(e.offset, e.offset + e.length).equals(o.stored)).toBe(true);
    }
    expect(index.find(Buffer.alloc(32, 0))).toBe(-1);
    expect(index.find(Buffer.alloc(32, 0xff))).toBe(-1);
    expect([...index.ids()].sort()).toEqual(objs.map((o) => o.id).sort());
  });

  it('a damaged or hostile pack is refused before anything is read from it', () => {
    const { packs, tmp } = folders();
    const fresh = () => writePack(packs, tmp, objects(8));
    expect(loadError(fresh(), (b) => b.subarray(0, 20))).toMatch(/too short|ends early|cannot hold/);
    expect(loadError(fresh(), (b) => Buffer.concat([Buffer.from('NOTAPACK'), b.subarray(8)]))).toMatch(
      /does not start as a pack/,
    );
    // a trailer claiming a billion entries: refused on the file's size, nothing allocated for them
    expect(
      loadError(fresh(), (b) => {
        b.writeUInt32LE(1e9, b.length - TRAILER_SIZE);
        return b;
      }),
    ).toMatch(/cannot hold/);
    expect(
      loadError(fresh(), (b) => {
        b[b.length - TRAILER_SIZE - 1] ^= 1;
        return b;
      }),
    ).toMatch(/checksum/);
    // entries out of order, or pointing past the objects, with a checksum that matches
    const rewrite = (b: Buffer, edit: (index: Buffer) => void) => {
      const n = b.readUInt32LE(b.length - TRAILER_SIZE);
      const at = b.length - TRAILER_SIZE - n * ENTRY_SIZE;
      const index = b.subarray(at, at + n * ENTRY_SIZE);
      edit(index);
      b.write(blake3Hex(index), b.length - 32, 32, 'hex');
      return b;
    };
    expect(
      loadError(fresh(), (b) =>
        rewrite(b, (index) => {
          const first = Buffer.from(index.subarray(0, 32));
          index.copy(index, 0, ENTRY_SIZE, ENTRY_SIZE + 32);
          first.copy(index, ENTRY_SIZE);
        }),
      ),
    ).toMatch(/not in order/);
    expect(loadError(fresh(), (b) => rewrite(b, (index) => index.writeUInt32LE(0x7fffffff, 40)))).toMatch(
      /points outside/,
    );
  });
});

describe('FsObjectStore with packs', () => {
  const store = (f: ReturnType<typeof folders>) =>
    new FsObjectStore(f.objects, f.tmp, { level: 3, fsync: false, packs: true });

  it('objects handed back by workers are readable while pending, stored by flush, found by size and time', () => {
    const f = folders();
    const s = store(f);
    const objs = objects(20, 1);
    const c = new PackedCollector();
    for (const o of objs) c.add(o.id, o.stored);
    s.acceptPacked(c.items());
    // pending: readable in this thread, not yet a pack
    expect(readdirSync(f.packs)).toEqual([]);
    expect(s.get(objs[3]!.id).equals(objs[3]!.content)).toBe(true);
    s.flushPacks();
    expect(readdirSync(f.packs)).toHaveLength(1);
    expect(readdirSync(f.tmp)).toEqual([]);
    for (const o of objs) {
      expect(s.has(o.id)).toBe(true);
      expect(s.get(o.id).equals(o.content)).toBe(true);
      expect(s.storedSize(o.id)).toBe(o.stored.length);
    }
    expect(s.readStored(objs[0]!.id, { offset: 1, length: 3 }).equals(objs[0]!.stored.subarray(1, 4))).toBe(true);
    expect(new Set(s.list())).toEqual(new Set(objs.map((o) => o.id)));
    // loose files only: a packed object is not one, and remove leaves it to repack
    expect([...s.listLoose()]).toEqual([]);
    expect(s.remove(objs[0]!.id)).toBe(-1);
    expect(s.has(objs[0]!.id)).toBe(true);
  });

  it('another process merging packs: a reader that listed the old ones finds each object in the new one', () => {
    const f = folders();
    writePack(f.packs, f.tmp, objects(5, 2));
    writePack(f.packs, f.tmp, objects(5, 3));
    const reader = new PackSet(f.objects);
    const want = objects(5, 3)[4]!;
    expect(reader.locate(want.id)).not.toBeNull();
    // the merge: one pack of both, the old two removed (a PackSet of its own, as another process has)
    const merged = new PackSet(f.objects).repack(f.tmp, { small: true });
    expect(merged.replaced).toHaveLength(2);
    expect(readdirSync(f.packs)).toHaveLength(1);
    // the reader's descriptor was opened before: still the old bytes; a new id is looked for again
    const again = new PackSet(f.objects);
    expect(again.locate(want.id)?.path).toBe(merged.written);
    const late = objects(3, 4);
    writePack(f.packs, f.tmp, late);
    expect(reader.locate(late[2]!.id)).not.toBeNull();
  });

  it('repack drops what it is told, keeps the rest, takes in small loose objects; quarantine of a packed one', () => {
    const f = folders();
    const s = store(f);
    const packed = objects(6, 5);
    writePack(f.packs, f.tmp, packed);
    const loose = s.put(Buffer.from('a loose manifest'));
    expect([...s.listLoose()]).toEqual([loose]);
    const r = s.repack(new Set([packed[0]!.id]));
    expect(r.absorbed).toBe(1);
    expect(r.objects).toBe(6); // 5 kept + the loose one
    expect([...s.listLoose()]).toEqual([]);
    expect(s.has(packed[0]!.id)).toBe(false);
    expect(s.get(loose).toString()).toBe('a loose manifest');
    const lost = join(f.objects, '..', 'lost');
    expect(s.quarantine(packed[1]!.id, lost)).toBe(true);
    expect(s.has(packed[1]!.id)).toBe(false);
    expect(readFileSync(join(lost, packed[1]!.id)).equals(packed[1]!.stored)).toBe(true);
    expect(s.has(packed[2]!.id)).toBe(true);
  });
});
