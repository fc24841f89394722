/**
 * The tests' view of stored objects (test/helpers/storedObjects.ts) against the store itself: it finds packed and
 * loose objects where FsObjectStore does, and what it damages, replaces or removes is what a store in the same
 * process then reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore } from '../../../src/storage/objectStore.js';
import { encodeObject } from '../../../src/storage/codec.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { storedObject } from '../../helpers/bombs.js';
import {
  allStored,
  corruptStored,
  diskBytes,
  isPacked,
  isStored,
  loosePath,
  packFiles,
  removeStored,
  replaceStored,
  storedBytes,
  storedIds,
  touchStored,
} from '../../helpers/storedObjects.js';

let root = '';
let objects = '';
let store: FsObjectStore;
const contents = [Buffer.alloc(3000, 1), Buffer.alloc(5000, 2), Buffer.from('a third small object')];
const ids = contents.map((c) => blake3Hex(c));
let looseId = '';

beforeEach(() => {
  // a fresh objects folder each time: this thread's pack sets are kept by path
  root = mkdtempSync(join(tmpdir(), 'mvm-stored-'));
  objects = join(root, 'objects');
  mkdirSync(objects);
  mkdirSync(join(root, 'tmp'));
  store = new FsObjectStore(objects, join(root, 'tmp'), { level: 3, fsync: false, packs: true });
  const stored = contents.map((c) => encodeObject(c, { level: 3 }).bytes);
  store.acceptPacked({ ids, lengths: stored.map((s) => s.length), data: Buffer.concat(stored) });
  store.flushPacks();
  looseId = store.put(Buffer.from('{"a loose object": true}'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('stored objects as tests see them', () => {
  it('lists and reads packed and loose objects as the store does', () => {
    expect(packFiles(objects)).toHaveLength(1);
    expect(ids.map((id) => isPacked(objects, id))).toEqual([true, true, true]);
    expect(isPacked(objects, looseId)).toBe(false);
    expect(existsSync(loosePath(objects, looseId))).toBe(true);
    expect(storedIds(objects)).toEqual(new Set([...ids, looseId]));
    const all = allStored(objects);
    for (const id of [...ids, looseId]) {
      expect(all.get(id)!.equals(store.readStored(id))).toBe(true);
      expect(storedBytes(objects, id).equals(store.readStored(id))).toBe(true);
    }
    expect(isStored(objects, 'ab'.repeat(32))).toBe(false);
    expect(() => storedBytes(objects, 'ab'.repeat(32))).toThrow(/not stored/);
    const files = statSync(packFiles(objects)[0]!).size + statSync(loosePath(objects, looseId)).size;
    expect(diskBytes(objects)).toBe(files);
  });

  it('damages a packed object in place, and restores it, under a store that keeps its pack open', () => {
    expect(store.get(ids[0]!).equals(contents[0]!)).toBe(true);
    const pack = packFiles(objects)[0]!;
    const orig = corruptStored(objects, ids[0]!);
    expect(packFiles(objects)).toEqual([pack]);
    expect(storedBytes(objects, ids[0]!).equals(orig)).toBe(false);
    expect(() => store.get(ids[0]!)).toThrow(expect.objectContaining({ code: 'OBJECT_CORRUPT' }));
    // the pack's other objects are untouched
    expect(store.get(ids[1]!).equals(contents[1]!)).toBe(true);
    replaceStored(objects, ids[0]!, orig);
    expect(store.get(ids[0]!).equals(contents[0]!)).toBe(true);
    expect(statSync(pack).mode & 0o777).toBe(0o444);
  });

  it('replaces a packed object by bytes of another length: it leaves its pack and is read from its loose file', () => {
    expect(store.get(ids[1]!).equals(contents[1]!)).toBe(true);
    const raw = storedObject(0, 0, contents[1]!.length, contents[1]!);
    expect(raw.length).not.toBe(storedBytes(objects, ids[1]!).length);
    replaceStored(objects, ids[1]!, raw);
    expect(isPacked(objects, ids[1]!)).toBe(false);
    expect(store.readStored(ids[1]!).equals(raw)).toBe(true);
    expect(store.get(ids[1]!).equals(contents[1]!)).toBe(true);
    expect([ids[0]!, ids[2]!].map((id) => isPacked(objects, id))).toEqual([true, true]);
    expect(store.get(ids[2]!).equals(contents[2]!)).toBe(true);
  });

  it('removes packed and loose objects so that the store no longer has them', () => {
    expect(ids.every((id) => store.has(id))).toBe(true);
    removeStored(objects, ids[2]!);
    removeStored(objects, looseId);
    expect(store.has(ids[2]!)).toBe(false);
    expect(store.has(looseId)).toBe(false);
    expect(storedIds(objects)).toEqual(new Set([ids[0]!, ids[1]!]));
    expect(store.get(ids[0]!).equals(contents[0]!)).toBe(true);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('ages loose files and packs alike', () => {
    const t = Math.floor(Date.now() / 1000) - 3 * 86_400;
    touchStored(objects, t);
    for (const p of [...packFiles(objects), loosePath(objects, looseId)])
      expect(Math.floor(statSync(p).mtimeMs / 1000)).toBe(t);
  });
});
