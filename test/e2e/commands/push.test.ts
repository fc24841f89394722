// push to a folder remote and to S3: every byte comes back, a divergent push is refused, a killed push resumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mvmAsync, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { BACKENDS, clone, makeOrigin, originAndClone, startRemoteS3, stopRemoteS3 } from '../../helpers/remotes.js';

beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

describe.each(BACKENDS)('remotes on $name', (b) => {
  it(
    'push, then clone: every byte and mode comes back; a second push moves nothing in at most 5 ' + 'requests',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'rt');
        const a = makeOrigin(b, t, url);
        const first = json(a.run(['push', '--json']));
        expect(first.updates).toEqual([
          { ref: 'refs/heads/main', from: null, to: expect.stringMatching(/^[0-9a-f]{64}$/), forced: false },
        ]);
        // one chunk and one file object per file (both under the 1 MiB chunk size), and the manifest
        expect(first.objects).toBe(2 + 2 + 1);
        expect(first.packs).toBeGreaterThanOrEqual(2);
        expect(first.numbered).toBe(1);
        const again = json(a.run(['push', '--json']));
        expect(again.objects).toBe(0);
        expect(again.bytes).toBe(0);
        expect(again.requests).toBeLessThanOrEqual(5);
        // v2: a file whose 1 MiB chunk occurs twice (tied weights), and an empty file
        const block = randomBytes(1 << 20, 11);
        write(a.path('models/tied.bin'), Buffer.concat([block, block, Buffer.from('tail')]));
        write(a.path('models/empty.bin'), '');
        ok(a.run(['commit', '-m', 'v2']));
        ok(a.run(['push']));
        const c = clone(b, t, url, 'c');
        for (const f of ['models/big.bin', 'models/tied.bin', 'models/empty.bin'])
          expect(readFileSync(c.path(f)).equals(readFileSync(a.path(f))), f).toBe(true);
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('config v1\n');
        expect(statSync(c.path('models/big.bin')).mode & 0o777).toBe(statSync(a.path('models/big.bin')).mode & 0o777);
        // files built while their chunks downloaded leave nothing behind
        expect(readdirSync(c.path('.mvm/tmp'))).toEqual([]);
        const log = json(c.run(['log', '--json']));
        expect(log.map((e: { number: number; message: string }) => [e.number, e.message])).toEqual([
          [2, 'v2'],
          [1, 'v1'],
        ]);
        expect(log[0].refs).toEqual(['HEAD -> main', 'origin/main']);
        expect(json(c.run(['status', '--json'])).clean).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'two clones push divergent versions: the second is refused as NON_FAST_FORWARD; --force overwrites and a fetch ' +
      'elsewhere reports the rewind',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'div');
        const { a, c } = originAndClone(b, t, url);
        write(a.path('models/small.txt'), 'from a\n');
        const va = json(a.run(['commit', '-m', 'a2', '--json']));
        write(c.path('models/small.txt'), 'from c\n');
        const vc = json(c.run(['commit', '-m', 'c2', '--json']));
        ok(a.run(['push']));
        const refused = expectError(c.run(['push', '--json']), 'NON_FAST_FORWARD', 5);
        expect(refused.data.hint).toContain('mvm pull --rebase && mvm push');
        expect(refused.data.remote).toBe(va.id);
        ok(c.run(['fetch']));
        // the fetch brought a's version but left c's branch and workspace alone
        expect(json(c.run(['show', 'origin/main', '--json'])).id).toBe(va.id);
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('from c\n');
        const forced = json(c.run(['push', '--force', '--json']));
        expect(forced.updates[0]).toMatchObject({ from: va.id, to: vc.id, forced: true });
        const fetched = json(a.run(['fetch', '--json']));
        expect(fetched.rewound).toEqual([{ ref: 'refs/heads/main', from: va.id, to: vc.id }]);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('remotes on a folder', () => {
  it(
    'a push killed part-way leaves nothing a reader trusts; run again, it completes without sending what already ' +
      'arrived',
    async () => {
      const t = testdir();
      try {
        const url = t.path('remote');
        const a = makeOrigin(BACKENDS[0]!, t, url);
        write(a.path('models/more.bin'), randomBytes(3_000_000, 11));
        ok(a.run(['commit', '-m', 'v2']));
        const env = { MVM_PACK_SIZE: String(64 << 10) };
        const { child, done } = mvmAsync(['push'], { cwd: a.dir, env });
        // kill it as soon as the first pack index has landed
        for (
          let i = 0;
          i < 2000 &&
          !(existsSync(join(url, 'packs')) && readdirSync(join(url, 'packs')).some((f) => f.endsWith('.idx')));
          i++
        )
          await new Promise((r) => setTimeout(r, 5));
        child.kill('SIGKILL');
        await done;
        // no ref yet: a reader sees an empty remote (or, if the push had finished, a complete one)
        const refWritten = existsSync(join(url, 'refs', 'heads', 'main'));
        const idxBefore = readdirSync(join(url, 'packs')).filter((f) => f.endsWith('.idx')).length;
        const again = json(a.run(['push', '--json'], env));
        const idxAfter = readdirSync(join(url, 'packs')).filter((f) => f.endsWith('.idx'));
        if (!refWritten) expect(again.updates[0].from).toBeNull();
        // every object is named by exactly one index: nothing was sent twice
        const named = idxAfter.flatMap((f) =>
          (JSON.parse(readFileSync(join(url, 'packs', f), 'utf8')) as { objects: [string][] }).objects.map((o) => o[0]),
        );
        expect(new Set(named).size).toBe(named.length);
        expect(idxAfter.length).toBeGreaterThanOrEqual(idxBefore);
        const c = clone(BACKENDS[0]!, t, url, 'c');
        expect(readFileSync(c.path('models/more.bin')).equals(readFileSync(a.path('models/more.bin')))).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});
