import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mvm, testdir, type RunResult } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { randomBf16, writeSafetensors } from '../../helpers/modelWriters.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';
import { Repository } from '../../../src/repo/repository/repository.js';
import { allStored, isStored } from '../../helpers/storedObjects.js';
import { openRepository } from '../../../src/repo/transfer/partial.js';
import { assembleFile } from '../../../src/repo/workspace/fileio.js';
import { withPool } from '../../../src/repo/repository/session.js';

// A clone is a partial store unless --full: every manifest and file object,
// chunks only as commands need them. Each backend runs the same story.
let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3(['partial-bucket']);
});
afterAll(async () => {
  await s3?.stop();
});

let seq = 0;
const BACKENDS = [
  {
    name: 'folder',
    url: (t: ReturnType<typeof testdir>) => t.path('remote'),
    env: () => ({}),
    add: () => [] as string[],
  },
  {
    name: 's3',
    url: () => `s3://partial-bucket/p${process.pid}-${++seq}`,
    env: () => s3.env,
    add: () => ['--endpoint', s3.endpoint],
  },
];

/** Eight bf16 tensors of 64 KiB; `changed` names the ones drawn from another seed. */
function model(changed: number[] = []): Buffer {
  return writeSafetensors(
    Array.from({ length: 8 }, (_, i) => ({
      name: `layer.${i}.weight`,
      dtype: 'BF16',
      shape: [256, 128],
      data: randomBf16(256 * 128, 0.02, changed.includes(i) ? 1000 + i : 1 + i),
    })),
  );
}

/**
 * A repository in t/a with 64 KiB chunks that commits each of `versions` of
 * model.safetensors in turn and pushes them to `url`; returns its runner.
 */
function origin(
  t: ReturnType<typeof testdir>,
  url: string,
  versions: Buffer[],
  env: Record<string, string> = {},
  add: string[] = [],
) {
  const a = (args: string[]): RunResult => mvm(args, { cwd: t.path('a'), env });
  write(t.path('a/model.safetensors'), versions[0]!);
  ok(a(['init', '--chunk-size', String(64 << 10)]));
  ok(a(['add', 'model.safetensors']));
  versions.forEach((v, i) => {
    if (i) writeFileSync(t.path('a/model.safetensors'), v);
    ok(a(['commit', '-m', `v${i + 1}`]));
  });
  ok(a(['remote', 'add', 'origin', url, ...add]));
  ok(a(['push']));
  return a;
}

/** `mvm clone` of the folder remote t/remote into t/c (a partial store); returns a runner in it. */
function cloneOf(t: ReturnType<typeof testdir>) {
  ok(mvm(['clone', t.path('remote'), 'c', '--json'], { cwd: t.dir, env: {} }));
  return (args: string[]): RunResult => mvm(args, { cwd: t.path('c'), env: {} });
}

/** Whether the store in `dir` holds object `id`. */
const holds = (dir: string, id: string) => isStored(join(dir, '.mvm', 'objects'), id);

describe.each(BACKENDS)('partial stores on $name', (b) => {
  it(
    'clone keeps chunks only in the checked-out files; checkout, diff --stats, a damaged copy and push to another ' +
      'remote fetch what they need',
    () => {
      const t = testdir();
      try {
        const url = b.url(t);
        const env = { ...b.env(), MVM_PACK_SIZE: String(128 << 10) };
        const at =
          (name: string) =>
          (args: string[]): RunResult =>
            mvm(args, { cwd: t.path(name), env });
        const v1 = model();
        const v2 = model([2, 5]);
        const a = origin(t, url, [v1, v2], env, b.add());
        const repoA = Repository.open(t.path('a'));
        const tip = repoA.refs.read('refs/heads/main')!;
        const chunksOf = (id: string) =>
          repoA.file(repoA.version(id).files['model.safetensors']!.file).chunks.map((c) => c.id);
        const [c1, c2] = [chunksOf(repoA.version(tip).parents[0]!), chunksOf(tip)];
        const file1 = repoA.version(repoA.version(tip).parents[0]!).files['model.safetensors']!.file;
        const shared = c2.filter((id) => c1.includes(id));
        const onlyV1 = c1.filter((id) => !c2.includes(id));
        expect(shared.length).toBeGreaterThan(4);
        expect(onlyV1.length).toBeGreaterThan(0);

        // the clone: v2 in the workspace, no chunk in the store, fsck content
        const part = json(mvm(['clone', url, 'c', ...b.add(), '--json'], { cwd: t.dir, env: b.env() }));
        const full = json(mvm(['clone', url, 'f', '--full', ...b.add(), '--json'], { cwd: t.dir, env: b.env() }));
        expect(readFileSync(t.path('c/model.safetensors')).equals(v2)).toBe(true);
        expect(readFileSync(t.path('f/model.safetensors')).equals(v2)).toBe(true);
        expect(c2.filter((id) => holds(t.path('c'), id))).toEqual([]);
        expect(c1.every((id) => holds(t.path('f'), id))).toBe(true);
        // the partial clone fetched v2's chunks only; the full one v1's as well
        expect(part.bytes).toBeLessThan(full.bytes);
        expect(JSON.parse(readFileSync(t.path('c/.mvm/config.json'), 'utf8')).partial).toBe('origin');
        expect(JSON.parse(readFileSync(t.path('f/.mvm/config.json'), 'utf8')).partial).toBeUndefined();
        const c = at('c');
        const fsck = json(c(['fsck', '--json']));
        expect(fsck.ok).toBe(true);
        // v2's chunks and v1's file object (which chunks it names is learnt when a command reads v1)
        expect(holds(t.path('c'), file1)).toBe(false);
        expect(fsck.onRemote).toBe(new Set(c2).size + 1);
        expect(json(c(['status', '--json'])).clean).toBe(true);

        // checkout v1 fetches only the chunks v1 does not share with the workspace copy
        const co = json(c(['checkout', 'v1', '--json']));
        expect(co.written).toEqual(['model.safetensors']);
        expect(co.fetched.objects).toBe(new Set(onlyV1).size + 1);
        expect(holds(t.path('c'), file1)).toBe(true);
        expect(readFileSync(t.path('c/model.safetensors')).equals(v1)).toBe(true);
        expect(onlyV1.every((id) => holds(t.path('c'), id))).toBe(true);
        expect(shared.filter((id) => holds(t.path('c'), id))).toEqual([]);

        // diff --stats reads both sides of the changed tensors
        const d = json(c(['diff', 'v1', 'v2', '--stats', '--json']));
        const changes = d.files[0].tensors.changes as { name: string; stats?: { elements: number; changed: number } }[];
        expect(changes.map((x) => x.name).sort()).toEqual(['layer.2.weight', 'layer.5.weight']);
        for (const x of changes) expect(x.stats!.changed).toBeGreaterThan(x.stats!.elements / 2);

        // a workspace copy damaged behind mvm's back: checkout --force still gives v2 bit for bit
        const bad = readFileSync(t.path('c/model.safetensors'));
        const offset = bad.length - 1000;
        bad[offset] ^= 0xff;
        writeFileSync(t.path('c/model.safetensors'), bad);
        ok(c(['checkout', 'main', '--force']));
        expect(readFileSync(t.path('c/model.safetensors')).equals(v2)).toBe(true);
        expect(json(c(['fsck', '--json'])).ok).toBe(true);

        // a commit stores the chunk that changed, not the parent's chunks the store lacks
        const v3 = Buffer.from(v2);
        v3.fill(3, v3.length - 10);
        writeFileSync(t.path('c/model.safetensors'), v3);
        const before = c2.filter((id) => holds(t.path('c'), id)).length;
        const committed = json(c(['commit', '-m', 'v3', '--json']));
        expect(committed.newChunks).toBe(1);
        expect(c2.filter((id) => holds(t.path('c'), id)).length).toBe(before);
        ok(c(['push']));
        ok(a(['pull']));
        expect(readFileSync(t.path('a/model.safetensors')).equals(v3)).toBe(true);

        // pushing to another remote fetches from origin what that remote lacks
        const other = t.path('other');
        ok(c(['remote', 'add', 'backup', other]));
        ok(c(['push', 'backup']));
        ok(mvm(['clone', other, 'g', '--full', '--json'], { cwd: t.dir, env: b.env() }));
        expect(readFileSync(t.path('g/model.safetensors')).equals(v3)).toBe(true);
        expect(json(at('g')(['fsck', '--json'])).ok).toBe(true);

        // a version fetched from another remote than the store's own comes with its chunks
        const v4 = Buffer.from(v3);
        v4.fill(4, v4.length - 3000, v4.length - 2000);
        writeFileSync(t.path('g/model.safetensors'), v4);
        ok(at('g')(['commit', '-m', 'v4']));
        ok(at('g')(['push']));
        ok(c(['fetch', 'backup']));
        const co4 = json(c(['checkout', 'backup/main', '--json']));
        expect(co4.fetched.objects).toBe(0);
        expect(readFileSync(t.path('c/model.safetensors')).equals(v4)).toBe(true);
        expect(json(c(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('partial stores offline', () => {
  it(
    'a checkout that needs chunks from an unreachable remote fails with nothing changed; with the remote back it ' +
      'succeeds',
    () => {
      const t = testdir();
      try {
        const v1 = model();
        const v2 = model([0, 7]);
        origin(t, t.path('remote'), [v1, v2]);
        const c = cloneOf(t);
        renameSync(t.path('remote'), t.path('away'));
        // history needs no chunk and no file object: log, --where and compare work offline; a diff of a version
        // not read yet needs its file objects
        expect(ok(c(['log', '--oneline'])).stdout).toMatch(/v1 .*\n/);
        expect(ok(c(['log', '--where', 'message == "v1"', '--oneline'])).stdout).toMatch(/^v1 /);
        const cmp = json(c(['compare', 'v1', 'v2', '--json']));
        expect(cmp.columns.map((x: { filesOnRemote?: number }) => x.filesOnRemote ?? 0)).toEqual([1, 0]);
        expect(ok(c(['compare', 'v1', 'v2'])).stdout).toMatch(/chunks shared.* \? /);
        expectError(c(['diff', 'v1', 'v2', '--json']), 'REMOTE_NOT_FOUND', 10);
        const err = expectError(c(['checkout', 'v1', '--json']), 'REMOTE_NOT_FOUND', 10);
        expect(err.message).toMatch(/remote/i);
        expect(readFileSync(t.path('c/model.safetensors')).equals(v2)).toBe(true);
        expect(json(c(['status', '--json'])).headNumber).toBe(2);
        renameSync(t.path('away'), t.path('remote'));
        ok(c(['checkout', 'v1']));
        expect(readFileSync(t.path('c/model.safetensors')).equals(v1)).toBe(true);
        // the remote that holds the missing chunks cannot be removed until fetch --full makes the store full
        expectError(c(['remote', 'remove', 'origin', '--json']), 'BAD_ARGUMENT', 2);
        const full = json(c(['fetch', '--full', '--json']));
        expect(full.completed.chunks).toBeGreaterThan(0);
        expect(JSON.parse(readFileSync(t.path('c/.mvm/config.json'), 'utf8')).partial).toBeUndefined();
        ok(c(['remote', 'remove', 'origin']));
        ok(c(['checkout', 'v2']));
        expect(readFileSync(t.path('c/model.safetensors')).equals(v2)).toBe(true);
        const fsck = json(c(['fsck', '--json']));
        expect(fsck.ok).toBe(true);
        expect(fsck.onRemote).toBe(0);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('partial stores: a damaged remote', () => {
  it(
    'a chunk that arrives corrupt during a checkout is REMOTE_CORRUPT; the workspace, HEAD and the store stay as ' +
      'they were',
    () => {
      const t = testdir();
      try {
        const v2 = model([4]);
        origin(t, t.path('remote'), [model(), v2], { MVM_PACK_SIZE: String(64 << 10) });
        const c = cloneOf(t);
        // flip a byte in the middle of every pack: whatever v1 needs now arrives damaged
        for (const f of readdirSync(t.path('remote/packs')).filter((f) => f.endsWith('.pack'))) {
          const data = readFileSync(t.path(`remote/packs/${f}`));
          data[data.length >> 1] ^= 0xff;
          writeFileSync(t.path(`remote/packs/${f}`), data);
        }
        const objectsBefore = allStored(t.path('c/.mvm/objects'));
        expectError(c(['checkout', 'v1', '--json']), 'REMOTE_CORRUPT', 7);
        expect(readFileSync(t.path('c/model.safetensors')).equals(v2)).toBe(true);
        expect(json(c(['status', '--json'])).headNumber).toBe(2);
        expect(allStored(t.path('c/.mvm/objects'))).toEqual(objectsBefore);
        expect(json(c(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('partial stores: a copy that differs from what mvm recorded', () => {
  it(
    'a chunk kept from the workspace copy that no longer matches is fetched then, and the result is still ' + 'exact',
    async () => {
      const t = testdir();
      try {
        const v1 = model();
        origin(t, t.path('remote'), [v1]);
        cloneOf(t);
        const repo = openRepository(t.path('c'));
        const file = repo.file(repo.version(repo.headId()!).files['model.safetensors']!.file);
        expect(file.chunks.some((c) => repo.objects.has(c.id))).toBe(false);
        // the "workspace copy" claims to be this version, but one byte differs (as after a change mvm's stat cache
        // missed)
        const copy = Buffer.from(v1);
        copy[copy.length - 100] ^= 0x01;
        writeFileSync(t.path('copy'), copy);
        const tmp = await withPool((pool) =>
          assembleFile(repo, pool, file, 0o644, { base: { path: t.path('copy'), file } }),
        );
        expect(readFileSync(tmp).equals(v1)).toBe(true);
        // only the damaged chunk was fetched
        expect(file.chunks.filter((c) => repo.objects.has(c.id)).map((c) => c.id)).toEqual([
          file.chunks[file.chunks.length - 1]!.id,
        ]);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('partial stores: eval and export', () => {
  it('fetch the chunks of the version they read and see its exact bytes', () => {
    const t = testdir();
    try {
      const v1 = model();
      const v2 = model([1, 6]);
      origin(t, t.path('remote'), [v1, v2]);
      const c = cloneOf(t);
      // eval reads v1 in a temporary folder: the metric is the first 24 bits of its sha256
      const digest = (b: Buffer) => parseInt(createHash('sha256').update(b).digest('hex').slice(0, 6), 16);
      writeFileSync(
        t.path('eval.mjs'),
        "import { readFileSync } from 'node:fs'; import { createHash } from 'node:crypto';\nconst b = " +
          "readFileSync(process.argv[2] + '/model.safetensors');\nconsole.log(JSON.stringify({ digest: " +
          "parseInt(createHash('sha256').update(b).digest('hex').slice(0, 6), 16) }));\n",
      );
      const out = json(c(['eval', 'v1', '--json', '--', process.execPath, t.path('eval.mjs'), '{path}']));
      expect(out.runs[0].ok).toBe(true);
      expect(out.runs[0].metrics).toEqual({ digest: digest(v1) });
      // export writes v1 into a serving layout, bit for bit
      ok(c(['export', 'v1', t.path('serve'), '--layout', 'tf-serving', '--name', 'm']));
      expect(readFileSync(t.path('serve/m/1/model.safetensors')).equals(v1)).toBe(true);
      expect(json(c(['fsck', '--json'])).ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
