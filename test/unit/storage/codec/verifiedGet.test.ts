import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeObject, encodingOf, Encoding, HEADER_SIZE } from '../../../../src/storage/codec.js';
import { FsObjectStore, type ObjectStore } from '../../../../src/storage/objectStore.js';
import { MemoryObjectStore } from '../../../../src/storage/memoryObjectStore.js';
import { TEXT, corruptError, resultOrCorrupt } from './fixtures.js';

describe('hash verification in FsObjectStore.get', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  function store(level: number): FsObjectStore {
    dir = mkdtempSync(join(tmpdir(), 'mvm-codec-'));
    mkdirSync(join(dir, 'objects'));
    mkdirSync(join(dir, 'tmp'));
    return new FsObjectStore(join(dir, 'objects'), join(dir, 'tmp'), { level, fsync: false });
  }

  function flip(path: string, pos: number, mask = 0x01): void {
    chmodSync(path, 0o644);
    const b = readFileSync(path);
    b[pos] ^= mask;
    writeFileSync(path, b);
  }

  it('catches a flipped byte in a RAW object as OBJECT_CORRUPT', () => {
    const s = store(0);
    const id = s.put(TEXT);
    expect(s.encoding(id)).toBe(Encoding.raw);
    // decodeObject alone would return the wrong bytes...
    flip(s.path(id), HEADER_SIZE + 100);
    const stored = readFileSync(s.path(id));
    expect(decodeObject(stored, id).equals(TEXT)).toBe(false);
    // ...but the store verifies the hash
    corruptError(() => s.get(id));
  });

  it('get of a zstd object with any flipped bit returns the exact original content or throws OBJECT_CORRUPT', () => {
    const s = store(3);
    everyFlipCaught(s, (id, bytes) => {
      chmodSync(s.path(id), 0o644);
      writeFileSync(s.path(id), bytes);
    });
  });

  it('catches a zeroed length field as OBJECT_CORRUPT', () => {
    const s = store(3);
    const id = s.put(TEXT);
    chmodSync(s.path(id), 0o644);
    const b = readFileSync(s.path(id));
    b.writeUInt32LE(0, 4);
    writeFileSync(s.path(id), b);
    corruptError(() => s.get(id));
  });
});

describe('hash verification in MemoryObjectStore.get', () => {
  it('get of a zstd object with any flipped bit returns the exact original content or throws OBJECT_CORRUPT', () => {
    const objects = new Map<string, Buffer>();
    everyFlipCaught(new MemoryObjectStore({ level: 3, objects }), (id, bytes) => objects.set(id, bytes));
  });
});

/**
 * Stores TEXT as zstd, then flips each bit 0 and 5 of every stored byte in
 * turn (`write` puts the damaged bytes in place): get returns the exact
 * original or throws OBJECT_CORRUPT, and almost every flip is caught.
 */
function everyFlipCaught(s: ObjectStore, write: (id: string, stored: Buffer) => void): void {
  const id = s.put(TEXT);
  const original = s.readStored(id);
  expect(encodingOf(original)).toBe(Encoding.zstd);
  const size = original.length;
  let threw = 0;
  for (let pos = 0; pos < size; pos++) {
    for (const mask of [0x01, 0x20]) {
      const b = Buffer.from(original);
      b[pos]! ^= mask;
      write(id, b);
      const got = resultOrCorrupt(() => s.get(id), `position ${pos}`);
      if (got === null) {
        threw++;
        continue;
      }
      expect(got.equals(TEXT), `position ${pos} mask ${mask} returned wrong bytes`).toBe(true);
    }
  }
  // almost every flip must be detected
  expect(threw).toBeGreaterThan(size * 2 - 8);
}
