/**
 * A delta from elsewhere in the local store: checked through its base here
 * (FsObjectStore.receiveDelta, putStored), stored at its depth here or whole
 * past the bound, and handed back by a put task while its base is not here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore } from '../../../src/storage/objectStore.js';
import { runChunkTask, type PutResult } from '../../../src/storage/chunkTasks.js';
import { decodedSize, deltaOf, encodeDelta, encodeObject } from '../../../src/storage/codec.js';
import { MAX_DELTA_DEPTH } from '../../../src/storage/delta.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { codeOf } from '../../helpers/errors.js';
import { randomBf16 } from '../../helpers/data.js';

let root = '';
let store: FsObjectStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mvm-receive-'));
  mkdirSync(join(root, 'objects'));
  mkdirSync(join(root, 'tmp'));
  store = new FsObjectStore(join(root, 'objects'), join(root, 'tmp'), { level: 3, fsync: false });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** `content` changed at a few places (a small fine-tune step), distinct per `k`. */
function step(content: Buffer, k: number): Buffer {
  const c = Buffer.from(content);
  for (let i = 0; i < 32; i++) c[(k * 131 + i * 1021) % c.length] ^= 1;
  return c;
}

/** `content` as a bf16 delta on `base` (id `baseId`), claiming `depth`. */
function delta(content: Buffer, base: Buffer, baseId: string, depth = 1): Buffer {
  const d = Buffer.from(encodeDelta(content, base, baseId, 1, 'bf16')!.bytes);
  d[8 + 32] = depth;
  return d;
}

/** A chain here: a whole base, then `n` deltas each on the one before; their contents and ids. */
function chainHere(n: number): { contents: Buffer[]; ids: string[] } {
  const contents = [randomBf16(4096, 0.02, 5)];
  const ids = [blake3Hex(contents[0]!)];
  store.writeEncoded(ids[0]!, encodeObject(contents[0]!, { level: 3, group: 'bf16' }).bytes);
  for (let i = 1; i <= n; i++) {
    contents.push(step(contents[i - 1]!, i));
    ids.push(blake3Hex(contents[i]!));
    store.writeEncoded(ids[i]!, delta(contents[i]!, contents[i - 1]!, ids[i - 1]!, i));
  }
  return { contents, ids };
}

describe('FsObjectStore.receiveDelta', () => {
  it('checks a delta through its base here and stores it at its depth here, whatever depth it claims', () => {
    const { contents, ids } = chainHere(3);
    const next = step(contents[3]!, 9);
    const id = blake3Hex(next);
    for (const claimed of [1, 4, 8]) {
      const r = store.receiveDelta(id, delta(next, contents[3]!, ids[3]!, claimed));
      expect(r.content.equals(next)).toBe(true);
      expect(deltaOf(r.stored)).toEqual({ base: ids[3], depth: 4 });
    }
    store.putStored(id, delta(next, contents[3]!, ids[3]!, 1));
    expect(store.deltaOf(id)).toEqual({ base: ids[3], depth: 4 });
    expect(store.get(id).equals(next)).toBe(true);
  });

  it('stores the chunk whole when its base here is already MAX_DELTA_DEPTH deep', () => {
    const { contents, ids } = chainHere(MAX_DELTA_DEPTH);
    const next = step(contents[MAX_DELTA_DEPTH]!, 99);
    const id = blake3Hex(next);
    const r = store.receiveDelta(id, delta(next, contents[MAX_DELTA_DEPTH]!, ids[MAX_DELTA_DEPTH]!));
    expect(r.content.equals(next)).toBe(true);
    expect(deltaOf(r.stored)).toBeNull();
    expect(decodedSize(r.stored)).toBe(next.length);
    store.putStored(id, delta(next, contents[MAX_DELTA_DEPTH]!, ids[MAX_DELTA_DEPTH]!));
    expect(store.deltaOf(id)).toBeNull();
    expect(store.get(id).equals(next)).toBe(true);
  });

  it('refuses a delta decoding to other content, of another size, or on a base not here; stores nothing', () => {
    const { contents, ids } = chainHere(1);
    const next = step(contents[1]!, 7);
    const id = blake3Hex(next);
    const wrong = delta(step(next, 3), contents[1]!, ids[1]!);
    expect(codeOf(() => store.putStored(id, wrong))).toBe('OBJECT_CORRUPT');
    expect(codeOf(() => store.receiveDelta(id, delta(next, contents[1]!, ids[1]!), { bound: { exact: 100 } }))).toBe(
      'OBJECT_CORRUPT',
    );
    expect(codeOf(() => store.putStored(id, delta(next, contents[1]!, 'ef'.repeat(32))))).toBe('OBJECT_MISSING');
    expect(store.has(id)).toBe(false);
  });
});

describe('a put task', () => {
  it('hands back a delta whose base is not here (nothing written), and stores it once the base is', () => {
    const base = randomBf16(4096, 0.02, 8);
    const baseId = blake3Hex(base);
    const next = step(base, 1);
    const id = blake3Hex(next);
    const bytes = delta(next, base, baseId);
    const put = (keepDeferred: boolean) =>
      runChunkTask({
        op: 'put',
        data: new Uint8Array(bytes),
        items: [{ id, offset: 0, length: bytes.length, size: next.length }],
        store: store.workerHandle(),
        keepDeferred,
      }) as PutResult;
    const first = put(true);
    expect(first.error).toBeUndefined();
    expect(first.deferred).toMatchObject([{ id, base: baseId, size: next.length }]);
    expect(Buffer.from(first.deferred![0]!.bytes!).equals(bytes)).toBe(true);
    expect(put(false).deferred?.[0]?.bytes).toBeNull();
    expect(store.has(id)).toBe(false);
    store.writeEncoded(baseId, encodeObject(base, { level: 3, group: 'bf16' }).bytes);
    const second = put(true);
    expect(second.deferred).toBeUndefined();
    expect(store.get(id).equals(next)).toBe(true);
    expect(readFileSync(store.path(id))[2]).toBe(3);
  });

  it('refuses a delta declaring another size than its file object says before waiting for its base', () => {
    const base = randomBf16(4096, 0.02, 9);
    const next = step(base, 2);
    const bytes = delta(next, base, blake3Hex(base));
    const r = runChunkTask({
      op: 'put',
      data: bytes,
      items: [{ id: blake3Hex(next), offset: 0, length: bytes.length, size: next.length + 2 }],
      store: store.workerHandle(),
      keepDeferred: true,
    });
    expect(r.error?.code).toBe('OBJECT_CORRUPT');
  });
});
