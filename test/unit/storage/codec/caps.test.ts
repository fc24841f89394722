import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, openSync, ftruncateSync, closeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { decodeObject, encodeObject, threadCodec } from '../../../../src/storage/codec.js';
import { MAX_OBJECT_SIZE } from '../../../../src/core/limits.js';
import {
  baseLoader,
  objectPath,
  readObjectFile,
  readStoredFile,
  writeObjectFile,
} from '../../../../src/storage/objectFile.js';
import { blake3Hex } from '../../../../src/storage/hash.js';
import { MvmError } from '../../../../src/errors.js';
import {
  claimingFrame,
  deltaBomb,
  planesBomb,
  rawBomb,
  rleFrame,
  storedObject,
  zstdBomb,
} from '../../../helpers/bombs.js';

const GiB = 1 << 30;
const ID = 'ab'.repeat(32);

/** The error code `f` throws (or 'none'), and how much the process's array buffers grew meanwhile. */
function attempt(f: () => unknown): { code: string; grew: number } {
  const before = process.memoryUsage().arrayBuffers;
  let code = 'none';
  try {
    f();
  } catch (e) {
    code = e instanceof MvmError ? e.code : `foreign: ${String(e)}`;
  }
  return { code, grew: process.memoryUsage().arrayBuffers - before };
}

/** Refused as OBJECT_CORRUPT with less than 8 MiB allocated on the way. */
function refusedCheaply(f: () => unknown): void {
  const { code, grew } = attempt(f);
  expect(code).toBe('OBJECT_CORRUPT');
  expect(grew).toBeLessThan(8 << 20);
}

describe('decode caps: every decode is bounded before it allocates', () => {
  it(
    'a zstd frame with no content size, 1 GiB of RLE blocks under a 1 GiB header (32 KiB stored), is refused at ' +
      'the header',
    () => {
      const bomb = zstdBomb(GiB);
      expect(bomb.length).toBeLessThan(40 << 10);
      refusedCheaply(() => decodeObject(bomb, ID));
      refusedCheaply(() => decodeObject(bomb, ID, { scratch: true }));
    },
  );

  it('the same frame under a header that declares the expected 64 KiB stops at the first byte past it', () => {
    refusedCheaply(() => decodeObject(zstdBomb(64 << 10, GiB), ID, { bound: { exact: 64 << 10 } }));
    refusedCheaply(() => decodeObject(zstdBomb(64 << 10, GiB), ID, { scratch: true }));
  });

  it('a header declaring a size other than the one its file object declares is refused before decoding', () => {
    refusedCheaply(() => decodeObject(zstdBomb(200 << 20), ID, { bound: { exact: 1 << 20 } }));
    refusedCheaply(() => decodeObject(planesBomb(200 << 20), ID, { bound: { exact: 1 << 20 } }));
  });

  it('a header over the limit of its kind is refused (metadata 64 MiB, any object MAX_OBJECT_SIZE)', () => {
    refusedCheaply(() => decodeObject(zstdBomb(100 << 20), ID, { bound: { max: 64 << 20 } }));
    refusedCheaply(() => decodeObject(zstdBomb(MAX_OBJECT_SIZE + 1), ID));
    refusedCheaply(() => decodeObject(zstdBomb(0xffffffff), ID, { scratch: true }));
    // a larger `max` does not lift the limit of every object
    refusedCheaply(() => decodeObject(zstdBomb(MAX_OBJECT_SIZE + 1), ID, { bound: { max: 2 * MAX_OBJECT_SIZE } }));
  });

  it('a frame whose header claims a huge content size is refused whatever the object header says', () => {
    refusedCheaply(() => decodeObject(storedObject(1, 0, 0xffffffff, claimingFrame(0xffffffff, 1 << 20)), ID));
    refusedCheaply(() => decodeObject(storedObject(1, 0, 64 << 10, claimingFrame(2 ** 40, 64 << 10)), ID));
    refusedCheaply(() =>
      decodeObject(storedObject(1, 0, 64 << 10, claimingFrame(GiB, 64 << 10)), ID, {
        bound: {
          exact: 64 << 10,
        },
      }),
    );
  });

  it('planes whose header claims a huge size, or whose planes expand past theirs, are refused', () => {
    refusedCheaply(() => decodeObject(planesBomb(0xfffffff0, 1 << 20), ID));
    refusedCheaply(() => decodeObject(planesBomb(MAX_OBJECT_SIZE + 4, 1 << 20), ID, { scratch: true }));
    refusedCheaply(() => decodeObject(planesBomb(64 << 10, GiB), ID, { bound: { exact: 64 << 10 } }));
  });

  it('a delta whose header claims a huge size is refused, with or without its base at hand', () => {
    const load = () => {
      throw new Error('the base must not be loaded');
    };
    refusedCheaply(() => decodeObject(deltaBomb(0xfffffff0, ID, 1 << 20), ID));
    refusedCheaply(() => decodeObject(deltaBomb(0xfffffff0, ID, 1 << 20), ID, { scratch: true, loadBase: load }));
    refusedCheaply(() =>
      decodeObject(deltaBomb(64 << 10, ID, 64 << 10), ID, {
        scratch: true,
        loadBase: load,
        bound: { exact: 32 << 10 },
      }),
    );
  });

  it('a raw object whose header claims more than it holds is refused', () => {
    refusedCheaply(() => decodeObject(rawBomb(0xffffffff), ID));
    refusedCheaply(() => decodeObject(rawBomb(1 << 20), ID, { bound: { exact: 1 << 20 } }));
  });

  it('a frame with no content size that decodes to exactly the declared size is read, in any number of blocks', () => {
    for (const n of [0, 1, 1000, 128 << 10, (300 << 10) + 7]) {
      const out = decodeObject(zstdBomb(n), ID, { bound: { exact: n } });
      expect(out.length).toBe(n);
      expect(out.every((b) => b === 0x41)).toBe(true);
    }
    // one short of the frame, or one past it
    expect(attempt(() => decodeObject(zstdBomb(1000, 999), ID)).code).toBe('OBJECT_CORRUPT');
    expect(attempt(() => decodeObject(zstdBomb(1000, 1001), ID)).code).toBe('OBJECT_CORRUPT');
    expect(attempt(() => decodeObject(Buffer.concat([zstdBomb(1000), Buffer.from([1, 2, 3])]), ID)).code).toBe(
      'OBJECT_CORRUPT',
    );
    // and a good object still decodes after a refused stream
    const text = Buffer.from('hello '.repeat(1000));
    expect(decodeObject(encodeObject(text, { level: 3 }).bytes, ID).equals(text)).toBe(true);
    expect(decodeObject(storedObject(1, 0, 500, rleFrame(500, 7)), ID).equals(Buffer.alloc(500, 7))).toBe(true);
  });
});

describe('decode caps in the object files', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an object file larger than any object can be is refused before it is read', () => {
    dir = mkdtempSync(join(tmpdir(), 'mvm-caps-'));
    const path = objectPath(dir, ID);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 2 * MAX_OBJECT_SIZE); // sparse: takes no disk
    closeSync(fd);
    refusedCheaply(() => readStoredFile(dir, ID));
    refusedCheaply(() => readObjectFile(dir, ID, { scratch: true }));
  });

  it("a delta's base whose header claims more than the delta's size is refused before the base decodes", () => {
    dir = mkdtempSync(join(tmpdir(), 'mvm-caps-'));
    mkdirSync(join(dir, 'tmp'));
    const baseId = 'cd'.repeat(32);
    writeObjectFile(dir, join(dir, 'tmp'), baseId, zstdBomb(200 << 20), false);
    const delta = deltaBomb(64 << 10, baseId, 16 << 10);
    const deltaId = blake3Hex(delta);
    writeObjectFile(dir, join(dir, 'tmp'), deltaId, delta, false);
    refusedCheaply(() => decodeObject(delta, deltaId, { scratch: true, loadBase: baseLoader(dir) }));
    refusedCheaply(() => readObjectFile(dir, deltaId, { scratch: true }));
  });
});

describe('scratch buffers', () => {
  it('grow for a large chunk and are let go by Codec.trim', () => {
    const big = Buffer.alloc(3 << 20, 0x11);
    const enc = encodeObject(big, { level: 1, scratch: true });
    const copy = Buffer.from(enc.bytes);
    expect(decodeObject(copy, ID, { scratch: true }).equals(big)).toBe(true);
    expect(threadCodec().scratchBytes()).toBeGreaterThanOrEqual(3 << 20);
    threadCodec().trim(2 << 20);
    expect(threadCodec().scratchBytes()).toBeLessThanOrEqual(6 * (2 << 20));
    for (const b of [threadCodec().scratchBytes()]) expect(b).toBeLessThan(3 << 20);
    // and decoding after the trim still works
    expect(decodeObject(copy, ID, { scratch: true }).equals(big)).toBe(true);
  });
});
