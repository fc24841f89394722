import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { mvm, mvmAsync, randomBytes, testdir, type RunResult } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';
import { Repository } from '../../../src/repo/repository.js';

// push / fetch / pull / clone against a folder remote and a real S3-protocol
// server (s3rver) on loopback. Each backend runs the same stories.
let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3(['models-bucket']);
});
afterAll(async () => {
  await s3?.stop();
});

type Backend = {
  name: string;
  /** The URL of a fresh remote for one test. */
  url(t: { path: (p: string) => string }, n: string): string;
  env(): Record<string, string>;
  addArgs(): string[];
  /** Overwrites a key of the remote with bytes (to damage it). */
  put(url: string, key: string, data: Buffer): Promise<void>;
  get(url: string, key: string): Promise<Buffer>;
  keys(url: string, prefix: string): string[] | null;
};

let seq = 0;
const s3client = () =>
  new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
const s3key = (url: string, key: string) => `${url.slice('s3://models-bucket/'.length)}/${key}`;

const BACKENDS: Backend[] = [
  {
    name: 'folder',
    url: (t, n) => t.path(`remote-${n}`),
    env: () => ({}),
    addArgs: () => [],
    put: async (url, key, data) => writeFileSync(join(url, key), data),
    get: async (url, key) => readFileSync(join(url, key)),
    keys: (url, prefix) =>
      existsSync(join(url, prefix)) ? readdirSync(join(url, prefix)).map((f) => `${prefix}${f}`) : [],
  },
  {
    name: 's3',
    url: (_t, n) => `s3://models-bucket/t${process.pid}-${++seq}-${n}`,
    env: () => s3.env,
    addArgs: () => ['--endpoint', s3.endpoint],
    put: async (url, key, data) => {
      await s3client().send(new PutObjectCommand({ Bucket: 'models-bucket', Key: s3key(url, key), Body: data }));
    },
    get: async (url, key) =>
      Buffer.from(
        await (
          await s3client().send(new GetObjectCommand({ Bucket: 'models-bucket', Key: s3key(url, key) }))
        ).Body!.transformToByteArray(),
      ),
    keys: () => null,
  },
];

/** A workspace with a model folder: two files, one of which later versions change. */
function workspace(b: Backend, t: ReturnType<typeof testdir>, name: string) {
  const dir = t.path(name);
  const run = (args: string[], env: Record<string, string> = {}): RunResult =>
    mvm(args, { cwd: dir, env: { ...b.env(), MVM_PACK_SIZE: String(256 << 10), ...env } });
  return { dir, run, path: (p: string) => join(dir, p) };
}

function makeOrigin(b: Backend, t: ReturnType<typeof testdir>, url: string) {
  const a = workspace(b, t, 'a');
  write(a.path('models/big.bin'), randomBytes(900_000, 7));
  write(a.path('models/small.txt'), 'config v1\n');
  ok(a.run(['init']));
  ok(a.run(['add', 'models']));
  ok(a.run(['commit', '-m', 'v1']));
  ok(a.run(['remote', 'add', 'origin', url, ...b.addArgs()]));
  return a;
}

function clone(b: Backend, t: ReturnType<typeof testdir>, url: string, name: string): ReturnType<typeof workspace> {
  const out = mvm(['clone', url, name, ...b.addArgs(), '--json'], { cwd: t.dir, env: b.env() });
  json(out);
  return workspace(b, t, name);
}

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
    'a version pushed from one clone reaches another by pull: fast-forward, files rewritten, the same vN ' +
      'everywhere',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'pull');
        const a = makeOrigin(b, t, url);
        ok(a.run(['push']));
        const c = clone(b, t, url, 'c');
        write(c.path('models/small.txt'), 'config v2\n');
        const v2 = json(c.run(['commit', '-m', 'v2', '--json']));
        expect(v2.number).toBe(2);
        const pushed = json(c.run(['push', '--json']));
        expect(pushed.updates[0]).toMatchObject({ from: expect.any(String), to: v2.id, forced: false });
        // only what changed travels: the small file, its file object and the manifest
        expect(pushed.objects).toBe(3);
        const pulled = json(a.run(['pull', '--json']));
        expect(pulled.outcome).toBe('fast-forward');
        expect(pulled.to).toBe(v2.id);
        expect(pulled.number).toBe(2);
        expect(pulled.checkout.written).toEqual(['models/small.txt']);
        expect(readFileSync(a.path('models/small.txt'), 'utf8')).toBe('config v2\n');
        expect(json(a.run(['show', 'v2', '--json'])).id).toBe(v2.id);
        expect(json(a.run(['pull', '--json'])).outcome).toBe('up-to-date');
        expect(json(a.run(['status', '--json'])).clean).toBe(true);
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
        const a = makeOrigin(b, t, url);
        ok(a.run(['push']));
        const c = clone(b, t, url, 'c');
        write(a.path('models/small.txt'), 'from a\n');
        const va = json(a.run(['commit', '-m', 'a2', '--json']));
        write(c.path('models/small.txt'), 'from c\n');
        const vc = json(c.run(['commit', '-m', 'c2', '--json']));
        ok(a.run(['push']));
        const refused = expectError(c.run(['push', '--json']), 'NON_FAST_FORWARD', 5);
        expect(refused.data.hint).toContain('pull first');
        expect(refused.data.remote).toBe(va.id);
        expectError(c.run(['pull', '--json']), 'NON_FAST_FORWARD', 5);
        // the refused pull fetched a's version but left c's branch and workspace alone
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

  it(
    'two clones commit offline: the second push is refused, pull --rebase puts it on top, it then pushes, and vN ' +
      'is the same version in both',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'rebase');
        const a = makeOrigin(b, t, url);
        ok(a.run(['push']));
        const c = clone(b, t, url, 'c');
        write(a.path('models/small.txt'), 'tuned in a\n');
        const va = json(a.run(['commit', '-m', 'a: config', '--metric', 'f1=0.5', '--json']));
        write(c.path('models/big.bin'), randomBytes(900_000, 8));
        const vc = json(c.run(['commit', '-m', 'c: weights', '--metric', 'f1=0.7', '--json']));
        expect([va.number, vc.number]).toEqual([2, 2]);
        ok(a.run(['push']));
        expectError(c.run(['push', '--json']), 'NON_FAST_FORWARD', 5);
        const diverged = expectError(c.run(['pull', '--json']), 'NON_FAST_FORWARD', 5);
        expect(diverged.data.hint).toContain('--rebase');
        // the refused pull fetched a's version: it is v2 here too now, and c's own moved to v3
        expect(json(c.run(['show', 'v2', '--json'])).id).toBe(va.id);
        expect(json(c.run(['show', 'v3', '--json'])).id).toBe(vc.id);
        const rebased = json(c.run(['pull', '--rebase', '--json']));
        expect(rebased.outcome).toBe('rebased');
        expect(rebased.replayed).toEqual([{ from: vc.id, to: rebased.to }]);
        // both changes are in the workspace, c's message and metrics are kept
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('tuned in a\n');
        expect(readFileSync(c.path('models/big.bin')).equals(randomBytes(900_000, 8))).toBe(true);
        const top = json(c.run(['show', rebased.to, '--json']));
        expect(top.version).toMatchObject({ message: 'c: weights', parents: [va.id], metrics: { f1: 0.7 } });
        ok(c.run(['push']));
        const pulled = json(a.run(['pull', '--json']));
        expect(pulled).toMatchObject({ outcome: 'fast-forward', to: rebased.to });
        for (const w of [a, c]) {
          expect(json(w.run(['show', 'v2', '--json'])).id).toBe(va.id);
          expect(json(w.run(['show', 'v3', '--json'])).id).toBe(rebased.to);
          expect(json(w.run(['status', '--json'])).clean).toBe(true);
          expect(json(w.run(['fsck', '--json'])).ok).toBe(true);
        }
        // the same path changed on both sides is a conflict, and nothing is written
        write(a.path('models/small.txt'), 'a again\n');
        ok(a.run(['commit', '-m', 'a3']));
        ok(a.run(['push']));
        write(c.path('models/small.txt'), 'c again\n');
        const c4 = json(c.run(['commit', '-m', 'c4', '--json']));
        const conflict = expectError(c.run(['pull', '--rebase', '--json']), 'REBASE_CONFLICT', 5);
        expect(conflict.data.paths).toEqual(['models/small.txt']);
        expect(json(c.run(['show', 'HEAD', '--json'])).id).toBe(c4.id);
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('c again\n');
      } finally {
        t.cleanup();
      }
    },
  );

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
        expect(existsSync(c.path(`.mvm/objects/${bigChunk.slice(0, 2)}/${bigChunk.slice(2)}`))).toBe(false);
        expect(existsSync(t.path(`full/.mvm/objects/${bigChunk.slice(0, 2)}/${bigChunk.slice(2)}`))).toBe(true);
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

  it(
    'a hostile version on the remote (a path out of the workspace) is refused by pull: UNSAFE_VERSION, nothing ' +
      'written',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'hostile');
        const a = makeOrigin(b, t, url);
        ok(a.run(['push']));
        const c = clone(b, t, url, 'c');
        const before = json(c.run(['show', 'HEAD', '--json'])).id;
        // craft, as a tampered copy would, a version writing ../escaped.txt and .git/hooks/post-checkout
        const repo = Repository.open(a.dir);
        const head = repo.version(repo.headId()!);
        const entry = head.files['models/small.txt']!;
        const evil = repo.putObject({
          ...head,
          parents: [repo.headId()!],
          message: 'evil',
          files: { ...head.files, '../escaped.txt': entry, '.git/hooks/post-checkout': { ...entry, mode: 0o4755 } },
        });
        repo.refs.write('refs/heads/main', evil);
        ok(a.run(['push']));
        const err = expectError(c.run(['pull', '--json']), 'UNSAFE_VERSION', 7);
        expect(err.data.problems.join('\n')).toContain('..');
        expect(existsSync(t.path('escaped.txt'))).toBe(false);
        expect(existsSync(c.path('.git'))).toBe(false);
        expect(existsSync(c.path(`.mvm/objects/${evil.slice(0, 2)}/${evil.slice(2)}`))).toBe(false);
        expect(json(c.run(['show', 'HEAD', '--json'])).id).toBe(before);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
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

  it(
    'a pull killed part-way leaves the repository sound and the workspace at the old version; run again, it ' +
      'completes',
    async () => {
      const t = testdir();
      try {
        const url = t.path('remote');
        const a = makeOrigin(BACKENDS[0]!, t, url);
        ok(a.run(['push']));
        const c = clone(BACKENDS[0]!, t, url, 'c');
        write(a.path('models/big.bin'), randomBytes(6_000_000, 21));
        const v2 = json(a.run(['commit', '-m', 'v2', '--json']));
        ok(a.run(['push'], { MVM_PACK_SIZE: String(64 << 10) }));
        const oldBytes = readFileSync(c.path('models/big.bin'));
        // kill the pull as soon as it has stored a chunk of v2
        const objects = c.path('.mvm/objects');
        const count = () => readdirSync(objects).reduce((n, d) => n + readdirSync(join(objects, d)).length, 0);
        const before = count();
        const { child, done } = mvmAsync(['pull'], { cwd: c.dir, env: { MVM_PACK_SIZE: String(64 << 10) } });
        for (let i = 0; i < 4000 && count() === before; i++) await new Promise((r) => setTimeout(r, 2));
        child.kill('SIGKILL');
        await done;
        // whatever it had stored, HEAD and the workspace are still v1 (or, if it finished, all v2)
        const head = json(c.run(['show', 'HEAD', '--json'])).id;
        const now = readFileSync(c.path('models/big.bin'));
        if (head !== v2.id) expect(now.equals(oldBytes)).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        const again = json(c.run(['pull', '--json']));
        expect(again.to).toBe(v2.id);
        expect(readFileSync(c.path('models/big.bin')).equals(readFileSync(a.path('models/big.bin')))).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        expect(json(c.run(['status', '--json'])).clean).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'remote add / list / remove; --shared writes mvm-remotes.json at the workspace root; names and URLs are ' +
      'checked',
    () => {
      const t = testdir({ 'm.bin': 'x' });
      try {
        const run = (args: string[]) => mvm(args, { cwd: t.dir });
        ok(run(['init']));
        ok(
          run(['remote', 'add', 'origin', 's3://models-bucket/team-a', '--endpoint', 'http://127.0.0.1:9', '--shared']),
        );
        ok(run(['remote', 'add', 'backup', '../shared-folder']));
        expect(JSON.parse(readFileSync(t.path('mvm-remotes.json'), 'utf8'))).toEqual({
          remotes: { origin: { url: 's3://models-bucket/team-a', endpoint: 'http://127.0.0.1:9' } },
        });
        const list = json(run(['remote', '--json']));
        expect(list.map((r: { name: string; shared: boolean; url: string }) => [r.name, r.shared, r.url])).toEqual([
          ['backup', false, join(dirname(t.dir), 'shared-folder')],
          ['origin', true, 's3://models-bucket/team-a'],
        ]);
        expectError(run(['remote', 'add', 'origin', '/x', '--json']), 'REMOTE_EXISTS', 1);
        expectError(run(['remote', 'add', 'bad/name', '/x', '--json']), 'BAD_VALUE', 2);
        expectError(run(['remote', 'add', 'creds', 's3://AKIA:secret@models-bucket/x', '--json']), 'BAD_VALUE', 2);
        expect(run(['remote', 'add', 'creds', 's3://AKIA:secret@models-bucket/x']).stderr).not.toContain('secret');
        ok(run(['remote', 'remove', 'origin']));
        expect(JSON.parse(readFileSync(t.path('mvm-remotes.json'), 'utf8'))).toEqual({ remotes: {} });
        expectError(run(['push', 'origin', '--json']), 'UNKNOWN_REMOTE', 4);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('remotes on S3: what can go wrong before any byte moves', () => {
  const setup = () => {
    const t = testdir({ 'm.bin': 'x' });
    ok(mvm(['init'], { cwd: t.dir }));
    ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
    ok(mvm(['commit', '-m', 'one'], { cwd: t.dir }));
    return t;
  };
  // no credentials anywhere: no keys in the environment, no ~/.aws
  const noCreds = (home: string) => ({
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
  });

  it('missing credentials: REMOTE_AUTH (exit 10) with a hint naming the variables; no credential is stored', () => {
    const t = setup();
    try {
      ok(mvm(['remote', 'add', 'origin', 's3://models-bucket/auth', '--endpoint', s3.endpoint], { cwd: t.dir }));
      const r = mvm(['push', '--json'], { cwd: t.dir, env: noCreds(t.dir) });
      const err = expectError(r, 'REMOTE_AUTH', 10);
      expect(err.data.hint).toContain('AWS_ACCESS_KEY_ID');
      expect(readFileSync(t.path('.mvm/remotes.json'), 'utf8')).not.toContain('AWS');
    } finally {
      t.cleanup();
    }
  });

  it(
    'an unreachable endpoint is REMOTE_UNREACHABLE and a missing bucket REMOTE_NOT_FOUND (exit 10); nothing ' +
      'changes locally',
    () => {
      const t = setup();
      try {
        ok(mvm(['remote', 'add', 'down', 's3://models-bucket/x', '--endpoint', 'http://127.0.0.1:9'], { cwd: t.dir }));
        ok(mvm(['remote', 'add', 'nobucket', 's3://no-such-bucket/x', '--endpoint', s3.endpoint], { cwd: t.dir }));
        expectError(mvm(['push', 'down', '--json'], { cwd: t.dir, env: s3.env }), 'REMOTE_UNREACHABLE', 10);
        expectError(mvm(['fetch', 'nobucket', '--json'], { cwd: t.dir, env: s3.env }), 'REMOTE_NOT_FOUND', 10);
        expect(existsSync(t.path('.mvm/refs/remotes'))).toBe(false);
        expect(json(mvm(['fsck', '--json'], { cwd: t.dir })).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});
