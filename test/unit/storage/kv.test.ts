import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKv, LevelKv, type KvStore } from '../../../src/storage/kv.js';

async function collect(it: AsyncIterable<[string, string]>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of it) out.push(e);
  return out;
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-kv-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function openLevel(path: string, waitMs = 1000): Promise<LevelKv> {
  const kv = await LevelKv.open(path, waitMs);
  if (typeof kv === 'string') throw new Error(`open failed: ${kv}`);
  return kv;
}

/** The behaviour every KvStore must have. */
function contract(name: string, make: () => Promise<KvStore>) {
  describe(`${name} contract`, () => {
    it('gets undefined for a missing key', async () => {
      const kv = await make();
      expect(await kv.get('nope')).toBeUndefined();
      await kv.close();
    });

    it('applies a batch of puts and dels in order', async () => {
      const kv = await make();
      await kv.batch([
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: '2' },
        { type: 'put', key: 'c', value: '3' },
        { type: 'del', key: 'b' },
        { type: 'put', key: 'a', value: '1b' },
      ]);
      expect(await kv.get('a')).toBe('1b');
      expect(await kv.get('b')).toBeUndefined();
      expect(await kv.get('c')).toBe('3');
      await kv.batch([{ type: 'del', key: 'never-there' }]);
      await kv.batch([]);
      await kv.close();
    });

    it('getMany keeps the order of the keys and fills gaps with undefined', async () => {
      const kv = await make();
      await kv.batch([
        { type: 'put', key: 'x', value: 'X' },
        { type: 'put', key: 'z', value: 'Z' },
      ]);
      expect(await kv.getMany(['z', 'missing', 'x', 'z'])).toEqual(['Z', undefined, 'X', 'Z']);
      expect(await kv.getMany([])).toEqual([]);
      await kv.close();
    });

    it('entries(prefix) lists only that prefix, in key order', async () => {
      const kv = await make();
      await kv.batch([
        { type: 'put', key: 'v:03', value: 'c' },
        { type: 'put', key: 'v:01', value: 'a' },
        { type: 'put', key: 'w:00', value: 'w' },
        { type: 'put', key: 'v:02', value: 'b' },
        { type: 'put', key: 'u:99', value: 'u' },
        { type: 'put', key: 'v:', value: 'empty-suffix' },
        { type: 'put', key: 'v:\u00e9', value: 'accent' },
      ]);
      expect(await collect(kv.entries('v:'))).toEqual([
        ['v:', 'empty-suffix'],
        ['v:01', 'a'],
        ['v:02', 'b'],
        ['v:03', 'c'],
        ['v:\u00e9', 'accent'],
      ]);
      expect(await collect(kv.entries('nothing:'))).toEqual([]);
      const all = await collect(kv.entries(''));
      expect(all.map(([k]) => k)).toEqual(['u:99', 'v:', 'v:01', 'v:02', 'v:03', 'v:\u00e9', 'w:00']);
      await kv.close();
    });

    it('stores values verbatim', async () => {
      const kv = await make();
      const value = JSON.stringify({ text: 'line\nbreak', emoji: '\u{1F600}', n: 1.5 });
      await kv.batch([
        { type: 'put', key: 'k', value },
        { type: 'put', key: 'empty', value: '' },
      ]);
      expect(await kv.get('k')).toBe(value);
      expect(await kv.get('empty')).toBe('');
      await kv.close();
    });
  });
}

contract('MemoryKv', async () => new MemoryKv());
contract('LevelKv', async () => openLevel(join(dir, `db-${Math.random().toString(36).slice(2)}`)));

describe('LevelKv', () => {
  it('persists across close and reopen', async () => {
    const path = join(dir, 'index');
    const a = await openLevel(path);
    await a.batch([
      { type: 'put', key: 'k1', value: 'v1' },
      { type: 'put', key: 'k2', value: 'v2' },
    ]);
    await a.close();
    const b = await openLevel(path);
    expect(await b.getMany(['k1', 'k2'])).toEqual(['v1', 'v2']);
    await b.close();
  });

  it("a second open while the first is open returns 'locked' after waitMs", async () => {
    const path = join(dir, 'index');
    const first = await openLevel(path);
    const t0 = Date.now();
    const second = await LevelKv.open(path, 200);
    const waited = Date.now() - t0;
    expect(second).toBe('locked');
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(5000);
    await first.close();
  });

  it('a second open that waits gets through once the first closes', async () => {
    const path = join(dir, 'index');
    const first = await openLevel(path);
    await first.batch([{ type: 'put', key: 'k', value: 'v' }]);
    setTimeout(() => void first.close(), 100);
    const second = await LevelKv.open(path, 5000);
    expect(typeof second).not.toBe('string');
    const kv = second as LevelKv;
    expect(await kv.get('k')).toBe('v');
    await kv.close();
  });

  it('a corrupt directory is reported (or opened fresh), and a fresh one in its place works', async () => {
    const path = join(dir, 'index');
    mkdirSync(path);
    writeFileSync(join(path, 'CURRENT'), 'MANIFEST-999999\n');
    writeFileSync(join(path, 'MANIFEST-999999'), Buffer.from('garbage garbage garbage'.repeat(10)));
    writeFileSync(join(path, '000005.ldb'), Buffer.alloc(4096, 0xab));
    const res = await LevelKv.open(path, 100);
    if (typeof res === 'string') {
      expect(res).toBe('corrupt');
    } else {
      // opened fresh: it must at least work
      await res.batch([{ type: 'put', key: 'k', value: 'v' }]);
      expect(await res.get('k')).toBe('v');
      await res.close();
    }
    rmSync(path, { recursive: true, force: true });
    const fresh = await openLevel(path);
    expect(await collect(fresh.entries(''))).toEqual([]);
    await fresh.batch([{ type: 'put', key: 'a', value: '1' }]);
    expect(await fresh.get('a')).toBe('1');
    await fresh.close();
  });

  it("a garbage CURRENT file yields 'corrupt'", async () => {
    const path = join(dir, 'index');
    const db = await openLevel(path);
    await db.batch([{ type: 'put', key: 'k', value: 'v' }]);
    await db.close();
    writeFileSync(join(path, 'CURRENT'), 'no-such-manifest\n');
    expect(await LevelKv.open(path, 100)).toBe('corrupt');
    rmSync(path, { recursive: true, force: true });
    const fresh = await openLevel(path);
    expect(await fresh.get('k')).toBeUndefined();
    await fresh.close();
  });

  it('a directory of unrelated files opens fresh or reports corrupt, never throws', async () => {
    const path = join(dir, 'index');
    mkdirSync(path);
    writeFileSync(join(path, 'random.bin'), Buffer.alloc(100, 7));
    const res = await LevelKv.open(path, 100);
    expect(res === 'corrupt' || typeof res === 'object').toBe(true);
    if (typeof res === 'object') await res.close();
  });

  it("with create: false, a directory that is not there is 'missing' and is not created", async () => {
    const path = join(dir, 'never');
    expect(await LevelKv.open(path, 100, { create: false })).toBe('missing');
    expect(existsSync(path)).toBe(false);
  });

  it('clear empties the store while it stays open and usable', async () => {
    const db = await openLevel(join(dir, 'index'));
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
    ]);
    await db.clear();
    expect(await collect(db.entries(''))).toEqual([]);
    await db.batch([{ type: 'put', key: 'c', value: '3' }]);
    expect(await db.get('c')).toBe('3');
    await db.close();
  });
});
