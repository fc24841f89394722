/**
 * An interrupted clone (SIGKILL at fault points through the whole clone, Ctrl-C mid-fetch): every command in the
 * folder says how to finish it, running the same `mvm clone URL DIR` again finishes it (or `mvm pull` does),
 * and a clone of another URL into it is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, mvmAsync, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';

const MiB = 1 << 20;
const MAIN = '.mvm/refs/heads/main';
let t: ReturnType<typeof testdir>;
let remote: string;
const BIG = randomBytes(16 * MiB, 5);

beforeAll(() => {
  t = testdir();
  remote = t.path('remote');
  const run = (args: string[]) => mvm(args, { cwd: t.path('src') });
  write(t.path('src/models/big.bin'), BIG);
  write(t.path('src/models/small.txt'), 'config v1\n');
  ok(run(['init', '-q']));
  ok(run(['add', 'models', '-q']));
  ok(run(['commit', '-q', '-m', 'v1']));
  ok(run(['remote', 'add', 'origin', remote, '-q']));
  ok(run(['push', '-q']));
});
afterAll(() => t?.cleanup());

const inDir = (dir: string, args: string[], env: Record<string, string> = {}) => mvm(args, { cwd: dir, env });
const advice = (dir: string) => `this clone was interrupted: run \`mvm clone ${remote} ${dir}\` again to finish it`;

/** The clone in `dir` is whole: its files, a clean status without a note, fsck, no marker (with `unmarked`). */
function expectWhole(dir: string, unmarked = true) {
  expect(readFileSync(join(dir, 'models/big.bin')).equals(BIG)).toBe(true);
  expect(readFileSync(join(dir, 'models/small.txt'), 'utf8')).toBe('config v1\n');
  const st = inDir(dir, ['status', '--json']);
  expect(st.stderr).toBe('');
  expect(json(st).clean).toBe(true);
  expect(json(inDir(dir, ['fsck', '--json'])).ok).toBe(true);
  if (unmarked) expect(existsSync(join(dir, '.mvm/clone-unfinished'))).toBe(false);
}

/** What a command in an interrupted clone says: the note (or, before the store is whole, the error's hint). */
function expectAdvice(dir: string) {
  const r = inDir(dir, ['status', '--json']);
  if (r.exitCode === 0) expect(r.stderr).toContain(`mvm: note: ${advice(dir)}`);
  else expect(expectError(r, 'NOT_A_REPOSITORY', 3).data.hint).toContain(advice(dir));
  // log and checkout say it too
  expect(inDir(dir, ['log']).stderr).toContain(advice(dir));
}

describe('an interrupted clone', () => {
  it('killed at any step, says how to finish, and the same clone command finishes it', () => {
    const counted = t.path('counted');
    const log = t.path('clone-faults.log');
    ok(mvm(['clone', remote, counted, '-q'], { cwd: t.dir, env: { MVM_FAULT: 'count', MVM_FAULT_LOG: log } }));
    const points = readFileSync(log, 'utf8').trim().split('\n');
    expect(points.at(-1)).toMatch(/unlink .*clone-unfinished$/);
    // eight kill points spread over the clone, the first and the last among them
    const picks = [...new Set(Array.from({ length: 8 }, (_, i) => 1 + Math.round((i * (points.length - 1)) / 7)))];
    for (const n of picks) {
      const dir = t.path(`k${n}`);
      const killed = mvm(['clone', remote, dir], { cwd: t.dir, env: { MVM_FAULT: `kill:${n}` } });
      expect(killed.exitCode, `kill:${n} ${points[n - 1]}`).toBe(-1);
      // killed before HEAD named the version checked out: every command says how to finish, which the clone does
      const unfinished = existsSync(join(dir, '.mvm/clone-unfinished')) && !existsSync(join(dir, MAIN));
      if (unfinished) expectAdvice(dir);
      if (existsSync(join(dir, MAIN))) {
        // killed after HEAD moved, only the mark left to remove: a whole clone, which a clone into it refuses
        expect(n).toBe(points.length);
        expectError(mvm(['clone', remote, dir, '--json'], { cwd: t.dir }), 'ALREADY_A_REPOSITORY', 3);
        expectWhole(dir, false);
        continue;
      }
      const again = json(mvm(['clone', remote, dir, '--json'], { cwd: t.dir }));
      expect(again.dir).toBe(dir);
      expectWhole(dir);
    }
  }, 240_000);

  it('Ctrl-C mid-fetch prints how to finish; rerunning fetches what is missing and checks out', async () => {
    const dir = t.path('int');
    const { child, done } = mvmAsync(['clone', remote, dir, '--jobs', '1'], { cwd: t.dir });
    // wait for the fetch to start, then interrupt
    const started = Date.now();
    while (!existsSync(join(dir, '.mvm/remotes.json')) && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const r = await done;
    expect(r.exitCode).toBe(-1); // ended by the signal, as an interrupted program does
    expect(r.stderr).toContain(`mvm: ${advice(dir)}`);
    expectAdvice(dir);
    const again = json(mvm(['clone', remote, dir, '--json'], { cwd: t.dir }));
    expect(again.bytes).toBeLessThanOrEqual(BIG.length + MiB);
    expectWhole(dir);
  });

  it('a --full clone killed half-way through its chunks fetches only the rest when run again', () => {
    const log = t.path('full-faults.log');
    const first = json(
      mvm(['clone', remote, t.path('full-counted'), '--full', '--json'], {
        cwd: t.dir,
        env: { MVM_FAULT: 'count', MVM_FAULT_LOG: log },
      }),
    );
    const chunkWrites = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => / rename .*\/\.mvm\/objects\/[0-9a-f]{2}\//.test(l));
    expect(chunkWrites.length).toBeGreaterThan(8);
    const at = Number(chunkWrites[Math.floor(chunkWrites.length / 2)]!.split(' ')[0]);
    const dir = t.path('full');
    expect(mvm(['clone', remote, dir, '--full'], { cwd: t.dir, env: { MVM_FAULT: `kill:${at}` } }).exitCode).toBe(-1);
    expectAdvice(dir);
    const again = json(mvm(['clone', remote, dir, '--full', '--json'], { cwd: t.dir }));
    // what the first attempt stored stayed: the rerun fetched less, and the clone is whole
    expect(again.bytes).toBeGreaterThan(0);
    expect(again.bytes).toBeLessThan(first.bytes * 0.8);
    expectWhole(dir);
  });

  it('mvm pull also finishes it; a clone of another URL into it is refused', () => {
    const dir = t.path('pulled');
    const counted = readFileSync(t.path('clone-faults.log'), 'utf8').trim().split('\n');
    // killed as the workspace's first file is renamed into place
    const at = counted.findIndex((l) => / rename .*models\//.test(l)) + 1;
    expect(at).toBeGreaterThan(0);
    expect(mvm(['clone', remote, dir], { cwd: t.dir, env: { MVM_FAULT: `kill:${at}` } }).exitCode).toBe(-1);
    const other = t.path('other-remote');
    const e = expectError(mvm(['clone', other, dir, '--json'], { cwd: t.dir }), 'ALREADY_A_REPOSITORY', 3);
    expect(e.message).toContain(`unfinished clone of another remote, ${remote}`);
    expect(e.data.hint).toContain(`mvm clone ${remote} ${dir}`);
    const p = inDir(dir, ['pull', '--json']);
    expect(p.exitCode, p.stderr).toBe(0);
    const pulled = JSON.parse(p.stdout);
    expect(pulled.checkout.written.length + pulled.checkout.unchanged).toBe(2);
    expect(readFileSync(join(dir, 'models/big.bin')).equals(BIG)).toBe(true);
    const st = inDir(dir, ['status', '--json']);
    expect(st.stderr).toBe('');
    expect(json(st).clean).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a clone into a folder that is not empty and no unfinished clone is still refused', () => {
    const dir = t.path('busy');
    write(join(dir, 'notes.txt'), 'mine\n');
    const e = expectError(mvm(['clone', remote, dir, '--json'], { cwd: t.dir }), 'ALREADY_A_REPOSITORY', 3);
    expect(e.message).toContain('already exists and is not empty');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});
