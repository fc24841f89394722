/**
 * The repository the "registry" end-to-end tests run against (commit records,
 * status and data drift, annotate, log filters, compare, eval, best, lineage),
 * and the helpers they share.
 *
 *   main: v1 -- v2 -- v3 -- v4          (v3 fine-tuned from v1, v4 from v3)
 *                \
 *   exp:          v5 -- v6              (v5 fine-tuned from v3, v6 from v5)
 *
 * A test file calls `useRegistryRepo()` once at its top level. That registers
 * a beforeAll that builds the template repository for that file and an
 * afterAll that removes it and every copy made from it. Vitest runs test
 * files in separate workers, so a template is never shared between files:
 * each file builds its own, and only its own tests touch it. Read-only tests
 * run mvm in the template; tests that write take a private `copy()`.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mvm, mvmAsync, randomBytes, testdir, type RunResult } from './cli.js';
import { json, write } from './assertions.js';

export const CHUNK = 4096;
export const HEX64 = /^[0-9a-f]{64}$/;
export const DEFAULT_AUTHOR = 'Test User <test@example.com>';
export const ALICE = 'Alice Smith <alice@example.com>';
export const BOB = 'Bob Jones <bob@example.com>';
export const CAROL = 'Carol <carol@example.com>';

// ---------------------------------------------------------------- helpers

/** At most this many CLI processes at once (per test file: each file runs in its own worker). */
const MAX_PROCS = 6;
let running = 0;
const waiting: (() => void)[] = [];

/** Runs `mvm args...` in `cwd` as a child process, a few at a time. */
async function exec(args: string[], cwd: string): Promise<RunResult> {
  if (running >= MAX_PROCS) await new Promise<void>((res) => waiting.push(res));
  running++;
  try {
    return await mvmAsync(args, { cwd }).done;
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** A copy of `buf` with `patch` written at `offset`. */
function patched(buf: Buffer, offset: number, patch: Buffer): Buffer {
  const out = Buffer.from(buf);
  patch.copy(out, offset);
  return out;
}

/** Every file under `dir` (relative path -> sha256 of its bytes), skipping folders and files named in `skip`. */
export function snapshot(dir: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, name.name);
      if (name.isDirectory()) {
        if (!skip.includes(name.name)) walk(abs);
      } else if (!skip.includes(name.name))
        out[relative(dir, abs)] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Version numbers of a `log --json` run, in output order. */
export function numbers(r: RunResult): number[] {
  return json<{ number: number }[]>(r).map((e) => e.number);
}

// ---------------------------------------------------------------- the fixture

const MODEL1 = randomBytes(4 * CHUNK, 1); // 4 full chunks
// chunk 2 changed + a 1000-byte tail
const MODEL2 = Buffer.concat([patched(MODEL1, 2 * CHUNK + 10, randomBytes(50, 2)), randomBytes(1000, 3)]);
const MODEL3 = Buffer.concat([MODEL2, randomBytes(500, 4)]); // tail grows to 1500 bytes
const MODEL4 = Buffer.concat([patched(MODEL3, 5, randomBytes(20, 5)), randomBytes(300, 6)]);
const MODEL5 = MODEL2.subarray(0, 3 * CHUNK); // chunks 0, 1 and the changed chunk 2 of MODEL2
const MODEL6 = Buffer.concat([MODEL5, randomBytes(200, 7)]);
export const CONFIG = '{"layers": 12}\n';
export const FAIL_MARKER = 'this version cannot be evaluated\n';

/** Bytes of models/model.bin per version number. */
export const MODEL_SIZE: Record<number, number> = {
  1: MODEL1.length,
  2: MODEL2.length,
  3: MODEL3.length,
  4: MODEL4.length,
  5: MODEL5.length,
  6: MODEL6.length,
};

/**
 * The evaluation script: prints log lines, fails when the version holds
 * models/FAIL, else prints metrics computed from the model file.
 */
const EVAL_SCRIPT = `
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.argv[2] ?? process.env.MVM_PATH;
console.log('loading model from ' + dir);
console.log('evaluating {"not": "metrics"} ...');
if (existsSync(join(dir, 'models', 'FAIL'))) {
  console.error('marker found: refusing to evaluate');
  process.exit(1);
}
const bytes = statSync(join(dir, 'models', 'model.bin')).size;
const files = readdirSync(join(dir, 'models')).length;
const same_dir = process.env.MVM_PATH === dir ? 1 : 0;
console.log(JSON.stringify({ bytes, eval: { kb: bytes / 1024 }, files, same_dir }));
`;

export interface Fixture {
  dir: string;
  /** ids[n] is the id of vN. */
  ids: string[];
  /** Data id of data/train before and after it changed (between v3 and v4). */
  dataA: string;
  dataB: string;
  /** `show vN --json` of every version, as built (before any test). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  shows: any[];
}

export type Runner = (args: string[]) => Promise<RunResult>;

/** A private copy of the template repository, for a test that writes. */
export interface RepoCopy {
  dir: string;
  path: (p: string) => string;
  run: Runner;
}

/** Builds the template repository in `t` (see the diagram at the top) and returns what the tests check against. */
async function build(t: ReturnType<typeof testdir>): Promise<Fixture> {
  const sh = (args: string[]) => mvm(args, { cwd: t.dir });
  // a commit with its message and flags, each flag given once per value (`metric: ['a=1', 'b=2']`)
  const commit = (message: string, flags: Record<string, string | string[]>): string => {
    const args = Object.entries(flags).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).flatMap((x) => [`--${k}`, x]));
    const r = sh(['commit', '-m', message, ...args, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    return JSON.parse(r.stdout).id as string;
  };
  write(t.path('models/model.bin'), MODEL1);
  write(t.path('models/config.json'), CONFIG);
  write(t.path('data/train/a.csv'), 'x,y\n1,2\n3,4\n');
  write(t.path('data/train/b.csv'), 'x,y\n5,6\n');
  write(t.path('eval.mjs'), EVAL_SCRIPT);
  write(t.path('m2.json'), JSON.stringify({ loss: 0.7, eval: { f1: 0.6, precision: 0.7 }, latency_ms: 12 }));
  expect(sh(['init', '--chunk-size', String(CHUNK)]).exitCode).toBe(0);
  expect(sh(['add', 'models']).exitCode).toBe(0);
  const ids = [''];
  ids[1] = commit('baseline', {
    param: ['lr=1e-3', 'opt=sgd', 'epochs=10'],
    meta: ['dataset=imagenet-2024', 'gpu=a100'],
    metric: ['accuracy=0.80', 'loss=0.90', 'custom=5', 'latency_ms=10'],
    data: 'data/train',
    date: '2026-01-10T10:00:00Z',
    author: ALICE,
  });
  write(t.path('models/model.bin'), MODEL2);
  ids[2] = commit('lr 3e-4 with adam', {
    param: ['lr=3e-4', 'opt=adam'],
    meta: 'dataset=imagenet-2024',
    metric: 'accuracy=0.85',
    'metrics-file': 'm2.json',
    data: 'data/train',
    date: '2026-01-15T10:00:00Z',
  });
  write(t.path('models/model.bin'), MODEL3);
  ids[3] = commit('fine-tune of baseline on cifar', {
    base: 'v1',
    param: ['lr=1e-4', 'opt=adam'],
    meta: 'dataset=cifar-10',
    metric: ['accuracy=0.91', 'loss=0.5', 'latency_ms=20', 'custom=4'],
    data: 'imagenet=sha256:abc',
    date: '2026-01-20T10:00:00Z',
    author: BOB,
  });
  write(t.path('data/train/c.csv'), 'x,y\n7,8\n'); // the dataset changes: v4 and v5 record a new id
  write(t.path('models/model.bin'), MODEL4);
  ids[4] = commit('bigger head WIP', {
    base: ids[3]!.slice(0, 10),
    param: ['lr=1e-4', 'opt=adamw'],
    meta: 'dataset=imagenet-2024',
    metric: ['accuracy=0.83', 'loss=0.45'],
    data: 'data/train',
    date: '2026-02-01T10:00:00Z',
    author: ALICE,
  });
  expect(sh(['branch', 'exp', 'v2']).exitCode).toBe(0);
  expect(sh(['checkout', 'exp']).exitCode).toBe(0);
  expect(readFileSync(t.path('models/model.bin')).equals(MODEL2)).toBe(true);
  write(t.path('models/model.bin'), MODEL5);
  write(t.path('models/FAIL'), FAIL_MARKER);
  ids[5] = commit('exp: distilled', {
    base: 'v3',
    param: ['lr=5e-4', 'opt=sgd'],
    meta: 'dataset=cifar-10',
    metric: ['accuracy=0.78', 'loss=0.95', 'latency_ms=8', 'custom=9'],
    data: 'data/train',
    date: '2026-02-10T10:00:00Z',
    author: CAROL,
  });
  rmSync(t.path('models/FAIL'));
  write(t.path('models/model.bin'), MODEL6);
  ids[6] = commit('exp: quantized', {
    base: 'v5',
    metric: ['accuracy=0.77', 'eval.f1=0.75', 'latency_ms=5'],
    date: '2026-02-20T10:00:00Z',
  });
  expect(sh(['checkout', 'main']).exitCode).toBe(0);
  expect(readFileSync(t.path('models/model.bin')).equals(MODEL4)).toBe(true);
  expect(existsSync(t.path('models/FAIL'))).toBe(false);
  for (const id of ids.slice(1)) expect(id).toMatch(HEX64);
  expect(new Set(ids.slice(1)).size).toBe(6);
  const shows = [
    null,
    ...(await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => json(await exec(['show', `v${n}`, '--json'], t.dir))))),
  ];
  return { dir: t.dir, ids, dataA: shows[1].version.deps.data[0].id, dataB: shows[4].version.deps.data[0].id, shows };
}

/** What `useRegistryRepo()` gives a test file. */
export interface RegistryRepo {
  /** The fixture; its fields are filled in by the beforeAll, so read them inside tests only. */
  fx: Fixture;
  /** Runs mvm in the template (read-only tests). */
  run: Runner;
  /** A private copy of the template repository, for tests that write. */
  copy: () => RepoCopy;
  /** Version numbers a `log ... --json` run prints, sorted ascending. */
  numberSet: (args: string[], r?: Runner) => Promise<number[]>;
  /** Runs every `log` query at once and checks each gives exactly the expected version numbers. */
  expectSets: (cases: [string[], number[]][], r?: Runner) => Promise<void>;
}

/**
 * Builds this test file's own template repository in a beforeAll and removes
 * it, and every copy of it, in an afterAll. Call once, at the top level.
 */
export function useRegistryRepo(): RegistryRepo {
  let template: ReturnType<typeof testdir> | undefined;
  // filled in place by beforeAll, so tests can destructure `fx` at the top level
  const fx = {} as Fixture;
  // tests run concurrently (each CLI run is a process; most of the time is node start-up), so copies are
  // removed at the end rather than after each test
  const cleanups: (() => void)[] = [];

  const run: Runner = (args) => exec(args, template!.dir);

  const copy = (): RepoCopy => {
    const t = testdir();
    cleanups.push(t.cleanup);
    // the summary file (and its lock) is derived data that concurrent read-only tests may be rewriting on the
    // template: copy everything else, the copy builds its own
    cpSync(template!.dir, t.dir, { recursive: true, filter: (src) => !src.includes(`${join('.mvm', 'summaries')}`) });
    return { dir: t.dir, path: t.path, run: (args) => exec(args, t.dir) };
  };

  const numberSet = async (args: string[], r: Runner = run): Promise<number[]> =>
    numbers(await r([...args, '--json'])).sort((a, b) => a - b);

  const expectSets = async (cases: [string[], number[]][], r: Runner = run): Promise<void> => {
    const got = await Promise.all(cases.map(([args]) => numberSet(['log', ...args], r)));
    cases.forEach(([args, want], i) => expect(got[i], `mvm log ${args.join(' ')}`).toEqual(want));
  };

  beforeAll(async () => {
    template = testdir();
    Object.assign(fx, await build(template));
  });

  afterAll(() => {
    while (cleanups.length) cleanups.pop()!();
    template?.cleanup();
  });

  return { fx, run, copy, numberSet, expectSets };
}
