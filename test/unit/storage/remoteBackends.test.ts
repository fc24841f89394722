import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderBackend } from '../../../src/storage/remote/folder.js';
import { acquireLock } from '../../../src/storage/lock.js';
import { s3Error } from '../../../src/storage/remote/s3.js';
import { parseRemoteUrl } from '../../../src/storage/remote/open.js';
import {
  buildPack,
  MAX_CHUNK_PACKS,
  packLayout,
  packParts,
  parsePackIndex,
} from '../../../src/storage/remote/packs.js';
import { isSafeKey } from '../../../src/storage/remote/backend.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { canonicalJson } from '../../../src/core/canonical.js';
import { expectSizeAndRemove } from '../../helpers/backendContract.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-remote-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FolderBackend', () => {
  it('write/read/readRange/list round trip, and a missing key reads as null', async () => {
    const b = new FolderBackend(dir, join(dir, 'r'));
    b.ensure();
    await b.write('packs/a.pack', Buffer.from('0123456789'));
    await b.write('refs/heads/main', Buffer.from('x\n'));
    expect((await b.read('packs/a.pack'))?.data.toString()).toBe('0123456789');
    expect((await b.readRange('packs/a.pack', 3, 4)).toString()).toBe('3456');
    expect(await b.read('packs/none')).toBeNull();
    expect(await b.list('packs/')).toEqual(['packs/a.pack']);
    expect(await b.list('refs/')).toEqual(['refs/heads/main']);
    await expect(b.readRange('packs/a.pack', 8, 4)).rejects.toMatchObject({ code: 'REMOTE_CORRUPT' });
    expect(b.stats.requests).toBe(8);
  });

  it(
    "size reports a file's bytes (null when absent); remove deletes it, and removing what is gone is " + 'no error',
    async () => {
      const b = new FolderBackend(dir, join(dir, 'r'));
      b.ensure();
      await expectSizeAndRemove(b);
    },
  );

  it(
    'read refuses a file over its cap before reading it (a sparse 1 GiB file), and readRange a lying range before ' +
      'allocating',
    async () => {
      const b = new FolderBackend(dir, join(dir, 'r'));
      b.ensure();
      await b.write('refs/heads/main', Buffer.from('x\n'));
      await b.write('packs/a.pack', Buffer.from('0123456789'));
      const { truncateSync } = await import('node:fs');
      truncateSync(join(dir, 'r', 'refs', 'heads', 'main'), 1 << 30);
      await expect(b.read('refs/heads/main', 1024)).rejects.toMatchObject({
        code: 'REMOTE_CORRUPT',
        data: { key: 'refs/heads/main' },
      });
      expect(b.stats.bytesDown).toBe(0);
      for (const [offset, length] of [
        [0, 2 ** 33],
        [-1, 2],
        [0, 1.5],
        [4, 2 ** 31],
      ]) {
        await expect(b.readRange('packs/a.pack', offset!, length!)).rejects.toMatchObject({
          code: 'REMOTE_CORRUPT',
          data: { key: 'packs/a.pack' },
        });
      }
    },
  );

  it('swap writes only over the expected content: create-if-absent, then compare-and-swap by tag', async () => {
    const b = new FolderBackend(dir, join(dir, 'r'));
    b.ensure();
    expect(await b.swap('refs/heads/main', Buffer.from('one'), null)).toBe(true);
    expect(await b.swap('refs/heads/main', Buffer.from('two'), null)).toBe(false);
    const cur = (await b.read('refs/heads/main'))!;
    expect(cur.tag).toBe(blake3Hex(Buffer.from('one')));
    expect(await b.swap('refs/heads/main', Buffer.from('two'), 'stale-tag')).toBe(false);
    expect(await b.swap('refs/heads/main', Buffer.from('two'), cur.tag)).toBe(true);
    expect((await b.read('refs/heads/main'))?.data.toString()).toBe('two');
  });

  it('concurrent swaps from the same expected state: exactly one wins', async () => {
    const b = new FolderBackend(dir, join(dir, 'r'));
    b.ensure();
    await b.write('numbers', Buffer.from('base'));
    const tag = (await b.read('numbers'))!.tag;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        new FolderBackend(dir, join(dir, 'r')).swap('numbers', Buffer.from(`w${i}`), tag),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('a listing never shows a lock, nor the owner file of a process waiting for it (a race seen in CI)', async () => {
    const b = new FolderBackend(dir, join(dir, 'r'));
    b.ensure();
    await b.write('envs/production.json', Buffer.from('{}'));
    const key = join(dir, 'r', 'envs', 'production.json.lock');
    const held = await acquireLock(key, 'test', 1000);
    // a second process would wait with its owner file in envs/: taken here by a second lock call that waits
    const waiting = acquireLock(key, 'test', 5000);
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(join(dir, 'r', 'envs')).some((n) => /^lock\.\d+-[0-9a-f]{8}$/.test(n))).toBe(true);
      expect(await b.list('envs/')).toEqual(['envs/production.json']);
      expect(b.foreignEntries()).toEqual([]);
    } finally {
      held.release();
      (await waiting).release();
    }
    expect(readdirSync(join(dir, 'r', 'envs'))).toEqual(['production.json']);
  });

  it('refuses keys that leave the remote', async () => {
    const b = new FolderBackend(dir, join(dir, 'r'));
    for (const k of ['../x', 'refs/../../x', '/etc/passwd', 'a//b', './a']) {
      expect(isSafeKey(k), k).toBe(false);
      await expect(b.read(k)).rejects.toMatchObject({ code: 'REMOTE_CORRUPT' });
    }
  });

  it('writeParts writes the parts as one file; a short write leaves nothing, not even a temp file', async () => {
    const b = new FolderBackend(dir, join(dir, 'r'));
    b.ensure();
    await b.writeParts('packs/p.pack', 7, [Buffer.from('abc'), Buffer.from('defg')]);
    expect((await b.read('packs/p.pack'))?.data.toString()).toBe('abcdefg');
    await expect(b.writeParts('packs/q.pack', 9, [Buffer.from('abc')])).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(await b.read('packs/q.pack')).toBeNull();
    expect(readdirSync(join(dir, 'r', '.tmp'))).toEqual([]);
  });

  it('ensure on a folder whose parent is missing is REMOTE_NOT_FOUND', () => {
    expect(() => new FolderBackend('x', join(dir, 'no', 'such')).ensure()).toThrow(
      expect.objectContaining({ code: 'REMOTE_NOT_FOUND' }),
    );
  });
});

describe('remote URLs', () => {
  it('parses s3 and folder URLs and refuses credentials and odd prefixes', () => {
    expect(parseRemoteUrl('s3://models-bucket/team-a/x', '/w')).toEqual({
      kind: 's3',
      bucket: 'models-bucket',
      prefix: 'team-a/x',
    });
    expect(parseRemoteUrl('s3://models-bucket', '/w')).toEqual({ kind: 's3', bucket: 'models-bucket', prefix: '' });
    expect(parseRemoteUrl('file:///mnt/share', '/w')).toEqual({ kind: 'folder', path: '/mnt/share' });
    expect(parseRemoteUrl('share', '/w')).toEqual({ kind: 'folder', path: '/w/share' });
    for (const bad of [
      's3://key:secret@bucket/x',
      's3://B/x',
      's3://bucket/../x',
      'http://host/x',
      's3://bucket/a b',
    ]) {
      expect(() => parseRemoteUrl(bad, '/w'), bad).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    }
    try {
      parseRemoteUrl('s3://key:secret@bucket/x', '/w');
    } catch (e) {
      expect((e as Error).message).not.toContain('secret');
    }
  });
});

describe('S3 error mapping', () => {
  const loc = { url: 's3://b-ucket/x', bucket: 'b-ucket', prefix: 'x', endpoint: 'http://127.0.0.1:9' };
  it.each([
    [{ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }, 'REMOTE_NOT_FOUND'],
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, 'REMOTE_AUTH'],
    [{ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }, 'REMOTE_AUTH'],
    [{ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }, 'REMOTE_AUTH'],
    [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, 'REMOTE_DENIED'],
    [{ name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' }, 'REMOTE_UNREACHABLE'],
    [{ name: 'InternalError', $metadata: { httpStatusCode: 500 } }, 'REMOTE_UNREACHABLE'],
  ])('%o is %s, exit 10, and carries only the URL, endpoint, status and hint', (err, code) => {
    const e = s3Error(
      { ...err, $response: { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE' } } },
      loc,
      'reading',
    );
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(10);
    for (const k of Object.keys(e.data)) expect(['url', 'endpoint', 'hint', 'status']).toContain(k);
    expect(JSON.stringify(e.toJSON())).not.toContain('AKIAEXAMPLE');
  });
});

describe('packs', () => {
  it('a pack lays objects back to back; its index parses back and its id is the hash of the object list', () => {
    const objs = [Buffer.from('aaa'), Buffer.from('bbbbb')];
    const ids = objs.map((o) => blake3Hex(o));
    const p = buildPack(
      ids.map((id, i) => ({ id, length: objs[i]!.length })),
      (id) => objs[ids.indexOf(id)]!,
    );
    expect(p.data.toString()).toBe('aaabbbbb');
    expect(p.index.objects).toEqual([
      [ids[0], 0, 3],
      [ids[1], 3, 5],
    ]);
    expect(parsePackIndex(Buffer.from(JSON.stringify(p.index)), p.id, 'u')).toEqual(p.index);
    expect(
      buildPack(
        ids.map((id, i) => ({ id, length: objs[i]!.length })),
        (id) => objs[ids.indexOf(id)]!,
      ).id,
    ).toBe(p.id);
  });

  it('packParts cuts a pack into parts of one size whatever the object boundaries, and they join to the pack', () => {
    const objs = [Buffer.from('a'.repeat(5)), Buffer.from('b'.repeat(12)), Buffer.from(''), Buffer.from('c'.repeat(3))];
    const ids = objs.map((o) => blake3Hex(o));
    const layout = packLayout(ids.map((id, i) => ({ id, length: objs[i]!.length })));
    expect(layout.size).toBe(20);
    const parts = [...packParts(layout, (id) => objs[ids.indexOf(id)]!, 8)];
    expect(parts.map((p) => p.length)).toEqual([8, 8, 4]);
    expect(Buffer.concat(parts).toString()).toBe('aaaaabbbbbbbbbbbbccc');
    expect([...packParts(layout, (id) => objs[ids.indexOf(id)]!, 100)].map((p) => p.length)).toEqual([20]);
    // an object whose size changed since it was planned is refused
    expect(() => [
      ...packParts(layout, (id) => (id === ids[1] ? Buffer.from('b') : objs[ids.indexOf(id)]!), 8),
    ]).toThrow(expect.objectContaining({ code: 'OBJECT_CORRUPT' }));
  });

  it('a tampered or malformed index is REMOTE_CORRUPT; a newer format REMOTE_FORMAT', () => {
    const id = blake3Hex(Buffer.from('x'));
    const p = buildPack([{ id, length: 1 }], () => Buffer.from('x'));
    const bad = (v: unknown) => () => parsePackIndex(Buffer.from(JSON.stringify(v)), p.id, 'u');
    expect(bad({ ...p.index, objects: [[id, 0, 2]] })).toThrow(expect.objectContaining({ code: 'REMOTE_CORRUPT' }));
    expect(bad({ ...p.index, objects: [[id, -1, 1]] })).toThrow(expect.objectContaining({ code: 'REMOTE_CORRUPT' }));
    expect(bad({ ...p.index, pack: 'other' })).toThrow(expect.objectContaining({ code: 'REMOTE_CORRUPT' }));
    expect(bad({ ...p.index, format: 2 })).toThrow(expect.objectContaining({ code: 'REMOTE_FORMAT' }));
    expect(() => parsePackIndex(Buffer.from('not json'), p.id, 'u')).toThrow(
      expect.objectContaining({ code: 'REMOTE_CORRUPT' }),
    );
    // an entry past 4 GiB, even one whose list hashes to the pack's id: REMOTE_CORRUPT naming the pack
    const huge: [string, number, number][] = [[id, 0, 2 ** 33]];
    const hugeId = blake3Hex(Buffer.from(canonicalJson(huge)));
    expect(() =>
      parsePackIndex(Buffer.from(JSON.stringify({ format: 1, pack: hugeId, objects: huge })), hugeId, 'u'),
    ).toThrow(expect.objectContaining({ code: 'REMOTE_CORRUPT', data: expect.objectContaining({ pack: hugeId }) }));
    writeFileSync(join(dir, 'x'), '');
  });

  it('chunkPacks of a file objects pack: kept when well formed, refused when it names other objects or non-ids', () => {
    const id = blake3Hex(Buffer.from('x'));
    const pack = blake3Hex(Buffer.from('a chunk pack'));
    const p = buildPack([{ id, length: 1 }], () => Buffer.from('x'));
    const parse = (chunkPacks: unknown) =>
      parsePackIndex(Buffer.from(JSON.stringify({ ...p.index, chunkPacks })), p.id, 'u');
    expect(parse({ [id]: [pack] }).chunkPacks).toEqual({ [id]: [pack] });
    // an index without it (an older push) reads as before
    expect(parsePackIndex(Buffer.from(JSON.stringify(p.index)), p.id, 'u').chunkPacks).toBeUndefined();
    const corrupt = expect.objectContaining({ code: 'REMOTE_CORRUPT' });
    expect(() => parse({ [pack]: [pack] })).toThrow(corrupt);
    expect(() => parse({ [id]: ['../../etc'] })).toThrow(corrupt);
    expect(() => parse({ [id]: pack })).toThrow(corrupt);
    expect(() => parse([pack])).toThrow(corrupt);
    expect(() => parse({ [id]: new Array(MAX_CHUNK_PACKS + 1).fill(pack) })).toThrow(corrupt);
  });
});
