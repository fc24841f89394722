/**
 * `mvm eval`, end to end through the real CLI with a real evaluation script
 * (eval.mjs in the repository): metrics recorded as annotations, the
 * comparison, failing commands, --dry-run, and a workspace left untouched.
 * Runs against the registry repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { DEFAULT_AUTHOR, HEX64, MODEL_SIZE, snapshot, useRegistryRepo } from '../../helpers/registryRepo.js';

const { fx, copy, numberSet } = useRegistryRepo();

describe.concurrent('eval', () => {
  /** Bytes and mtimes of the tracked files, and the refs, to prove the workspace was not touched. */
  function workspaceState(r: { path: (p: string) => string }) {
    const files = ['models/model.bin', 'models/config.json', 'data/train/a.csv'];
    return {
      files: files.map((f) => ({
        f,
        sha: createHash('sha256')
          .update(readFileSync(r.path(f)))
          .digest('hex'),
        mtime: statSync(r.path(f)).mtimeMs,
      })),
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
    expect(out.comparison.columns[1].metrics.bytes).toMatchObject({
      value: MODEL_SIZE[2],
      delta: MODEL_SIZE[2]! - MODEL_SIZE[1]!,
    });
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
    expect(lines[0]).toMatch(
      new RegExp(`^v4 [0-9a-f]{12}: bytes=${MODEL_SIZE[4]} eval\\.kb=[0-9.]+ files=2 same_dir=1 \\([0-9.]+ s\\)$`),
    );
    expect(lines[1]).toMatch(new RegExp(`^v6 [0-9a-f]{12}: bytes=${MODEL_SIZE[6]} `));
    expect(res.stdout).toMatch(
      new RegExp(`^bytes .*${MODEL_SIZE[4]} .*${MODEL_SIZE[6]} \\(${MODEL_SIZE[6]! - MODEL_SIZE[4]!}\\)`, 'm'),
    );
    expect(res.stdout).toMatch(/^accuracy \(higher is better\)/m);
    expect(json(await r.run(['show', 'v6', '--json'])).metrics.bytes).toBe(MODEL_SIZE[6]);
  });

  it('a version whose command fails is reported, the others still run; exit 9 (COMMAND_FAILED)', async () => {
    const r = copy();
    const before = workspaceState(r);
    const res = await r.run(['eval', 'v5', 'v6', '--json', '--', process.execPath, 'eval.mjs', '{path}']);
    expect(res.exitCode, res.stderr).toBe(9);
    const out = JSON.parse(res.stdout);
    expect(out.runs.map((x: any) => [x.number, x.ok])).toEqual([
      [5, false],
      [6, true],
    ]);
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

  it("the evaluator's stderr shows as it runs; its stdout stays mvm's", async () => {
    const r = copy();
    const script =
      'process.stderr.write("epoch 1/2\\n"); setTimeout(() => { process.stderr.write("epoch 2/2\\n"); ' +
      'console.log(JSON.stringify({ accuracy: 0.5 })); }, 50);';
    const res = await r.run(['eval', 'v1', '--dry-run', '--', process.execPath, '-e', script]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('epoch 1/2\nepoch 2/2\n');
    expect(res.stdout).toMatch(/^v1 [0-9a-f]{12}: accuracy=0.5 /m);
    expect(res.stdout).not.toContain('epoch 1/2');
    const quiet = await r.run(['eval', 'v1', '--dry-run', '-q', '--', process.execPath, '-e', script]);
    expect(quiet.stderr).toBe('');
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
    // it says what it expected
    expect(out.runs[0].error).toContain('last line of stdout to be a JSON object of metric names to numbers');
    expect(out.comparison).toBeNull();
    expect(missing.exitCode).toBe(9);
    expect(JSON.parse(missing.stdout).runs[0].ok).toBe(false);
    expect(json(await r.run(['show', 'v1', '--json'])).annotations).toEqual([]);
  });

  it('--dry-run records nothing', async () => {
    const r = copy();
    const before = snapshot(r.path('.mvm'), ['index', 'summaries']);
    const out = json(
      await r.run(['eval', 'v1', 'v3', '--dry-run', '--json', '--', process.execPath, 'eval.mjs', '{path}']),
    );
    expect(out.runs.map((x: any) => [x.ok, x.metrics.bytes])).toEqual([
      [true, MODEL_SIZE[1]],
      [true, MODEL_SIZE[3]],
    ]);
    expect(out.runs[0].annotation).toBeUndefined();
    expect(out.comparison.columns).toHaveLength(2);
    expect(snapshot(r.path('.mvm'), ['index', 'summaries'])).toEqual(before);
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
