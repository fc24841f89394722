import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import {
  mkdtempSync,
  rmSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  chmodSync,
  statSync,
  readdirSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore } from '../../../src/storage/objectStore.js';
import { writeObjectFile } from '../../../src/storage/objectFile.js';
import { runChunkTask, taskError } from '../../../src/storage/chunkTasks.js';
import { chunkError } from '../../../src/storage/chunkPool.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { Encoding, encodeObject, HEADER_SIZE } from '../../../src/storage/codec.js';
import { MvmError } from '../../../src/errors.js';
import { codeOf } from '../../helpers/errors.js';

const TEXT = Buffer.from('all work and no play makes jack a dull boy\n'.repeat(200));

let root = '';
let store: FsObjectStore;
const make = (level = 3) => new FsObjectStore(join(root, 'objects'), join(root, 'tmp'), { level, fsync: false });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mvm-objstore-'));
  mkdirSync(join(root, 'objects'));
  mkdirSync(join(root, 'tmp'));
  store = make();
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('FsObjectStore', () => {
  it('names objects by the BLAKE3 of their content and stores them under <2 hex>/<62 hex>', () => {
    const id = store.put(TEXT);
    expect(id).toBe(blake3Hex(TEXT));
    expect(store.path(id)).toBe(join(root, 'objects', id.slice(0, 2), id.slice(2)));
    expect(statSync(store.path(id)).isFile()).toBe(true);
  });

  it('get returns the exact content', () => {
    const small = Buffer.from('tiny');
    const empty = Buffer.alloc(0);
    for (const c of [TEXT, small, empty]) {
      const id = store.put(c);
      expect(store.get(id).equals(c)).toBe(true);
    }
  });

  it('storedTotal adds up the stored sizes of the ids here, packed or loose, and counts absent ones as 0', () => {
    const a = store.put(Buffer.from('a'.repeat(5000)));
    const b = store.put(TEXT);
    store.writePacks();
    store.repack(new Set());
    // a and b now live in a pack, c in its own file
    expect(store.stat(a)).not.toBeNull();
    expect(statSync(store.path(a), { throwIfNoEntry: false })).toBeUndefined();
    const c = store.put(Buffer.from('c'.repeat(70_000)));
    expect(statSync(store.path(c)).isFile()).toBe(true);
    const absent = blake3Hex(Buffer.from('never stored'));
    const sizes = [a, b, c].map((id) => store.storedSize(id));
    expect(sizes.every((n) => n > 0)).toBe(true);
    expect(store.storedTotal([a, b, c, absent])).toBe(sizes[0]! + sizes[1]! + sizes[2]!);
    expect(store.storedTotal([absent])).toBe(0);
    expect(store.storedTotal(new Set([c]))).toBe(sizes[2]);
  });

  it('has reports presence', () => {
    const id = blake3Hex(TEXT);
    expect(store.has(id)).toBe(false);
    store.put(TEXT);
    expect(store.has(id)).toBe(true);
  });

  it('put is idempotent and leaves no temporary files behind', () => {
    const a = store.put(TEXT);
    const mtime = statSync(store.path(a)).mtimeMs;
    const b = store.put(Buffer.from(TEXT));
    expect(b).toBe(a);
    expect(statSync(store.path(a)).mtimeMs).toBe(mtime);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect([...store.list()]).toEqual([a]);
  });

  it('stores objects read-only', () => {
    const id = store.put(TEXT);
    expect(statSync(store.path(id)).mode & 0o222).toBe(0);
  });

  it('storedSize is the compressed size, or -1 when absent', () => {
    const id = store.put(TEXT);
    const size = store.storedSize(id);
    expect(size).toBeGreaterThan(HEADER_SIZE);
    expect(size).toBeLessThan(TEXT.length);
    expect(size).toBe(readFileSync(store.path(id)).length);
    expect(store.storedSize('f'.repeat(64))).toBe(-1);
  });

  it('level 0 stores raw', () => {
    const raw = make(0);
    const id = raw.put(TEXT);
    expect(raw.encoding(id)).toBe(Encoding.raw);
    expect(raw.storedSize(id)).toBe(TEXT.length + HEADER_SIZE);
    expect(store.encoding(id)).toBe(Encoding.raw); // same directory
    expect(raw.encoding('0'.repeat(64))).toBe(-1);
  });

  it('list yields every object id and ignores stray files', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add(store.put(Buffer.from(`object ${i}`)));
    writeFileSync(join(root, 'objects', 'README'), 'x');
    mkdirSync(join(root, 'objects', 'zz'));
    writeFileSync(join(root, 'objects', 'zz', 'a'.repeat(62)), 'x');
    const someFan = [...ids][0]!.slice(0, 2);
    writeFileSync(join(root, 'objects', someFan, 'tmp-partial'), 'x');
    const listed = [...store.list()];
    expect(listed.length).toBe(ids.size);
    expect(new Set(listed)).toEqual(ids);
  });

  it('list of a missing directory is empty', () => {
    const s = new FsObjectStore(join(root, 'nope'), join(root, 'tmp'), { level: 3, fsync: false });
    expect([...s.list()]).toEqual([]);
  });

  it('get of a missing id throws OBJECT_MISSING with the id', () => {
    const missing = blake3Hex(Buffer.from('never stored'));
    try {
      store.get(missing);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MvmError);
      expect((e as MvmError).code).toBe('OBJECT_MISSING');
      expect((e as MvmError).data.id).toBe(missing);
    }
  });

  it('get of a corrupted object file throws OBJECT_CORRUPT', () => {
    const id = store.put(TEXT);
    const p = store.path(id);
    chmodSync(p, 0o644);
    const b = readFileSync(p);
    b[b.length - 3] ^= 0x55;
    writeFileSync(p, b);
    expect(codeOf(() => store.get(id))).toBe('OBJECT_CORRUPT');
  });

  it('get of a truncated or emptied object file throws OBJECT_CORRUPT', () => {
    const id = store.put(TEXT);
    const p = store.path(id);
    chmodSync(p, 0o644);
    writeFileSync(p, readFileSync(p).subarray(0, 20));
    expect(codeOf(() => store.get(id))).toBe('OBJECT_CORRUPT');
    writeFileSync(p, Buffer.alloc(0));
    expect(codeOf(() => store.get(id))).toBe('OBJECT_CORRUPT');
  });

  it('get of a valid object filed under the wrong id throws OBJECT_CORRUPT (hash mismatch)', () => {
    const a = store.put(Buffer.from('content A'));
    const b = store.put(Buffer.from('content B'));
    chmodSync(store.path(a), 0o644);
    writeFileSync(store.path(a), readFileSync(store.path(b)));
    expect(codeOf(() => store.get(a))).toBe('OBJECT_CORRUPT');
    expect(store.get(b).toString()).toBe('content B');
  });

  it('put after an object file was deleted writes it again', () => {
    const id = store.put(TEXT);
    unlinkSync(store.path(id));
    expect(store.has(id)).toBe(false);
    expect(store.put(TEXT)).toBe(id);
    expect(store.get(id).equals(TEXT)).toBe(true);
  });

  it('putStored writes a read-only file and leaves no temporary files behind', () => {
    const other = new FsObjectStore(join(root, 'other'), join(root, 'tmp'), { level: 3, fsync: true });
    const id = store.put(TEXT);
    other.putStored(id, store.readStored(id));
    expect(statSync(other.path(id)).mode & 0o222).toBe(0);
    expect(readFileSync(other.path(id)).equals(readFileSync(store.path(id)))).toBe(true);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('put with fsync writes the object, and again after its directory was removed', () => {
    const synced = new FsObjectStore(join(root, 'objects'), join(root, 'tmp'), { level: 3, fsync: true });
    const id = synced.put(TEXT);
    rmSync(join(root, 'objects', id.slice(0, 2)), { recursive: true });
    expect(synced.has(id)).toBe(false);
    expect(synced.put(TEXT)).toBe(id);
    expect(synced.get(id).equals(TEXT)).toBe(true);
  });

  it('a failed object write removes its temporary file and names the object file', () => {
    const id = blake3Hex(TEXT);
    mkdirSync(store.path(id), { recursive: true }); // a directory where the file should go
    mkdirSync(join(store.path(id), 'x'));
    try {
      writeObjectFile(store.dir, store.tmpDir, id, Buffer.from('bytes'), true);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MvmError);
      expect((e as MvmError).message).toContain(store.path(id));
    }
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });
});

describe('chunk tasks read and write the same object files as FsObjectStore', () => {
  it('a range task stores chunks that get and load read back', () => {
    const src = join(root, 'model.bin');
    const data = Buffer.concat([TEXT, Buffer.from('a different second chunk '.repeat(300))]);
    writeFileSync(src, data);
    const half = TEXT.length;
    const task = {
      op: 'range' as const,
      path: src,
      write: true,
      store: { ...store.workerHandle(), fsync: true },
      spans: [
        { start: 0, end: half, group: null },
        { start: half, end: data.length, group: 'bf16' as const },
      ],
    };
    const r = runChunkTask(task);
    expect(r.error).toBeUndefined();
    if (r.op !== 'range' || !('chunks' in r)) throw new Error('not a range result');
    expect(r.chunks.map((c) => c.isNew)).toEqual([true, true]);
    for (const [i, c] of r.chunks.entries()) {
      const want = i === 0 ? data.subarray(0, half) : data.subarray(half);
      expect(store.get(c.id).equals(want)).toBe(true);
      const loaded = store.load(c.id, { scratch: true });
      expect(loaded.content.equals(want)).toBe(true);
      expect(loaded.storedBytes).toBe(store.storedSize(c.id));
      expect(statSync(store.path(c.id)).mode & 0o222).toBe(0);
    }
    const again = runChunkTask(task);
    expect('chunks' in again && again.chunks.map((c) => c.isNew)).toEqual([false, false]);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('load and verify tasks fail OBJECT_MISSING / OBJECT_CORRUPT with the id and the fsck hint', () => {
    const missing = blake3Hex(Buffer.from('never stored'));
    expect(codeOf(() => store.load(missing, { scratch: true }))).toBe('OBJECT_MISSING');
    const id = store.put(TEXT);
    chmodSync(store.path(id), 0o644);
    writeFileSync(store.path(id), readFileSync(store.path(id)).subarray(0, 30));
    expect(codeOf(() => store.load(id))).toBe('OBJECT_CORRUPT');
    for (const [which, code] of [
      [missing, 'OBJECT_MISSING'],
      [id, 'OBJECT_CORRUPT'],
    ] as const) {
      const r = runChunkTask({ op: 'verify', id: which, store: store.workerHandle() });
      const e = chunkError(r.error!) as MvmError;
      expect([e.code, e.data.id]).toEqual([code, which]);
      expect(e.data.hint).toMatch(/mvm fsck/);
    }
  });

  it('a system error crosses the thread boundary with its code, path and hint', () => {
    const id = blake3Hex(TEXT);
    mkdirSync(store.path(id), { recursive: true });
    const e = chunkError(taskError(catchError(() => store.load(id, { scratch: true })))) as MvmError;
    expect(e.code).toBe('UNREADABLE');
    expect(e.data.path).toBe(store.path(id));
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('quarantine', () => {
  const packedStore = () =>
    new FsObjectStore(join(root, 'objects'), join(root, 'tmp'), { level: 3, fsync: false, packs: true });

  it('of a damaged packed object with a good loose copy sets the packed bytes aside, not the loose file', () => {
    const s = packedStore();
    const content = Buffer.alloc(3000, 1);
    const id = blake3Hex(content);
    const good = Buffer.from(s.portableStored(s.put(content)));
    // the packed copy (read first) is damaged; the loose one, as a crash in gc's repack may leave it, is good
    const bad = Buffer.from(good);
    bad[bad.length >> 1]! ^= 0x5a;
    s.acceptPacked({ ids: [id], lengths: [bad.length], data: bad });
    s.flushPacks();
    expect(() => s.get(id)).toThrow(expect.objectContaining({ code: 'OBJECT_CORRUPT' }));
    const lost = join(root, 'lost');
    expect(s.quarantine(id, lost)).toBe(true);
    expect(readFileSync(join(lost, id)).equals(bad)).toBe(true);
    expect(s.get(id).equals(content)).toBe(true);
    expect(s.packs().packs).toEqual([]);
  });

  it("of a packed object writes its pack again without it; the pack's other objects stay", () => {
    const s = packedStore();
    const items = [Buffer.alloc(2000, 2), Buffer.alloc(2500, 3)].map((c) => ({
      id: blake3Hex(c),
      content: c,
      stored: Buffer.from(encodeObject(c, { level: 3 }).bytes),
    }));
    s.acceptPacked({
      ids: items.map((i) => i.id),
      lengths: items.map((i) => i.stored.length),
      data: Buffer.concat(items.map((i) => i.stored)),
    });
    s.flushPacks();
    expect(s.quarantine(items[0]!.id, join(root, 'lost'))).toBe(true);
    expect(readFileSync(join(root, 'lost', items[0]!.id)).equals(items[0]!.stored)).toBe(true);
    expect(s.has(items[0]!.id)).toBe(false);
    expect(s.get(items[1]!.id).equals(items[1]!.content)).toBe(true);
    expect(s.quarantine(items[0]!.id, join(root, 'lost'))).toBe(false);
  });
});
