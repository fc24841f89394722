/**
 * The "registry" side of mvm, end to end through the real CLI: what a commit
 * records (params, meta, metrics, metrics files, author, date, base model,
 * datasets) and what it refuses before writing anything; data drift in
 * status; annotate; every log filter and the --where language (including the
 * positions of its errors); compare; eval with a real evaluation script;
 * best (and `mvm deploy $(mvm best ...)`); lineage upstream, downstream and
 * as Graphviz.
 *
 * One repository is built in beforeAll and copied for each test that writes:
 *
 *   main: v1 -- v2 -- v3 -- v4          (v3 fine-tuned from v1, v4 from v3)
 *                \
 *   exp:          v5 -- v6              (v5 fine-tuned from v3, v6 from v5)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { mvm, mvmAsync, randomBytes, testdir, type RunResult } from '../helpers/cli.js';
import { ok, json, expectError, write } from '../helpers/assertions.js';

const CHUNK = 4096;
const HEX64 = /^[0-9a-f]{64}$/;
const DEFAULT_AUTHOR = 'Test User <test@example.com>';
const ALICE = 'Alice Smith <alice@example.com>';
const BOB = 'Bob Jones <bob@example.com>';
const CAROL = 'Carol <carol@example.com>';

// ---------------------------------------------------------------- helpers

// tests run concurrently (each CLI run is a process; most of the time is node start-up), so copies are
// removed at the end rather than after each test
const cleanups: (() => void)[] = [];

/** At most this many CLI processes at once. */
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

/** Every file under `dir` (relative path -> sha256 of its bytes), skipping `skip` folder names. */
function snapshot(dir: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, name.name);
      if (name.isDirectory()) {
        if (!skip.includes(name.name)) walk(abs);
      } else out[relative(dir, abs)] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

// ---------------------------------------------------------------- the fixture

const MODEL1 = randomBytes(4 * CHUNK, 1); // 4 full chunks
const MODEL2 = Buffer.concat([patched(MODEL1, 2 * CHUNK + 10, randomBytes(50, 2)), randomBytes(1000, 3)]); // chunk 2 changed + a 1000-byte tail
const MODEL3 = Buffer.concat([MODEL2, randomBytes(500, 4)]); // tail grows to 1500 bytes
const MODEL4 = Buffer.concat([patched(MODEL3, 5, randomBytes(20, 5)), randomBytes(300, 6)]);
const MODEL5 = MODEL2.subarray(0, 3 * CHUNK); // chunks 0, 1 and the changed chunk 2 of MODEL2
const MODEL6 = Buffer.concat([MODEL5, randomBytes(200, 7)]);
const CONFIG = '{"layers": 12}\n';
const FAIL_MARKER = 'this version cannot be evaluated\n';

/** Bytes of models/model.bin per version number. */
const MODEL_SIZE: Record<number, number> = { 1: MODEL1.length, 2: MODEL2.length, 3: MODEL3.length, 4: MODEL4.length, 5: MODEL5.length, 6: MODEL6.length };

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
console.log(JSON.stringify({ bytes, eval: { kb: bytes / 1024 }, files: readdirSync(join(dir, 'models')).length, same_dir: process.env.MVM_PATH === dir ? 1 : 0 }));
`;

interface Fixture {
  dir: string;
  /** ids[n] is the id of vN. */
  ids: string[];
  /** Data id of data/train before and after it changed (between v3 and v4). */
  dataA: string;
  dataB: string;
  /** `show vN --json` of every version, as built (before any test). */
  shows: any[];
}

let template: ReturnType<typeof testdir>;
let fx: Fixture;

type Runner = (args: string[]) => Promise<RunResult>;

/** Runs mvm in the template (read-only tests). */
const run: Runner = (args) => exec(args, template.dir);

/** A private copy of the template repository, for tests that write. */
function copy(): { dir: string; path: (p: string) => string; run: Runner } {
  const t = testdir();
  cleanups.push(t.cleanup);
  // the index is derived data that concurrent read-only tests may be rewriting on the
  // template: copy everything else, the copy rebuilds its own index
  cpSync(template.dir, t.dir, { recursive: true, filter: (src) => !src.includes(`${join('.mvm', 'index')}`) });
  return { dir: t.dir, path: t.path, run: (args) => exec(args, t.dir) };
}

/** Version numbers of a `log --json` run, in output order. */
function numbers(r: RunResult): number[] {
  return json<{ number: number }[]>(r).map((e) => e.number);
}

/** Version numbers a `log ... --json` run prints, sorted ascending. */
async function numberSet(args: string[], r: Runner = run): Promise<number[]> {
  return numbers(await r([...args, '--json'])).sort((a, b) => a - b);
}

/** Runs every `log` query at once and checks each gives exactly the expected version numbers. */
async function expectSets(cases: [string[], number[]][], r: Runner = run): Promise<void> {
  const got = await Promise.all(cases.map(([args]) => numberSet(['log', ...args], r)));
  cases.forEach(([args, want], i) => expect(got[i], `mvm log ${args.join(' ')}`).toEqual(want));
}

beforeAll(async () => {
  template = testdir();
  const t = template;
  const sh = (args: string[]) => mvm(args, { cwd: t.dir });
  const commit = (args: string[]): string => {
    const r = sh(['commit', ...args, '--json']);
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
  ids[1] = commit(['-m', 'baseline', '--param', 'lr=1e-3', '--param', 'opt=sgd', '--param', 'epochs=10', '--meta', 'dataset=imagenet-2024', '--meta', 'gpu=a100',
    '--metric', 'accuracy=0.80', '--metric', 'loss=0.90', '--metric', 'custom=5', '--metric', 'latency_ms=10', '--data', 'data/train',
    '--date', '2026-01-10T10:00:00Z', '--author', ALICE]);
  write(t.path('models/model.bin'), MODEL2);
  ids[2] = commit(['-m', 'lr 3e-4 with adam', '--param', 'lr=3e-4', '--param', 'opt=adam', '--meta', 'dataset=imagenet-2024',
    '--metric', 'accuracy=0.85', '--metrics-file', 'm2.json', '--data', 'data/train', '--date', '2026-01-15T10:00:00Z']);
  write(t.path('models/model.bin'), MODEL3);
  ids[3] = commit(['-m', 'fine-tune of baseline on cifar', '--base', 'v1', '--param', 'lr=1e-4', '--param', 'opt=adam', '--meta', 'dataset=cifar-10',
    '--metric', 'accuracy=0.91', '--metric', 'loss=0.5', '--metric', 'latency_ms=20', '--metric', 'custom=4', '--data', 'imagenet=sha256:abc',
    '--date', '2026-01-20T10:00:00Z', '--author', BOB]);
  write(t.path('data/train/c.csv'), 'x,y\n7,8\n'); // the dataset changes: v4 and v5 record a new id
  write(t.path('models/model.bin'), MODEL4);
  ids[4] = commit(['-m', 'bigger head WIP', '--base', ids[3]!.slice(0, 10), '--param', 'lr=1e-4', '--param', 'opt=adamw', '--meta', 'dataset=imagenet-2024',
    '--metric', 'accuracy=0.83', '--metric', 'loss=0.45', '--data', 'data/train', '--date', '2026-02-01T10:00:00Z', '--author', ALICE]);
  expect(sh(['branch', 'exp', 'v2']).exitCode).toBe(0);
  expect(sh(['checkout', 'exp']).exitCode).toBe(0);
  expect(readFileSync(t.path('models/model.bin')).equals(MODEL2)).toBe(true);
  write(t.path('models/model.bin'), MODEL5);
  write(t.path('models/FAIL'), FAIL_MARKER);
  ids[5] = commit(['-m', 'exp: distilled', '--base', 'v3', '--param', 'lr=5e-4', '--param', 'opt=sgd', '--meta', 'dataset=cifar-10',
    '--metric', 'accuracy=0.78', '--metric', 'loss=0.95', '--metric', 'latency_ms=8', '--metric', 'custom=9', '--data', 'data/train',
    '--date', '2026-02-10T10:00:00Z', '--author', CAROL]);
  rmSync(t.path('models/FAIL'));
  write(t.path('models/model.bin'), MODEL6);
  ids[6] = commit(['-m', 'exp: quantized', '--base', 'v5', '--metric', 'accuracy=0.77', '--metric', 'eval.f1=0.75', '--metric', 'latency_ms=5',
    '--date', '2026-02-20T10:00:00Z']);
  expect(sh(['checkout', 'main']).exitCode).toBe(0);
  expect(readFileSync(t.path('models/model.bin')).equals(MODEL4)).toBe(true);
  expect(existsSync(t.path('models/FAIL'))).toBe(false);
  for (const id of ids.slice(1)) expect(id).toMatch(HEX64);
  expect(new Set(ids.slice(1)).size).toBe(6);
  const shows = [null, ...(await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => json(await exec(['show', `v${n}`, '--json'], t.dir)))))];
  fx = { dir: t.dir, ids, dataA: shows[1].version.deps.data[0].id, dataB: shows[4].version.deps.data[0].id, shows };
});

afterAll(() => {
  while (cleanups.length) cleanups.pop()!();
  template?.cleanup();
});

// ---------------------------------------------------------------- commit records

describe.concurrent('commit records', () => {
  it('params typed (numbers vs strings), meta, metrics, author and date', () => {
    const s = fx.shows[1];
    expect(s.id).toBe(fx.ids[1]);
    expect(s.number).toBe(1);
    expect(s.version.params).toEqual({ lr: 0.001, opt: 'sgd', epochs: 10 });
    expect(typeof s.version.params.lr).toBe('number');
    expect(s.version.meta).toEqual({ dataset: 'imagenet-2024', gpu: 'a100' });
    expect(s.version.metrics).toEqual({ accuracy: 0.8, loss: 0.9, custom: 5, latency_ms: 10 });
    expect(s.metrics).toEqual(s.version.metrics);
    expect(s.version.author).toBe(ALICE);
    expect(s.version.time).toBe('2026-01-10T10:00:00.000Z');
    expect(s.version.deps.base).toBeUndefined();
    expect(s.annotations).toEqual([]);

    const s2 = fx.shows[2];
    expect(s2.version.params).toEqual({ lr: 3e-4, opt: 'adam' });
    expect(s2.version.params.lr).toBe(0.0003);
    expect(typeof s2.version.params.opt).toBe('string');
    // the helper's MVM_AUTHOR is the default author
    expect(s2.version.author).toBe(DEFAULT_AUTHOR);
    expect(s2.version.parents).toEqual([fx.ids[1]]);
    expect(fx.shows[6].version.params).toEqual({});
    expect(fx.shows[6].version.meta).toEqual({});
  });

  it('--metrics-file flattens nested keys as eval.f1, alongside --metric', () => {
    expect(fx.shows[2].version.metrics).toEqual({ accuracy: 0.85, loss: 0.7, 'eval.f1': 0.6, 'eval.precision': 0.7, latency_ms: 12 });
    expect(fx.shows[6].version.metrics).toEqual({ accuracy: 0.77, 'eval.f1': 0.75, latency_ms: 5 });
  });

  it('--base REV (vN or an abbreviated hash) is recorded as deps.base with the full id', () => {
    expect(fx.shows[3].version.deps.base).toBe(fx.ids[1]);
    expect(fx.shows[4].version.deps.base).toBe(fx.ids[3]);
    expect(fx.shows[5].version.deps.base).toBe(fx.ids[3]);
    expect(fx.shows[6].version.deps.base).toBe(fx.ids[5]);
    expect(fx.shows[2].version.deps.base).toBeUndefined();
  });

  it('--data PATH hashes the folder in place ({path, id}); the id follows the content', () => {
    const d1 = fx.shows[1].version.deps.data;
    expect(d1).toEqual([{ path: 'data/train', id: fx.dataA }]);
    expect(fx.dataA).toMatch(HEX64);
    expect(fx.shows[2].version.deps.data).toEqual(d1); // same content, same id
    expect(fx.shows[4].version.deps.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect(fx.shows[5].version.deps.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect(fx.dataB).toMatch(HEX64);
    expect(fx.dataB).not.toBe(fx.dataA); // a file was added in between
    expect(fx.shows[6].version.deps.data).toBeUndefined();
    // the dataset is not stored as part of the model
    expect(Object.keys(fx.shows[4].version.files).sort()).toEqual(['models/config.json', 'models/model.bin']);
  });

  it('--data name=ID is recorded as given', () => {
    expect(fx.shows[3].version.deps.data).toEqual([{ name: 'imagenet', id: 'sha256:abc' }]);
  });

  it('the text form of show lists base, data and metrics', async () => {
    const out = ok(await run(['show', 'v3'])).stdout;
    expect(out).toContain(`Base:    ${fx.ids[1]!.slice(0, 12)}`);
    expect(out).toContain('Data:    imagenet sha256:abc');
    expect(out).toMatch(/^Metrics: accuracy=0\.91 custom=4 latency_ms=20 loss=0\.5$/m);
    expect(out).toMatch(/^Params:  lr=0\.0001 opt=adam$/m);
  });

  it('malformed values and an unknown --base are refused before anything is written', async () => {
    const r = copy();
    write(r.path('models/model.bin'), randomBytes(CHUNK * 2, 99)); // a change, so a commit would make a version
    write(r.path('bad.json'), '{"accuracy": 0.9,');
    write(r.path('str.json'), JSON.stringify({ accuracy: 'high' }));
    write(r.path('nested-str.json'), JSON.stringify({ eval: { f1: 'n/a' } }));
    const before = snapshot(r.path('.mvm'), ['index']);
    const logBefore = json(await r.run(['log', '--all', '--json']));

    expectError(await r.run(['commit', '-m', 'x', '--base', 'v99', '--json']), 'UNKNOWN_REVISION', 4);
    const e1 = expectError(await r.run(['commit', '-m', 'x', '--metric', 'acc=high', '--json']), 'BAD_VALUE', 2);
    expect(e1.data.key).toBe('acc');
    expectError(await r.run(['commit', '-m', 'x', '--metrics-file', 'bad.json', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--metrics-file', 'str.json', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--metrics-file', 'nested-str.json', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--param', '=x', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--data', 'imagenet=', '--json']), 'BAD_VALUE', 2);
    // a valid flag next to a bad one does not get half-recorded
    expectError(await r.run(['commit', '-m', 'x', '--metric', 'accuracy=0.99', '--metric', 'loss=nan', '--json']), 'BAD_VALUE', 2);

    expect(snapshot(r.path('.mvm'), ['index'])).toEqual(before);
    expect(json(await r.run(['log', '--all', '--json']))).toEqual(logBefore);
    expect(json(await r.run(['status', '--json'])).head).toBe(fx.ids[4]);
    // and the next good commit is v7: no number was used up
    const c = json(await r.run(['commit', '-m', 'good', '--metric', 'accuracy=0.5', '--json']));
    expect(c.number).toBe(7);
  });
});

// ---------------------------------------------------------------- status

describe.concurrent('status and data drift', () => {
  it('says nothing when the recorded dataset is unchanged', async () => {
    const [j, text] = await Promise.all([run(['status', '--json']), run(['status'])]);
    const s = json(j);
    expect(s.head).toBe(fx.ids[4]);
    expect(s.clean).toBe(true);
    expect(s.dataDrift).toEqual([]);
    expect(ok(text).stdout).not.toMatch(/warning/i);
  });

  it('warns when a dataset path recorded by HEAD changed, and when it vanished', async () => {
    const r = copy();
    write(r.path('data/train/a.csv'), 'x,y\n1,2\n3,5\n');
    const text = ok(await r.run(['status'])).stdout;
    const warn = text.split('\n').filter((l) => /^warning: /.test(l));
    expect(warn).toHaveLength(1);
    expect(warn[0]).toContain('data/train');
    expect(warn[0]).toContain(fx.dataB.slice(0, 12));
    const s = json(await r.run(['status', '--json']));
    expect(s.clean).toBe(true); // model files did not change
    expect(s.dataDrift).toHaveLength(1);
    expect(s.dataDrift[0].path).toBe('data/train');
    expect(s.dataDrift[0].recorded).toBe(fx.dataB);
    expect(s.dataDrift[0].current).toMatch(HEX64);
    expect(s.dataDrift[0].current).not.toBe(fx.dataB);
    expect(s.dataDrift[0].current).not.toBe(fx.dataA);

    // restoring the content clears the warning
    write(r.path('data/train/a.csv'), 'x,y\n1,2\n3,4\n');
    expect(json(await r.run(['status', '--json'])).dataDrift).toEqual([]);

    rmSync(r.path('data'), { recursive: true });
    const gone = json(await r.run(['status', '--json']));
    expect(gone.dataDrift).toEqual([{ path: 'data/train', recorded: fx.dataB, current: null }]);
    expect(ok(await r.run(['status'])).stdout).toMatch(/^warning: .*data\/train.*missing/m);
  });
});

// ---------------------------------------------------------------- annotate

describe.concurrent('annotate', () => {
  it('adds metrics and notes without changing ids; newest value wins in show, log, where and best', async () => {
    const r = copy();
    const idsBefore = json<{ id: string }[]>(await r.run(['log', '--all', '--json'])).map((e) => e.id);
    const t0 = Date.now();
    const a1 = json(await r.run(['annotate', 'v2', '--metric', 'f1=0.8', '--note', 'eval on holdout-2026', '--json']));
    expect(a1.target).toBe(fx.ids[2]);
    expect(a1.number).toBe(2);
    expect(a1.metrics).toEqual({ f1: 0.8 });
    expect(a1.annotation).toMatch(HEX64);
    expect(json<{ id: string }[]>(await r.run(['log', '--all', '--json'])).map((e) => e.id)).toEqual(idsBefore);

    let s = json(await r.run(['show', 'v2', '--json']));
    expect(s.id).toBe(fx.ids[2]);
    expect(s.annotations).toHaveLength(1);
    expect(s.annotations[0].author).toBe(DEFAULT_AUTHOR);
    expect(s.annotations[0].note).toBe('eval on holdout-2026');
    expect(s.annotations[0].metrics).toEqual({ f1: 0.8 });
    expect(s.annotations[0].id).toBe(a1.annotation);
    const at = Date.parse(s.annotations[0].time);
    expect(at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    expect(s.metrics.f1).toBe(0.8);
    expect(s.metrics.accuracy).toBe(0.85); // recorded metrics stay
    expect(s.version.metrics.f1).toBeUndefined(); // the manifest is immutable

    // a second annotation by someone else: the later value wins, history is kept
    const a2 = json(await r.run(['annotate', 'v2', '--metric', 'f1=0.85', '--metric', 'accuracy=0.86', '--author', 'Eve <eve@example.com>', '--json']));
    s = json(await r.run(['show', 'v2', '--json']));
    expect(s.annotations.map((a: any) => a.id)).toEqual([a1.annotation, a2.annotation]);
    expect(s.annotations[1].author).toBe('Eve <eve@example.com>');
    expect(s.annotations[1].note).toBeUndefined();
    expect(s.metrics.f1).toBe(0.85);
    expect(s.metrics.accuracy).toBe(0.86);
    expect(s.version.metrics.accuracy).toBe(0.85);

    const [text, log1, best] = await Promise.all([r.run(['show', 'v2']), r.run(['log', '--all', '--json']), r.run(['best', '--metric', 'f1', '--number'])]);
    expect(ok(text).stdout).toMatch(/^annotated .* by Eve <eve@example\.com>: accuracy=0\.86 f1=0\.85$/m);
    const entries = json<any[]>(log1);
    expect(entries.map((e) => e.id)).toEqual(idsBefore);
    const entry = entries.find((e) => e.number === 2);
    expect(entry.metrics.f1).toBe(0.85);
    expect(entry.metrics.accuracy).toBe(0.86);
    expect(ok(best).stdout.trim()).toBe('v2');
    await expectSets([
      [['--all', '--where', 'metrics.f1 > 0.7'], [2]],
      [['--all', '--where', 'metrics.f1 > 0.82'], [2]],
      [['--all', '--where', 'metrics.f1 < 0.82'], []],
      [['--all', '--where', 'metrics.accuracy > 0.855'], [2, 3]],
    ], r.run);

    // a note alone is fine and leaves the metrics alone
    json(await r.run(['annotate', 'v2', '--note', 'checked by hand', '--json']));
    s = json(await r.run(['show', 'v2', '--json']));
    expect(s.annotations).toHaveLength(3);
    expect(s.annotations[2].note).toBe('checked by hand');
    expect(s.metrics.f1).toBe(0.85);
  });

  it('annotating a version makes compare see the new metric', async () => {
    const r = copy();
    json(await r.run(['annotate', 'v3', '--metric', 'accuracy=0.95', '--json']));
    const c = json(await r.run(['compare', 'v1', 'v3', '--json']));
    expect(c.columns[1].metrics.accuracy.value).toBe(0.95);
    expect(c.columns[1].metrics.accuracy.delta).toBeCloseTo(0.15, 10);
  });

  it('nothing to add is BAD_ARGUMENT, a bad metric is BAD_VALUE, an unknown version UNKNOWN_REVISION; nothing is recorded', async () => {
    const r = copy();
    const before = snapshot(r.path('.mvm'), ['index']);
    expectError(await r.run(['annotate', 'v2', '--json']), 'BAD_ARGUMENT', 2);
    expectError(await r.run(['annotate', 'v2', '--note', '   ', '--json']), 'BAD_ARGUMENT', 2);
    expectError(await r.run(['annotate', 'v2', '--metric', 'f1=good', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['annotate', 'v2', '--metric', 'f1', '--note', 'x', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['annotate', 'v99', '--note', 'x', '--json']), 'UNKNOWN_REVISION', 4);
    expect(snapshot(r.path('.mvm'), ['index'])).toEqual(before);
    expect(json(await r.run(['show', 'v2', '--json'])).annotations).toEqual([]);
  });
});

// ---------------------------------------------------------------- log

describe.concurrent('log filters', () => {
  it('walks HEAD by default, every version with --all, newest first; --branch NAME starts from that branch', async () => {
    const [head, all, exp, main] = await Promise.all([
      run(['log', '--json']),
      run(['log', '--all', '--json']),
      run(['log', '--branch', 'exp', '--json']),
      run(['log', '--branch', 'main', '--json']),
    ]);
    expect(numbers(head)).toEqual([4, 3, 2, 1]);
    expect(numbers(all)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(json(all)[0].id).toBe(fx.ids[6]);
    expect(numbers(exp)).toEqual([6, 5, 2, 1]);
    expect(numbers(main)).toEqual([4, 3, 2, 1]);
    expectError(await run(['log', '--branch', 'nope', '--json']), 'UNKNOWN_REVISION', 4);
  });

  it('-n limits the output after filtering', async () => {
    const [a, b, c, text] = await Promise.all([
      run(['log', '--all', '-n', '3', '--json']),
      run(['log', '-n', '2', '--where', 'metrics.accuracy > 0.8', '--json']),
      run(['log', '-n', '0', '--json']),
      run(['log', '--oneline', '-n', '2']),
    ]);
    expect(numbers(a)).toEqual([6, 5, 4]);
    expect(numbers(b)).toEqual([4, 3]);
    expect(numbers(c)).toEqual([]);
    const lines = ok(text).stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^v4 [0-9a-f]{12} \(HEAD -> main\) bigger head WIP {2}\[accuracy=0\.83 loss=0\.45\]$/);
    expect(lines[1]).toMatch(/^v3 [0-9a-f]{12} fine-tune of baseline on cifar {2}\[/);
  });

  it('--where: comparisons, and / or / not, parentheses and precedence', async () => {
    await expectSets([
      [['--all', '--where', 'metrics.accuracy > 0.8 and params.opt = "adam"'], [2, 3]],
      [['--all', '--where', 'params.lr < 0.0005 or meta.dataset = "cifar-10"'], [2, 3, 4, 5]],
      [['--all', '--where', 'params.lr = 3e-4'], [2]],
      [['--all', '--where', 'params.epochs = "10"'], [1]], // number vs string: text forms
      // and binds tighter than or; parentheses change the answer
      [['--all', '--where', 'meta.dataset = "cifar-10" or meta.dataset = "imagenet-2024" and metrics.accuracy > 0.84'], [2, 3, 5]],
      [['--all', '--where', '(meta.dataset = "cifar-10" or meta.dataset = "imagenet-2024") and metrics.accuracy > 0.84'], [2, 3]],
      // not: the missing-field rule (v6 has no meta.dataset, so it is kept)
      [['--all', '--where', 'not meta.dataset = "imagenet-2024"'], [3, 5, 6]],
      [['--all', '--where', 'meta.dataset != "imagenet-2024"'], [3, 5]],
      [['--all', '--where', '!(metrics.accuracy >= 0.8) && exists(metrics.accuracy)'], [5, 6]],
      [['--all', '--where', 'version >= v5 || version = 1'], [1, 5, 6]],
      [['--all', '--where', 'metrics.loss < metrics.accuracy'], [2, 3, 4]],
    ]);
  });

  it('--where: exists(), string equality on meta, regex and contains on message, dates', async () => {
    await expectSets([
      [['--all', '--where', 'exists(metrics.eval.f1)'], [2, 6]],
      [['--all', '--where', 'exists(metrics.latency_ms) and (metrics.loss < 0.6 or not exists(metrics.loss))'], [3, 6]],
      [['--all', '--where', 'meta.gpu = "a100"'], [1]],
      [['--all', '--where', "meta.dataset = 'cifar-10' and params.opt = 'sgd'"], [5]],
      [['--all', '--where', 'message ~ "^exp: "'], [5, 6]],
      [['--all', '--where', 'message ~ "WIP$"'], [4]],
      [['--all', '--where', 'message ~ "wip$"'], []], // case-sensitive
      [['--all', '--where', 'message contains "baseline" and message !~ "cifar"'], [1]],
      [['--all', '--where', 'author ~ "^Alice"'], [1, 4]],
      [['--all', '--where', 'date = "2026-01"'], [1, 2, 3]],
      [['--all', '--where', 'date > "2026-02-01" and date <= "2026-02-10"'], [5]],
      [['--all', '--where', `id ~ "^${fx.ids[3]!.slice(0, 8)}"`], [3]],
      // the same filter on the default (HEAD) walk
      [['--where', 'exists(metrics.latency_ms)'], [1, 2, 3]],
    ]);
  });

  it('--author, --grep, --since / --until', async () => {
    await expectSets([
      [['--all', '--author', 'alice'], [1, 4]],
      [['--all', '--author', 'bob@example'], [3]],
      [['--all', '--author', 'Test User'], [2, 6]],
      [['--all', '--author', 'nobody'], []],
      [['--all', '--grep', 'BASELINE'], [1, 3]],
      [['--all', '--grep', '^exp'], [5, 6]],
      [['--grep', '^exp'], []],
      [['--all', '--since', '2026-01-15', '--until', '2026-02-01T10:00:00Z'], [2, 3, 4]],
      [['--all', '--since', '2026-01-15', '--until', '2026-02-01'], [2, 3]],
      [['--all', '--since', '2026-02-05'], [5, 6]],
      [['--since', '2026-02-05'], []],
      [['--all', '--until', '2026-01-10T10:00:00Z'], [1]],
      // filters combine
      [['--all', '--author', 'alice', '--where', 'metrics.accuracy > 0.8'], [4]],
    ]);
    const [since, grep] = await Promise.all([run(['log', '--since', 'last tuesday-ish', '--json']), run(['log', '--grep', '(', '--json'])]);
    expectError(since, 'BAD_VALUE', 2);
    expectError(grep, 'BAD_VALUE', 2);
  });

  it('--uses-data by path, by id, by name and by a name=ID id', async () => {
    await expectSets([
      [['--all', '--uses-data', 'data/train'], [1, 2, 4, 5]],
      [['--all', '--uses-data', fx.dataA], [1, 2]],
      [['--all', '--uses-data', fx.dataB], [4, 5]],
      [['--uses-data', fx.dataB], [4]],
      [['--all', '--uses-data', 'imagenet'], [3]],
      [['--all', '--uses-data', 'sha256:abc'], [3]],
      [['--all', '--uses-data', 'a'.repeat(64)], []],
    ]);
  });

  it('--based-on follows the base chain transitively', async () => {
    await expectSets([
      [['--all', '--based-on', 'v1'], [3, 4, 5, 6]],
      [['--all', '--based-on', 'v3'], [4, 5, 6]],
      [['--all', '--based-on', 'v5'], [6]],
      [['--all', '--based-on', 'v6'], []],
      [['--all', '--based-on', 'v2'], []], // parents are not bases
      [['--based-on', 'v1'], [3, 4]],
      [['--branch', 'exp', '--based-on', fx.ids[1]!], [5, 6]],
    ]);
    expectError(await run(['log', '--based-on', 'v99', '--json']), 'UNKNOWN_REVISION', 4);
  });

  // [expression, expected 0-based position]
  const BAD: [string, number][] = [
    ['metrics.accuracy > 0.9 and params.lr >', 38], // trailing operator: at the end
    ['(metrics.accuracy > 0.9', 0], // unclosed '(': at the '('
    ['metrics.accuracy > 0.9 and (params.lr < 1 or meta.x = "y"', 27],
    ['metrics.accuracy > 0.9)', 22], // stray ')'
    ['meta.dataset = "imagenet', 15], // unterminated string: at the quote
    ['foo.bar > 1', 0], // unknown field
    ['metrics.accuracy > 0.9 and meta.dataset = imagenet', 42], // unquoted text value
    ['message ~ "("', 10], // bad regex
    ['date >= "2026-13-45"', 8], // invalid date
    ['metrics.accuracy > 0.9 and', 26], // nothing after 'and'
    ['metrics.accuracy 0.9', 17], // missing operator
    ['exists(metrics.f1', 17], // unclosed exists(
    ['metrics.accuracy > 0.9 & params.lr < 1', 23], // single '&'
    ['metrics. > 1', 8], // empty key
    ['   ', 0], // blank
  ];

  it.each(BAD)('--where %j is BAD_EXPRESSION at position %i, one stderr line naming it', async (expr, pos) => {
    const e = expectError(await run(['log', '--where', expr, '--json']), 'BAD_EXPRESSION', 2);
    expect(e.data.position).toBe(pos);
    expect(e.data.expression).toBe(expr);
    expect(e.message).toContain(`position ${pos}`);
  });

  it('without --json: nothing on stdout, one stderr line with the position; best --where the same', async () => {
    const [text, best] = await Promise.all([
      run(['log', '--where', 'metrics.accuracy > 0.9 and params.lr >']),
      run(['best', '--metric', 'accuracy', '--where', 'metrics.accuracy >', '--json']),
    ]);
    expect(text.exitCode).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^mvm: [^\n]*position 38[^\n]*\n$/);
    expect(expectError(best, 'BAD_EXPRESSION', 2).data.position).toBe(18);
  });

  it('--where with an empty expression is BAD_EXPRESSION (docs/QUERY.md lists "an empty expression" as an error)', async () => {
    const [log, best] = await Promise.all([
      run(['log', '--where', '', '--json']),
      run(['best', '--metric', 'accuracy', '--where', '', '--json']),
    ]);
    expect(expectError(log, 'BAD_EXPRESSION', 2).data.position).toBe(0);
    expect(expectError(best, 'BAD_EXPRESSION', 2).data.position).toBe(0);
  });
});

// ---------------------------------------------------------------- compare

describe.concurrent('compare', () => {
  it('columns in order, deltas against the first, inferred directions', async () => {
    const c = json(await run(['compare', 'v1', 'v3', 'v5', '--json']));
    expect(c.columns.map((x: any) => x.id)).toEqual([fx.ids[1], fx.ids[3], fx.ids[5]]);
    expect(c.columns.map((x: any) => x.number)).toEqual([1, 3, 5]);
    expect(c.columns.map((x: any) => x.message)).toEqual(['baseline', 'fine-tune of baseline on cifar', 'exp: distilled']);
    expect(c.columns.map((x: any) => x.author)).toEqual([ALICE, BOB, CAROL]);
    expect(c.columns[1].params).toEqual({ lr: 1e-4, opt: 'adam' });
    expect(c.columns[2].meta).toEqual({ dataset: 'cifar-10' });
    expect(c.metricNames).toEqual(['accuracy', 'custom', 'latency_ms', 'loss']);
    expect(c.directions).toEqual({ accuracy: 'higher', custom: null, latency_ms: 'lower', loss: 'lower' });

    const [first, v3, v5] = c.columns;
    for (const m of c.metricNames) expect(first.metrics[m]).toMatchObject({ delta: null, verdict: null });
    expect(first.metrics.accuracy.value).toBe(0.8);
    expect(v3.metrics.accuracy.value).toBe(0.91);
    expect(v3.metrics.accuracy.delta).toBeCloseTo(0.11, 10);
    expect(v3.metrics.accuracy.verdict).toBe('better');
    expect(v5.metrics.accuracy.delta).toBeCloseTo(-0.02, 10);
    expect(v5.metrics.accuracy.verdict).toBe('worse');
    // loss: lower is better
    expect(v3.metrics.loss.delta).toBeCloseTo(-0.4, 10);
    expect(v3.metrics.loss.verdict).toBe('better');
    expect(v5.metrics.loss.delta).toBeCloseTo(0.05, 10);
    expect(v5.metrics.loss.verdict).toBe('worse');
    // latency_ms: inferred lower
    expect(v3.metrics.latency_ms).toEqual({ value: 20, delta: 10, verdict: 'worse' });
    expect(v5.metrics.latency_ms).toEqual({ value: 8, delta: -2, verdict: 'better' });
    // custom: no direction, so a delta but no verdict
    expect(v3.metrics.custom).toEqual({ value: 4, delta: -1, verdict: null });
    expect(v5.metrics.custom).toEqual({ value: 9, delta: 4, verdict: null });
  });

  it('--higher-is-better / --lower-is-better declare or override directions', async () => {
    const [a, b] = await Promise.all([
      run(['compare', 'v1', 'v3', 'v5', '--lower-is-better', 'latency_ms', '--higher-is-better', 'custom', '--json']),
      run(['compare', 'v1', 'v3', 'v5', '--lower-is-better', 'custom,accuracy', '--higher-is-better', 'latency_ms', '--json']),
    ]);
    const c = json(a);
    expect(c.directions.custom).toBe('higher');
    expect(c.directions.latency_ms).toBe('lower');
    expect(c.columns[1].metrics.custom.verdict).toBe('worse');
    expect(c.columns[2].metrics.custom.verdict).toBe('better');
    expect(c.columns[2].metrics.latency_ms.verdict).toBe('better');
    const flipped = json(b);
    expect(flipped.directions).toMatchObject({ custom: 'lower', accuracy: 'lower', latency_ms: 'higher', loss: 'lower' });
    expect(flipped.columns[1].metrics.custom.verdict).toBe('better');
    expect(flipped.columns[2].metrics.custom.verdict).toBe('worse');
    expect(flipped.columns[1].metrics.accuracy.verdict).toBe('worse');
    expect(flipped.columns[1].metrics.latency_ms.verdict).toBe('better');
    expect(flipped.columns[2].metrics.latency_ms.verdict).toBe('worse');
  });

  it('a metric missing on either side has no delta; equal values are "same"', async () => {
    const [a, b] = await Promise.all([run(['compare', 'v2', 'v3', 'v4', '--json']), run(['compare', 'v3', 'v3', '--json'])]);
    const c = json(a);
    expect(c.metricNames).toEqual(['accuracy', 'custom', 'eval.f1', 'eval.precision', 'latency_ms', 'loss']);
    expect(c.columns[1].metrics['eval.f1']).toEqual({ value: null, delta: null, verdict: null });
    expect(c.columns[1].metrics.custom).toEqual({ value: 4, delta: null, verdict: null }); // v2 has no custom
    expect(json(b).columns[1].metrics.accuracy).toEqual({ value: 0.91, delta: 0, verdict: 'same' });
  });

  it('sizes, chunks shared with the first column, data and base', async () => {
    const [a, b] = await Promise.all([run(['compare', 'v1', 'v3', 'v5', '--json']), run(['compare', 'v4', 'v4', '--json'])]);
    const c = json(a);
    const [v1, v3, v5] = c.columns;
    expect(v1.logicalBytes).toBe(MODEL_SIZE[1]! + CONFIG.length);
    expect(v3.logicalBytes).toBe(MODEL_SIZE[3]! + CONFIG.length);
    expect(v5.logicalBytes).toBe(MODEL_SIZE[5]! + CONFIG.length + FAIL_MARKER.length);
    // fixed 4 KiB chunks: v1 = 4 model chunks + config; v3 has a changed chunk 2 and a 1500-byte tail;
    // v5 = model chunks 0, 1, changed 2 + FAIL + config
    expect(v1.chunks).toBe(5);
    expect(v1.sharedWithFirst).toBe(v1.chunks);
    expect(v3.chunks).toBe(6);
    expect(v3.sharedWithFirst).toBe(4);
    expect(v5.chunks).toBe(5);
    expect(v5.sharedWithFirst).toBe(3);
    for (const col of c.columns) {
      expect(col.storedBytes).toBeGreaterThan(0);
      expect(col.storedBytes).toBeLessThanOrEqual(col.logicalBytes + 64 * col.chunks); // random bytes do not compress; little overhead
    }
    expect(v1.data).toEqual([{ path: 'data/train', id: fx.dataA }]);
    expect(v3.data).toEqual([{ name: 'imagenet', id: 'sha256:abc' }]);
    expect(v5.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect([v1.base, v1.baseNumber]).toEqual([null, null]);
    expect([v3.base, v3.baseNumber]).toEqual([fx.ids[1], 1]);
    expect([v5.base, v5.baseNumber]).toEqual([fx.ids[3], 3]);

    // a version compared with itself shares every chunk
    const self = json(b);
    expect(self.columns[0].chunks).toBeGreaterThan(0);
    expect(self.columns[1].sharedWithFirst).toBe(self.columns[1].chunks);
    expect(self.columns[1].storedBytes).toBe(self.columns[0].storedBytes);
  });

  it('text output has a row per metric, param and meta key, sizes, data and base', async () => {
    const out = ok(await run(['compare', 'v1', 'v3', 'v5'])).stdout;
    const lines = out.split('\n');
    const row = (label: string) => lines.find((l) => l.startsWith(label));
    expect(lines[0]).toMatch(/v1 [0-9a-f]{12}.*v3 [0-9a-f]{12}.*v5 [0-9a-f]{12}/);
    expect(row('accuracy (higher is better)')).toMatch(/0\.8 .*0\.91 \(\+0\.11 better\).*0\.78 \(-0\.02 worse\)/);
    expect(row('loss (lower is better)')).toMatch(/0\.9 .*0\.5 \(-0\.4 better\).*0\.95 \(\+0\.05 worse\)/);
    expect(row('latency_ms (lower is better)')).toMatch(/10 .*20 \(\+10 worse\).*8 \(-2 better\)/);
    expect(row('custom ')).toMatch(/5 .*4 \(-1\).*9 \(\+4\)/);
    expect(row('params.lr')).toMatch(/0\.001 .*0\.0001 .*0\.0005/);
    expect(row('meta.dataset')).toMatch(/imagenet-2024 .*cifar-10 .*cifar-10/);
    expect(row('size')).toMatch(/KiB.*KiB.*KiB/);
    expect(row('chunks shared with v1')).toMatch(/5\/5 .*4\/6 .*3\/5/);
    expect(row('data')).toContain('imagenet@sha256:a');
    expect(row('base')).toMatch(/^base\s+-\s+v1 [0-9a-f]{12}\s+v3 [0-9a-f]{12}$/);
  });

  it('an unknown revision is UNKNOWN_REVISION', async () => {
    expectError(await run(['compare', 'v1', 'v42', '--json']), 'UNKNOWN_REVISION', 4);
  });
});

// ---------------------------------------------------------------- eval

describe.concurrent('eval', () => {
  /** Bytes and mtimes of the tracked files, and the refs, to prove the workspace was not touched. */
  function workspaceState(r: { path: (p: string) => string }) {
    const files = ['models/model.bin', 'models/config.json', 'data/train/a.csv'];
    return {
      files: files.map((f) => ({ f, sha: createHash('sha256').update(readFileSync(r.path(f))).digest('hex'), mtime: statSync(r.path(f)).mtimeMs })),
      models: readdirSync(r.path('models')).sort(),
      head: readFileSync(r.path('.mvm/HEAD'), 'utf8'),
    };
  }

  it('runs the command on each version, records annotations and compares, without touching the workspace', async () => {
    const r = copy();
    const before = workspaceState(r);
    const out = json(await r.run(['eval', 'v1', 'v2', '--json', '--', process.execPath, 'eval.mjs', '{path}']));
    expect(out.runs).toHaveLength(2);
    const shows = await Promise.all([1, 2].map(async (n) => json(await r.run(['show', `v${n}`, '--json']))));
    for (const [i, n] of [1, 2].entries()) {
      const runN = out.runs[i];
      expect(runN.rev).toBe(`v${n}`);
      expect(runN.id).toBe(fx.ids[n]);
      expect(runN.number).toBe(n);
      expect(runN.ok).toBe(true);
      expect(runN.exitCode).toBe(0);
      expect(runN.metrics).toEqual({ bytes: MODEL_SIZE[n], 'eval.kb': MODEL_SIZE[n]! / 1024, files: 2, same_dir: 1 });
      expect(runN.annotation).toMatch(HEX64);
      const s = shows[i];
      expect(s.annotations).toHaveLength(1);
      expect(s.annotations[0].id).toBe(runN.annotation);
      expect(s.annotations[0].metrics).toEqual(runN.metrics);
      expect(s.annotations[0].note).toContain('mvm eval');
      expect(s.annotations[0].author).toBe(DEFAULT_AUTHOR);
      expect(s.metrics.bytes).toBe(MODEL_SIZE[n]);
      expect(s.metrics.accuracy).toBe(n === 1 ? 0.8 : 0.85);
    }
    expect(out.comparison.columns.map((c: any) => c.id)).toEqual([fx.ids[1], fx.ids[2]]);
    expect(out.comparison.columns[1].metrics.bytes).toMatchObject({ value: MODEL_SIZE[2], delta: MODEL_SIZE[2]! - MODEL_SIZE[1]! });
    // the evaluated metrics are visible to log and best
    const [set, best, st] = await Promise.all([
      numberSet(['log', '--all', '--where', 'exists(metrics.bytes)'], r.run),
      r.run(['best', '--metric', 'bytes', '--number']),
      r.run(['status', '--json']),
    ]);
    expect(set).toEqual([1, 2]);
    expect(ok(best).stdout.trim()).toBe('v2');

    expect(workspaceState(r)).toEqual(before);
    const status = json(st);
    expect(status.head).toBe(fx.ids[4]);
    expect(status.branch).toBe('main');
    expect(status.clean).toBe(true);
  });

  it('text output: one line per version, then the comparison table; $MVM_PATH through the shell', async () => {
    const r = copy();
    const res = ok(await r.run(['eval', 'v4', 'v6', '--', `"${process.execPath}" eval.mjs "$MVM_PATH"`]));
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^v4 [0-9a-f]{12}: bytes=${MODEL_SIZE[4]} eval\\.kb=[0-9.]+ files=2 same_dir=1 \\([0-9.]+ s\\)$`));
    expect(lines[1]).toMatch(new RegExp(`^v6 [0-9a-f]{12}: bytes=${MODEL_SIZE[6]} `));
    expect(res.stdout).toMatch(new RegExp(`^bytes .*${MODEL_SIZE[4]} .*${MODEL_SIZE[6]} \\(${MODEL_SIZE[6]! - MODEL_SIZE[4]!}\\)`, 'm'));
    expect(res.stdout).toMatch(/^accuracy \(higher is better\)/m);
    expect(json(await r.run(['show', 'v6', '--json'])).metrics.bytes).toBe(MODEL_SIZE[6]);
  });

  it('a version whose command fails is reported, the others still run; exit 9 (COMMAND_FAILED)', async () => {
    const r = copy();
    const before = workspaceState(r);
    const res = await r.run(['eval', 'v5', 'v6', '--json', '--', process.execPath, 'eval.mjs', '{path}']);
    expect(res.exitCode, res.stderr).toBe(9);
    const out = JSON.parse(res.stdout);
    expect(out.runs.map((x: any) => [x.number, x.ok])).toEqual([[5, false], [6, true]]);
    expect(out.runs[0].exitCode).toBe(1);
    expect(out.runs[0].error).toMatch(/exited with 1/);
    expect(out.runs[0].error).toContain('marker found');
    expect(out.runs[0].annotation).toBeUndefined();
    expect(out.runs[1].metrics.bytes).toBe(MODEL_SIZE[6]);
    expect(out.runs[1].metrics.files).toBe(2);
    expect(out.comparison.columns.map((c: any) => c.number)).toEqual([6]);
    const [s5, s6] = await Promise.all([r.run(['show', 'v5', '--json']), r.run(['show', 'v6', '--json'])]);
    expect(json(s5).annotations).toEqual([]);
    expect(json(s6).annotations).toHaveLength(1);
    expect(workspaceState(r)).toEqual(before);

    const text = await r.run(['eval', 'v6', 'v5', '--dry-run', '--', process.execPath, 'eval.mjs', '{path}']);
    expect(text.exitCode).toBe(9);
    expect(text.stdout).toMatch(/^v5 [0-9a-f]{12}: FAILED: .*exited with 1/m);
    expect(text.stdout).toMatch(new RegExp(`^v6 [0-9a-f]{12}: bytes=${MODEL_SIZE[6]} `, 'm'));
  });

  it('a command printing no JSON fails that run; so does one that cannot start', async () => {
    const r = copy();
    const [res, missing] = await Promise.all([
      r.run(['eval', 'v1', '--json', '--', process.execPath, '-e', 'console.log("all good, no numbers")']),
      r.run(['eval', 'v1', '--dry-run', '--json', '--', join(r.dir, 'no-such-program')]),
    ]);
    expect(res.exitCode).toBe(9);
    const out = JSON.parse(res.stdout);
    expect(out.runs[0].ok).toBe(false);
    expect(out.runs[0].exitCode).toBe(0);
    expect(out.runs[0].error).toMatch(/JSON/);
    expect(out.comparison).toBeNull();
    expect(missing.exitCode).toBe(9);
    expect(JSON.parse(missing.stdout).runs[0].ok).toBe(false);
    expect(json(await r.run(['show', 'v1', '--json'])).annotations).toEqual([]);
  });

  it('--dry-run records nothing', async () => {
    const r = copy();
    const before = snapshot(r.path('.mvm'), ['index']);
    const out = json(await r.run(['eval', 'v1', 'v3', '--dry-run', '--json', '--', process.execPath, 'eval.mjs', '{path}']));
    expect(out.runs.map((x: any) => [x.ok, x.metrics.bytes])).toEqual([[true, MODEL_SIZE[1]], [true, MODEL_SIZE[3]]]);
    expect(out.runs[0].annotation).toBeUndefined();
    expect(out.comparison.columns).toHaveLength(2);
    expect(snapshot(r.path('.mvm'), ['index'])).toEqual(before);
    const [s1, s3] = await Promise.all([r.run(['show', 'v1', '--json']), r.run(['show', 'v3', '--json'])]);
    expect(json(s1).annotations).toEqual([]);
    expect(json(s3).metrics.bytes).toBeUndefined();
  });

  it('no command is BAD_ARGUMENT; an unknown version is UNKNOWN_REVISION before anything runs', async () => {
    const r = copy();
    const [none, unknown] = await Promise.all([
      r.run(['eval', 'v1', '--json']),
      r.run(['eval', 'v1', 'v77', '--json', '--', process.execPath, 'eval.mjs', '{path}']),
    ]);
    expectError(none, 'BAD_ARGUMENT', 2);
    expectError(unknown, 'UNKNOWN_REVISION', 4);
    expect(json(await r.run(['show', 'v1', '--json'])).annotations).toEqual([]);
  });
});

// ---------------------------------------------------------------- best

describe.concurrent('best', () => {
  /** `mvm best ARGS --number`, trimmed. */
  const bestN = async (args: string[]) => ok(await run(['best', ...args, '--number'])).stdout.trim();

  it('prints the id of the highest accuracy; --number prints vN; --json has the details', async () => {
    const [id, n, j] = await Promise.all([
      run(['best', '--metric', 'accuracy']),
      run(['best', '--metric', 'accuracy', '--number']),
      run(['best', '--metric', 'accuracy', '--json']),
    ]);
    expect(ok(id).stdout).toBe(`${fx.ids[3]}\n`);
    expect(ok(n).stdout).toBe('v3\n');
    expect(json(j)).toEqual({ id: fx.ids[3], number: 3, value: 0.91, direction: 'higher', candidates: 6 });
  });

  it('infers lower-is-better for loss and latency; the flags override', async () => {
    const cases: [string[], string][] = [
      [['--metric', 'loss'], 'v4'],
      [['--metric', 'latency_ms'], 'v6'],
      [['--metric', 'loss', '--higher-is-better'], 'v5'],
      [['--metric', 'accuracy', '--lower-is-better'], 'v6'],
      [['--metric', 'custom'], 'v5'], // a name with no known direction: higher
      [['--metric', 'custom', '--lower-is-better'], 'v3'],
      [['--metric', 'eval.f1'], 'v6'],
    ];
    const got = await Promise.all(cases.map(([args]) => bestN(args)));
    cases.forEach(([args, want], i) => expect(got[i], `mvm best ${args.join(' ')}`).toBe(want));
    expect(json(await run(['best', '--metric', 'loss', '--json']))).toMatchObject({ number: 4, value: 0.45, direction: 'lower', candidates: 5 });
  });

  it('--where restricts the candidates', async () => {
    const [a, b, c] = await Promise.all([
      bestN(['--metric', 'accuracy', '--where', 'meta.dataset = "imagenet-2024"']),
      run(['best', '--metric', 'accuracy', '--where', 'meta.dataset = "imagenet-2024"', '--json']),
      bestN(['--metric', 'loss', '--where', 'author ~ "Bob" or author ~ "Carol"']),
    ]);
    expect(a).toBe('v2');
    expect(json(b).candidates).toBe(3);
    expect(c).toBe('v3');
  });

  it('a metric no version has (or none matching) is NO_VERSIONS, exit 4', async () => {
    const [a, b, text] = await Promise.all([
      run(['best', '--metric', 'bleu', '--json']),
      run(['best', '--metric', 'accuracy', '--where', 'meta.dataset = "mnist"', '--json']),
      run(['best', '--metric', 'bleu']),
    ]);
    expect(expectError(a, 'NO_VERSIONS', 4).data.metric).toBe('bleu');
    expectError(b, 'NO_VERSIONS', 4);
    expect(text.exitCode).toBe(4);
    expect(text.stdout).toBe('');
  });

  it('mvm deploy $(mvm best --metric accuracy) deploys the winner', async () => {
    const r = copy();
    const id = ok(await r.run(['best', '--metric', 'accuracy'])).stdout.trim();
    const d = json(await r.run(['deploy', id, '--json']));
    expect(d).toMatchObject({ to: fx.ids[3], toNumber: 3, action: 'deploy', changed: true, from: null });
    expect(json(await r.run(['show', 'deployed', '--json'])).id).toBe(fx.ids[3]);
    // the --number form works as a revision too
    const n = ok(await r.run(['best', '--metric', 'loss', '--number'])).stdout.trim();
    json(await r.run(['deploy', n, '--json']));
    expect(json(await r.run(['show', 'deployed', '--json'])).id).toBe(fx.ids[4]);
  });
});

// ---------------------------------------------------------------- lineage

interface Node {
  id: string;
  number: number;
  message: string;
  relation: string;
  data: { path?: string; name?: string; id: string }[];
  seen?: boolean;
  children: Node[];
}

/** Every edge of a lineage tree as `vP-relation->vC`, marking nodes not expanded again. */
function edges(n: Node): string[] {
  return n.children.flatMap((c) => [`v${n.number}-${c.relation}->v${c.number}${c.seen ? ' (seen)' : ''}`, ...edges(c)]);
}

describe.concurrent('lineage', () => {
  it('--json: parents and the base chain, each version expanded once, with data', async () => {
    const [a, b] = await Promise.all([run(['lineage', 'v5', '--json']), run(['lineage', 'v6', '--json'])]);
    const root = json<Node>(a);
    expect(root).toMatchObject({ id: fx.ids[5], number: 5, relation: 'root', message: 'exp: distilled' });
    expect(root.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect(root.children.map((c) => [c.relation, c.number])).toEqual([['parent', 2], ['base', 3]]);
    expect(edges(root).sort()).toEqual(['v5-parent->v2', 'v2-parent->v1', 'v5-base->v3', 'v3-parent->v2 (seen)', 'v3-base->v1 (seen)'].sort());
    const v3 = root.children[1]!;
    expect(v3.id).toBe(fx.ids[3]);
    expect(v3.data).toEqual([{ name: 'imagenet', id: 'sha256:abc' }]);
    // v6 -> base v5 -> base v3 -> base v1: the whole base chain is there (v5 is also v6's parent)
    const e6 = edges(json<Node>(b)).map((x) => x.replace(' (seen)', ''));
    expect(e6).toEqual(expect.arrayContaining(['v6-parent->v5', 'v6-base->v5', 'v5-base->v3', 'v3-base->v1', 'v5-parent->v2', 'v2-parent->v1']));
  });

  it('text: a tree showing parents, the base chain and data', async () => {
    const out = ok(await run(['lineage', 'v5'])).stdout;
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^v5 ${fx.ids[5]!.slice(0, 12)} exp: distilled {2}\\[data data/train@${fx.dataB.slice(0, 12)}\\]$`));
    expect(out).toMatch(/parent: v2 [0-9a-f]{12} lr 3e-4 with adam/);
    expect(out).toMatch(/parent: v1 [0-9a-f]{12} baseline {2}\[data data\/train@/);
    expect(out).toMatch(/base: v3 [0-9a-f]{12} fine-tune of baseline on cifar {2}\[data imagenet@sha256:abc\]/);
    expect(out).toMatch(/base: v1 [0-9a-f]{12} baseline \(see above\)/);
    expect(lines).toHaveLength(6);
    expect(lines.slice(1).every((l) => /[├└]── /.test(l))).toBe(true);
  });

  it('--downstream from v1 lists children and fine-tunes', async () => {
    const [a, b, c, t] = await Promise.all([
      run(['lineage', 'v1', '--downstream', '--json']),
      run(['lineage', 'v5', '--downstream', '--json']),
      run(['lineage', 'v4', '--downstream', '--json']),
      run(['lineage', 'v1', '--downstream']),
    ]);
    const root = json<Node>(a);
    expect(root.number).toBe(1);
    expect(root.children.map((x) => [x.relation, x.number]).sort()).toEqual([['child', 2], ['derived', 3]]);
    const all = new Set<number>();
    const walk = (n: Node) => {
      all.add(n.number);
      n.children.forEach(walk);
    };
    walk(root);
    expect([...all].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const e = edges(root).map((x) => x.replace(' (seen)', ''));
    expect(e).toEqual(expect.arrayContaining(['v1-child->v2', 'v1-derived->v3', 'v2-child->v3', 'v2-child->v5', 'v3-derived->v5', 'v3-child->v4', 'v5-child->v6']));
    expect(edges(json<Node>(b)).map((x) => x.replace(' (seen)', '')).sort()).toEqual(['v5-child->v6', 'v5-derived->v6']);
    expect(json<Node>(c).children).toEqual([]);
    const text = ok(t).stdout;
    expect(text).toMatch(/child: v2 [0-9a-f]{12} lr 3e-4/);
    expect(text).toMatch(/derived: v3 [0-9a-f]{12} fine-tune/);
  });

  it('--depth stops the walk', async () => {
    const root = json<Node>(await run(['lineage', 'v6', '--depth', '1', '--json']));
    expect(root.children.map((c) => [c.relation, c.number])).toEqual([['parent', 5], ['base', 5]]);
    expect(root.children.every((c) => c.children.length === 0)).toBe(true);
  });

  it('--dot is a digraph with labelled edges', async () => {
    const out = ok(await run(['lineage', 'v5', '--dot'])).stdout.trim();
    const lines = out.split('\n');
    expect(lines[0]).toBe('digraph lineage {');
    expect(lines.at(-1)).toBe('}');
    const s = (n: number) => fx.ids[n]!.slice(0, 12);
    expect(lines).toContain(`  "${s(2)}" -> "${s(5)}" [label="parent"];`);
    expect(lines).toContain(`  "${s(3)}" -> "${s(5)}" [label="base"];`);
    expect(lines).toContain(`  "${s(1)}" -> "${s(3)}" [label="base"];`);
    expect(lines).toContain(`  "${s(1)}" -> "${s(2)}" [label="parent"];`);
    expect(lines.filter((l) => l.includes(' -> '))).toHaveLength(5);
    for (const n of [1, 2, 3, 5]) expect(lines.some((l) => l.startsWith(`  "${s(n)}" [label="v${n} `))).toBe(true);
    expect(lines.some((l) => l.includes(s(4)) || l.includes(s(6)))).toBe(false);
  });

  it('an unknown revision is UNKNOWN_REVISION', async () => {
    const [a, b] = await Promise.all([run(['lineage', 'v99', '--json']), run(['lineage', 'deadbeef', '--downstream', '--json'])]);
    expectError(a, 'UNKNOWN_REVISION', 4);
    expectError(b, 'UNKNOWN_REVISION', 4);
  });
});
