/**
 * Remotes for the transfer suites (commands/push, pull, clone, remote-add; robustness/heal): a folder remote and a real
 * S3-protocol server (s3rver) on loopback, behind one Backend shape, so each backend runs the same stories;
 * a workspace with a model folder, its origin and its clones.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, type testdir, type RunResult } from './cli.js';
import { json, ok, write } from './assertions.js';
import { startS3, type LocalS3 } from './s3server.js';
import { s3Objects } from './s3objects.js';

/** The local S3 server of the s3 backend, while a test file runs (started by startRemoteS3). */
export let s3: LocalS3;
/** Starts the S3 server (each test file that uses BACKENDS calls it in beforeAll). */
export async function startRemoteS3(): Promise<void> {
  s3 = await startS3(['models-bucket']);
}
/** Stops the S3 server (afterAll). */
export async function stopRemoteS3(): Promise<void> {
  await s3?.stop();
}

export type Backend = {
  name: string;
  /** The URL of a fresh remote for one test. */
  url(t: { path: (p: string) => string }, n: string): string;
  env(): Record<string, string>;
  addArgs(): string[];
  /** Overwrites a key of the remote with bytes (to damage it). */
  put(url: string, key: string, data: Buffer): Promise<void>;
  get(url: string, key: string): Promise<Buffer>;
  keys(url: string, prefix: string): string[] | null;
  /** Deletes a key of the remote (to damage it). */
  del(url: string, key: string): Promise<void>;
};

let seq = 0;
const objects = s3Objects(() => s3, 'models-bucket');

export const BACKENDS: Backend[] = [
  {
    name: 'folder',
    url: (t, n) => t.path(`remote-${n}`),
    env: () => ({}),
    addArgs: () => [],
    put: async (url, key, data) => writeFileSync(join(url, key), data),
    get: async (url, key) => readFileSync(join(url, key)),
    keys: (url, prefix) =>
      existsSync(join(url, prefix)) ? readdirSync(join(url, prefix)).map((f) => `${prefix}${f}`) : [],
    del: async (url, key) => rmSync(join(url, key)),
  },
  {
    name: 's3',
    url: (_t, n) => `s3://models-bucket/t${process.pid}-${++seq}-${n}`,
    env: () => s3.env,
    addArgs: () => ['--endpoint', s3.endpoint],
    put: objects.put,
    get: objects.get,
    keys: () => null,
    del: objects.del,
  },
];

/** A workspace with a model folder: two files, one of which later versions change. */
export function workspace(b: Backend, t: ReturnType<typeof testdir>, name: string) {
  const dir = t.path(name);
  const run = (args: string[], env: Record<string, string> = {}): RunResult =>
    mvm(args, { cwd: dir, env: { ...b.env(), MVM_PACK_SIZE: String(256 << 10), ...env } });
  return { dir, run, path: (p: string) => join(dir, p) };
}

/** The origin workspace 'a': models/big.bin, models/small.txt and `more` committed as v1, remote origin `url`. */
export function makeOrigin(b: Backend, t: ReturnType<typeof testdir>, url: string, more: Record<string, Buffer> = {}) {
  const a = workspace(b, t, 'a');
  write(a.path('models/big.bin'), randomBytes(900_000, 7));
  write(a.path('models/small.txt'), 'config v1\n');
  for (const [p, bytes] of Object.entries(more)) write(a.path(p), bytes);
  ok(a.run(['init']));
  ok(a.run(['add', 'models']));
  ok(a.run(['commit', '-m', 'v1']));
  ok(a.run(['remote', 'add', 'origin', url, ...b.addArgs()]));
  return a;
}

export function clone(
  b: Backend,
  t: ReturnType<typeof testdir>,
  url: string,
  name: string,
): ReturnType<typeof workspace> {
  const out = mvm(['clone', url, name, ...b.addArgs(), '--json'], { cwd: t.dir, env: b.env() });
  json(out);
  return workspace(b, t, name);
}

/** Two clones and a remote: the origin workspace 'a' (makeOrigin) with v1 pushed to `url`, and its clone 'c'. */
export function originAndClone(b: Backend, t: ReturnType<typeof testdir>, url: string) {
  const a = makeOrigin(b, t, url);
  ok(a.run(['push']));
  const c = clone(b, t, url, 'c');
  return { a, c };
}
