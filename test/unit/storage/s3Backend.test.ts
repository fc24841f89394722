import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { S3Backend } from '../../../src/storage/remote/s3.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';
import { expectSizeAndRemove } from '../../helpers/backendContract.js';

// The S3 backend against a real S3-protocol server (s3rver) on loopback.
let s3: LocalS3;
const saved: Record<string, string | undefined> = {};
beforeAll(async () => {
  s3 = await startS3(['unit-bucket']);
  for (const [k, v] of Object.entries(s3.env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
}, 30_000);
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await s3?.stop();
});

let seq = 0;
const backend = () =>
  new S3Backend({
    url: 's3://unit-bucket/p',
    bucket: 'unit-bucket',
    prefix: `p${process.pid}-${++seq}`,
    endpoint: s3.endpoint,
    pathStyle: true,
  });

describe('S3Backend', () => {
  it("size reports an object's bytes (null when absent); remove deletes it, and removing what is gone " +
    'is no error', async () => {
    const b = backend();
    await expectSizeAndRemove(b);
    await b.close();
  }, 30_000);

  it('list pages through more than 1,000 keys (S3 answers a thousand at a time) and returns them sorted', async () => {
    const b = backend();
    const keys = Array.from({ length: 1203 }, (_, i) => `packs/${(i * 7919).toString(16).padStart(8, '0')}.idx`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((k) => b.write(k, Buffer.from('x'))));
    const listed = await b.list('packs/');
    expect(listed).toEqual([...keys].sort());
    await b.close();
  }, 120_000);

  it('writeParts of several parts is one multipart upload that reads back bit for bit', async () => {
    const b = backend();
    const parts = [randomBytes(5 << 20), randomBytes(5 << 20), randomBytes(1234)];
    const size = parts.reduce((n, p) => n + p.length, 0);
    await b.writeParts('packs/x.pack', size, parts);
    // create + 3 parts + complete
    expect(b.stats.requests).toBe(5);
    expect(b.stats.bytesUp).toBe(size);
    const back = await b.read('packs/x.pack');
    expect(Buffer.compare(back!.data, Buffer.concat(parts))).toBe(0);
    expect(
      Buffer.compare(
        await b.readRange('packs/x.pack', (5 << 20) - 10, 20),
        Buffer.concat(parts).subarray((5 << 20) - 10, (5 << 20) + 10),
      ),
    ).toBe(0);
    await b.close();
  }, 60_000);

  it('writeParts with one part is a single PUT', async () => {
    const b = backend();
    await b.writeParts('packs/y.pack', 3, [Buffer.from('abc')]);
    expect(b.stats.requests).toBe(1);
    expect((await b.read('packs/y.pack'))!.data.toString()).toBe('abc');
    await b.close();
  });

  it('a multipart upload that fails part-way leaves no object behind', async () => {
    const b = backend();
    function* failing() {
      yield randomBytes(5 << 20);
      throw new Error('the local object vanished');
    }
    await expect(b.writeParts('packs/z.pack', 10 << 20, failing())).rejects.toThrow();
    expect(await b.read('packs/z.pack')).toBeNull();
    // fewer bytes than planned is refused too, and nothing is readable
    await expect(
      b.writeParts('packs/w.pack', 11 << 20, [randomBytes(5 << 20), randomBytes(5 << 20)]),
    ).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(await b.read('packs/w.pack')).toBeNull();
    await b.close();
  }, 60_000);

  it('a ranged read past the end of a file is REMOTE_CORRUPT', async () => {
    const b = backend();
    await b.write('packs/s.pack', Buffer.from('0123456789'));
    expect((await b.readRange('packs/s.pack', 2, 5)).toString()).toBe('23456');
    await expect(b.readRange('packs/s.pack', 8, 5)).rejects.toMatchObject({ code: 'REMOTE_CORRUPT' });
    await b.close();
  });
});
