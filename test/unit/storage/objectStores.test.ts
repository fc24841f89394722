import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore, type ObjectStore } from '../../../src/storage/objectStore.js';
import { MemoryObjectStore } from '../../../src/storage/memoryObjectStore.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { MvmError } from '../../../src/errors.js';
import { codeOf } from '../../helpers/errors.js';

// The contract every ObjectStore keeps (the local store, the in-memory one, and remotes to come).

const TEXT = Buffer.from('all work and no play makes jack a dull boy\n'.repeat(200));
const NEVER = blake3Hex(Buffer.from('never stored'));

/** One implementation under test: a fresh store, a way to damage an object's stored bytes, and cleanup. */
interface Harness {
  store: ObjectStore;
  damage(id: string, edit: (stored: Buffer) => Buffer): void;
  cleanup(): void;
}

function fsHarness(level: number): Harness {
  const root = mkdtempSync(join(tmpdir(), 'mvm-stores-'));
  mkdirSync(join(root, 'tmp'));
  const store = new FsObjectStore(join(root, 'objects'), join(root, 'tmp'), { level, fsync: false });
  return {
    store,
    damage(id, edit) {
      chmodSync(store.path(id), 0o644);
      writeFileSync(store.path(id), edit(readFileSync(store.path(id))));
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

function memoryHarness(level: number): Harness {
  const objects = new Map<string, Buffer>();
  return {
    store: new MemoryObjectStore({ level, objects }),
    damage: (id, edit) => objects.set(id, edit(Buffer.from(objects.get(id)!))),
    cleanup: () => {},
  };
}

function errorOf(fn: () => unknown): MvmError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MvmError);
    return e as MvmError;
  }
  throw new Error('expected an MvmError');
}

const flip = (pos: number) => (b: Buffer) => {
  b[pos < 0 ? b.length + pos : pos] ^= 0x55;
  return b;
};

const IMPLEMENTATIONS: [string, (level: number) => Harness][] = [
  ['FsObjectStore', fsHarness],
  ['MemoryObjectStore', memoryHarness],
];

describe.each(IMPLEMENTATIONS)('%s keeps the ObjectStore contract', (_name, make) => {
  const open: Harness[] = [];
  const fresh = (level = 3) => {
    const h = make(level);
    open.push(h);
    return h;
  };
  let h: Harness;
  let store: ObjectStore;
  beforeEach(() => {
    h = fresh();
    store = h.store;
  });
  afterEach(() => {
    for (const o of open.splice(0)) o.cleanup();
  });

  it('round-trips content, named by its BLAKE3, compressed or raw', () => {
    for (const level of [0, 3]) {
      const s = level === 3 ? store : fresh(level).store;
      for (const c of [TEXT, Buffer.from('tiny'), Buffer.alloc(0)]) {
        const id = s.put(c);
        expect(id).toBe(blake3Hex(c));
        expect(s.has(id)).toBe(true);
        expect(s.get(id).equals(c)).toBe(true);
        expect(s.put(Buffer.from(c))).toBe(id);
        expect(s.storedSize(id)).toBe(s.readStored(id).length);
      }
      expect(new Set(s.list())).toEqual(new Set([TEXT, Buffer.from('tiny'), Buffer.alloc(0)].map((c) => blake3Hex(c))));
    }
    expect(store.storedSize(blake3Hex(TEXT))).toBeLessThan(TEXT.length);
  });

  it('storedTotal is the sum of storedSize over the ids present; an absent id adds nothing', () => {
    const ids = [TEXT, Buffer.from('tiny'), Buffer.alloc(0)].map((c) => store.put(c));
    const absent = blake3Hex(Buffer.from('absent'));
    const sum = ids.reduce((n, id) => n + store.storedSize(id), 0);
    expect(sum).toBeGreaterThan(0);
    expect(store.storedTotal([...ids, absent])).toBe(sum);
    expect(store.storedTotal([absent])).toBe(0);
  });

  it('remove deletes one object and returns its stored size; removing it again is -1', () => {
    const keep = store.put(Buffer.from('keep'));
    const id = store.put(TEXT);
    const size = store.storedSize(id);
    expect(store.remove(id)).toBe(size);
    expect(store.has(id)).toBe(false);
    expect(store.remove(id)).toBe(-1);
    expect([...store.list()]).toEqual([keep]);
    expect(() => store.get(id)).toThrow(expect.objectContaining({ code: 'OBJECT_MISSING' }));
  });

  it('moves stored bytes to another store with readStored / putStored, unchanged', () => {
    const id = store.put(TEXT);
    const stored = store.readStored(id);
    const other = fresh(0).store;
    other.putStored(id, stored);
    expect(other.readStored(id).equals(stored)).toBe(true); // kept as encoded, not re-encoded at level 0
    expect(other.get(id).equals(TEXT)).toBe(true);
    other.putStored(id, stored); // already there: a no-op
    expect([...other.list()]).toEqual([id]);
  });

  it("readStored returns the caller's own buffer", () => {
    const id = store.put(TEXT);
    store.readStored(id).fill(0);
    store.readStored(id, { offset: 0, length: 16 }).fill(0);
    expect(store.get(id).equals(TEXT)).toBe(true);
  });

  it('a missing id: OBJECT_MISSING with the id from get and readStored; absent elsewhere', () => {
    for (const fn of [
      () => store.get(NEVER),
      () => store.readStored(NEVER),
      () => store.readStored(NEVER, { offset: 0, length: 1 }),
    ]) {
      const e = errorOf(fn);
      expect(e.code).toBe('OBJECT_MISSING');
      expect(e.data.id).toBe(NEVER);
      expect(e.data.hint).toMatch(/mvm fsck/);
    }
    expect(store.has(NEVER)).toBe(false);
    expect(store.storedSize(NEVER)).toBe(-1);
    expect([...store.list()]).toEqual([]);
  });

  it('a flipped byte: OBJECT_CORRUPT with the id, and another store refuses the damaged bytes', () => {
    for (const [level, pos] of [
      [3, -3],
      [0, 100],
      [3, 0],
      [0, 2],
    ] as const) {
      const { store: s, damage } = fresh(level);
      const id = s.put(TEXT);
      damage(id, flip(pos));
      const e = errorOf(() => s.get(id));
      expect(e.code).toBe('OBJECT_CORRUPT');
      expect(e.data.id).toBe(id);
      expect(e.data.hint).toMatch(/mvm fsck/);
      const other = fresh().store;
      expect(codeOf(() => other.putStored(id, s.readStored(id)))).toBe('OBJECT_CORRUPT');
      expect(other.has(id)).toBe(false);
    }
  });

  it('a truncated or emptied object: OBJECT_CORRUPT', () => {
    const id = store.put(TEXT);
    h.damage(id, (b) => b.subarray(0, 20));
    expect(codeOf(() => store.get(id))).toBe('OBJECT_CORRUPT');
    h.damage(id, () => Buffer.alloc(0));
    expect(codeOf(() => store.get(id))).toBe('OBJECT_CORRUPT');
    expect(store.readStored(id).length).toBe(0);
  });

  it('ranged reads: cut short at the end, empty at the end, BAD_VALUE past it or when malformed', () => {
    const id = store.put(TEXT);
    const all = store.readStored(id);
    const n = all.length;
    const read = (offset: number, length: number) => store.readStored(id, { offset, length });
    expect(read(0, 0).length).toBe(0);
    expect(read(0, n).equals(all)).toBe(true);
    expect(read(0, n + 100).equals(all)).toBe(true);
    expect(read(0, 1).equals(all.subarray(0, 1))).toBe(true);
    expect(read(1, n - 2).equals(all.subarray(1, n - 1))).toBe(true);
    expect(read(n - 1, 1).equals(all.subarray(n - 1))).toBe(true);
    expect(read(n - 1, 10).equals(all.subarray(n - 1))).toBe(true);
    expect(read(n, 0).length).toBe(0);
    expect(read(n, 5).length).toBe(0);
    for (const [o, l] of [
      [n + 1, 0],
      [-1, 2],
      [0, -1],
      [0.5, 1],
      [0, Number.NaN],
      [Number.POSITIVE_INFINITY, 1],
    ]) {
      expect(
        codeOf(() => read(o!, l!)),
        `${o}+${l}`,
      ).toBe('BAD_VALUE');
    }
    // a transfer in pieces puts back the same object
    const parts: Buffer[] = [];
    for (let at = 0; at < n; at += 7) parts.push(read(at, 7));
    const other = fresh().store;
    other.putStored(id, Buffer.concat(parts));
    expect(other.get(id).equals(TEXT)).toBe(true);
  });

  it('putStored refuses bytes whose content does not hash to the id, and stores nothing', () => {
    const a = store.put(Buffer.from('content A'));
    const b = store.put(Buffer.from('content B'));
    const other = fresh().store;
    const refusals: Uint8Array[] = [
      store.readStored(b), // a valid object, but another one
      store.readStored(a).subarray(0, 5), // truncated header
      Buffer.alloc(0),
      Buffer.from('not an object at all'),
      flip(-1)(store.readStored(a)),
    ];
    for (const bytes of refusals) {
      const e = errorOf(() => other.putStored(a, bytes));
      expect(e.code).toBe('OBJECT_CORRUPT');
      expect(e.data.id).toBe(a);
    }
    expect(other.has(a)).toBe(false);
    expect([...other.list()]).toEqual([]);
    // a present object is not overwritten by bad bytes either
    expect(codeOf(() => store.putStored(a, store.readStored(b)))).toBe('OBJECT_CORRUPT');
    expect(store.get(a).toString()).toBe('content A');
  });
});

describe('stores of different kinds exchange objects', () => {
  it('FsObjectStore -> MemoryObjectStore -> FsObjectStore, by ranged reads', () => {
    const src = fsHarness(3);
    const back = fsHarness(0);
    try {
      const mem = new MemoryObjectStore();
      const ids = [TEXT, Buffer.from('x'), Buffer.alloc(0)].map((c) => src.store.put(c));
      for (const id of src.store.list()) mem.putStored(id, src.store.readStored(id));
      for (const id of mem.list()) {
        const size = mem.storedSize(id);
        const half = Math.floor(size / 2);
        back.store.putStored(
          id,
          Buffer.concat([
            mem.readStored(id, { offset: 0, length: half }),
            mem.readStored(id, { offset: half, length: size }),
          ]),
        );
      }
      for (const id of ids) expect(back.store.readStored(id).equals(src.store.readStored(id))).toBe(true);
      expect(back.store.get(ids[0]!).equals(TEXT)).toBe(true);
    } finally {
      src.cleanup();
      back.cleanup();
    }
  });
});
