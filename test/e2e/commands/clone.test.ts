// clone from a folder remote and from S3: --only, a damaged pack, hostile refs and a newer remote format.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { Repository } from '../../../src/repo/repository/repository.js';
import { isStored } from '../../helpers/storedObjects.js';
import { BACKENDS, makeOrigin, startRemoteS3, stopRemoteS3, workspace } from '../../helpers/remotes.js';

beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

describe.each(BACKENDS)('remotes on $name', (b) => {
  it(
    "clone --only fetches one file's objects; status, commit and push keep the files it lacks; checkout --only . " +
      'brings them',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'only');
        const a = makeOrigin(b, t, url);
        ok(a.run(['push']));
        const full = json(
          mvm(['clone', url, 'full', '--full', ...b.addArgs(), '--json'], { cwd: t.dir, env: b.env() }),
        );
        const part = json(
          mvm(['clone', url, 'part', ...b.addArgs(), '--only', 'models/small.txt', '--json'], {
            cwd: t.dir,
            env: b.env(),
          }),
        );
        const c = workspace(b, t, 'part');
        // the 900 kB file's chunk did not travel
        expect(part.bytes).toBeLessThan(full.bytes - 800_000);
        expect(existsSync(c.path('models/big.bin'))).toBe(false);
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('config v1\n');
        const bigEntry = json(c.run(['show', 'HEAD', '--json'])).version.files['models/big.bin'];
        const bigChunk = Repository.open(a.dir).file(bigEntry.file).chunks[0]!.id;
        expect(isStored(c.path('.mvm/objects'), bigChunk)).toBe(false);
        expect(isStored(t.path('full/.mvm/objects'), bigChunk)).toBe(true);
        expect(json(c.run(['status', '--json'])).clean).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        // a commit in the partial workspace keeps big.bin as it was
        write(c.path('models/small.txt'), 'config from the partial clone\n');
        const v2 = json(c.run(['commit', '-m', 'partial edit', '--json']));
        const files = json(c.run(['show', v2.id, '--json'])).version.files;
        expect(Object.keys(files).sort()).toEqual(['models/big.bin', 'models/small.txt']);
        expect(files['models/big.bin']).toEqual(bigEntry);
        ok(c.run(['push']));
        const pulled = json(a.run(['pull', '--json']));
        expect(pulled.checkout.written).toEqual(['models/small.txt']);
        expect(readFileSync(a.path('models/big.bin')).equals(randomBytes(900_000, 7))).toBe(true);
        // the whole workspace again: big.bin is fetched and written
        const whole = json(c.run(['checkout', 'HEAD', '--only', '.', '--json']));
        expect(whole.written).toEqual(['models/big.bin']);
        expect(readFileSync(c.path('models/big.bin')).equals(randomBytes(900_000, 7))).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it('a damaged pack is detected on clone: REMOTE_CORRUPT, and no folder is left behind', async () => {
    const t = testdir();
    try {
      const url = b.url(t, 'bad');
      const a = makeOrigin(b, t, url);
      const pushed = json(a.run(['push', '--json']));
      expect(pushed.packs).toBeGreaterThan(0);
      const cacheDir = a.path('.mvm/remotes/origin/packs');
      const packs = readdirSync(cacheDir).map((f) => f.replace('.idx', ''));
      // flip one byte in the middle of every pack
      for (const id of packs) {
        const data = await b.get(url, `packs/${id}.pack`);
        data[Math.floor(data.length / 2)] ^= 0xff;
        await b.put(url, `packs/${id}.pack`, data);
      }
      expectError(
        mvm(['clone', url, 'c', ...b.addArgs(), '--json'], { cwd: t.dir, env: b.env() }),
        'REMOTE_CORRUPT',
        7,
      );
      expect(existsSync(t.path('c'))).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});

describe('remotes on a folder', () => {
  it(
    'a ref name that leaves refs/ is REMOTE_CORRUPT and nothing is fetched; a newer remote format is ' +
      'REMOTE_FORMAT',
    () => {
      const t = testdir();
      try {
        const url = t.path('remote');
        const a = makeOrigin(BACKENDS[0]!, t, url);
        ok(a.run(['push']));
        writeFileSync(join(url, 'refs', 'heads', 'x..y'), readFileSync(join(url, 'refs', 'heads', 'main')));
        expectError(mvm(['clone', url, 'c', '--json'], { cwd: t.dir }), 'REMOTE_CORRUPT', 7);
        expect(existsSync(t.path('c'))).toBe(false);
        writeFileSync(join(url, 'refs', 'heads', 'x..y'), '');
        const { rmSync } = require('node:fs') as typeof import('node:fs');
        rmSync(join(url, 'refs', 'heads', 'x..y'));
        writeFileSync(join(url, 'mvm-remote.json'), '{"format": 99}\n');
        expectError(a.run(['fetch', '--json']), 'REMOTE_FORMAT', 3);
        expectError(a.run(['push', '--json']), 'REMOTE_FORMAT', 3);
      } finally {
        t.cleanup();
      }
    },
  );
});
