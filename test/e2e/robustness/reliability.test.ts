/**
 * Reliability end-to-end tests: crashes (SIGKILL) at many moments of commit
 * and checkout, the one-writer lock, damaged objects / refs / index, and
 * failures halfway through a commit. Everything runs through the real CLI
 * (bin/mvm.js, built from src/), and every check looks at exit codes, the
 * `--json` error codes, and the bytes on disk.
 */
import { describe, it, expect } from 'vitest';
import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  watch,
  writeFileSync,
  writeSync,
  type FSWatcher,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { mvm, mvmAsync, testdir, randomBytes, type RunResult } from '../../helpers/cli.js';

// ---------------------------------------------------------------- helpers

const CHUNK = 4096;
const MiB = 1 << 20;

type Dir = ReturnType<typeof testdir>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const fileSha = (p: string) => sha(readFileSync(p));
const blake3Hex = (b: Uint8Array) => Buffer.from(blake3(b)).toString('hex');

/** Random bytes that no model-format detector will claim (so chunking is plain fixed-size). */
function plainBytes(n: number, seed?: number): Buffer {
  const b = seed === undefined ? cryptoRandomBytes(n) : randomBytes(n, seed);
  b.write('MVMTEST\0\0', 0, 'latin1');
  return b;
}

/** Overwrites `count` chunk-sized slices (every `step`-th chunk from `first`) of a file in place. */
function scribble(path: string, first: number, step: number, count: number): void {
  const fd = openSync(path, 'r+');
  try {
    const data = cryptoRandomBytes(count * CHUNK);
    for (let i = 0; i < count; i++) {
      // keep the plain-data marker at the start of the file intact
      const pos = (first + i * step) * CHUNK;
      const skip = pos === 0 ? 16 : 0;
      writeSync(fd, data, i * CHUNK + skip, CHUNK - skip, pos + skip);
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs a command that must succeed, returning its parsed --json output. */
function ok<T = any>(d: Dir, args: string[], env?: Record<string, string>): T {
  const r = mvm([...args, '--json'], { cwd: d.dir, env });
  expect(r.exitCode, `mvm ${args.join(' ')} failed: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The parsed {"error":{...}} document of a failed --json command. */
function errorOf(r: RunResult): { code: string; exitCode: number; data: Record<string, any> } {
  let doc: any;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`expected a JSON error on stdout, got: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  expect(doc).toHaveProperty('error');
  return doc.error;
}

/** Runs a command with --json that must fail with `code` and `exitCode`; returns the result. */
function fails(d: Dir, args: string[], code: string, exitCode: number, env?: Record<string, string>): RunResult {
  const r = mvm([...args, '--json'], { cwd: d.dir, env });
  expect(r.exitCode, `mvm ${args.join(' ')}: ${r.stdout} ${r.stderr}`).toBe(exitCode);
  expect(errorOf(r).code).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r;
}

interface LogEntry {
  id: string;
  number: number;
  parents: string[];
  message: string;
}

/** `mvm log --json [rev]`, which must succeed. */
function logOf(d: Dir, rev?: string): LogEntry[] {
  return ok<LogEntry[]>(d, ['log', ...(rev ? [rev] : [])]);
}

interface Fsck {
  ok: boolean;
  problems: {
    kind: string;
    id?: string;
    ref?: string;
    usedBy: { version: string; number: number | null; path?: string }[];
  }[];
  leftoverTemp: number;
  unreachable: number;
}

/** `mvm fsck --json`: returns the exit code and the report. */
function fsckOf(d: Dir): { exitCode: number; report: Fsck } {
  const r = mvm(['fsck', '--json'], { cwd: d.dir });
  let report: Fsck;
  try {
    report = JSON.parse(r.stdout) as Fsck;
  } catch {
    throw new Error(`fsck printed no JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
  }
  return { exitCode: r.exitCode, report };
}

/** fsck must pass: exit 0, no problems. */
function expectSound(d: Dir, opts: { noTemp?: boolean } = {}): Fsck {
  const { exitCode, report } = fsckOf(d);
  expect(report.problems, JSON.stringify(report.problems)).toEqual([]);
  expect(report.ok).toBe(true);
  expect(exitCode).toBe(0);
  if (opts.noTemp) expect(report.leftoverTemp).toBe(0);
  return report;
}

/** A new repository with chunk size 4 KiB tracking `files`, and its first version committed. */
function repoWith(files: Record<string, string | Uint8Array>, message = 'v1'): { d: Dir; v1: string } {
  const d = testdir(files);
  ok(d, ['init', '--chunk-size', String(CHUNK)]);
  ok(d, ['add', ...Object.keys(files)]);
  const c = ok<{ created: boolean; id: string; number: number }>(d, ['commit', '-m', message]);
  expect(c).toMatchObject({ created: true, number: 1 });
  return { d, v1: c.id };
}

/** Object file path of an id. */
const objPath = (d: Dir, id: string) => d.path(`.mvm/objects/${id.slice(0, 2)}/${id.slice(2)}`);

/** Ids of a plain (non-model) file's fixed-size chunks. */
function chunkIds(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let s = 0; s < bytes.length; s += CHUNK)
    out.push(blake3Hex(bytes.subarray(s, Math.min(bytes.length, s + CHUNK))));
  return out;
}

/** Flips one byte in the middle of a stored object; returns the original bytes for restoring. */
function corruptObject(d: Dir, id: string): Buffer {
  const p = objPath(d, id);
  const orig = readFileSync(p);
  const bad = Buffer.from(orig);
  bad[bad.length >> 1] ^= 0x5a;
  chmodSync(p, 0o644);
  writeFileSync(p, bad);
  chmodSync(p, 0o444);
  return orig;
}

function restoreObject(d: Dir, id: string, orig: Buffer): void {
  const p = objPath(d, id);
  if (existsSync(p)) chmodSync(p, 0o644);
  writeFileSync(p, orig);
  chmodSync(p, 0o444);
}

/** Kills `child` with SIGKILL as soon as `name` shows up in an fs.watch event on `dir`. */
function killOnEvent(
  dir: string,
  match: (name: string) => boolean,
  child: { kill(sig: NodeJS.Signals): boolean },
): FSWatcher {
  const w = watch(dir, (_ev, name) => {
    if (name && match(String(name))) {
      child.kill('SIGKILL');
      w.close();
    }
  });
  return w;
}

/** An fs.watch matcher that fires when the `n`-th distinct name starting with `prefix` appears. */
function nth(prefix: string, n: number): (name: string) => boolean {
  const seen = new Set<string>();
  return (name) => name.startsWith(prefix) && !seen.has(name) && seen.add(name).size === n;
}

/** Polls until `cond` holds, or fails after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A plan for one kill: after a delay (ms from spawn), or at an fs event. */
type KillPlan =
  | { label: string; delay: number }
  | { label: string; watchDir: string; match: (name: string) => boolean };

/** Starts `mvm args` and SIGKILLs it per `plan`; resolves when the process is gone (reaped). */
async function runAndKill(
  d: Dir,
  args: string[],
  plan: KillPlan,
): Promise<{ result: RunResult; killed: boolean; ms: number }> {
  const t0 = Date.now();
  const run = mvmAsync(args, { cwd: d.dir });
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  if ('delay' in plan) timer = setTimeout(() => run.child.kill('SIGKILL'), plan.delay);
  else watcher = killOnEvent(plan.watchDir, plan.match, run.child);
  const result = await run.done;
  if (timer) clearTimeout(timer);
  watcher?.close();
  return { result, killed: run.child.signalCode === 'SIGKILL', ms: Date.now() - t0 };
}

const headFile = (d: Dir) => readFileSync(d.path('.mvm/HEAD'), 'utf8').trim();

// ---------------------------------------------------------------- tests

describe('reliability', () => {
  it('survives SIGKILL at any moment of a commit', async () => {
    const size = 24 * MiB;
    const v1Bytes = plainBytes(size);
    const { d, v1 } = repoWith({ 'model.bin': v1Bytes });
    const file = d.path('model.bin');
    const tmp = d.path('.mvm/tmp');
    // each commit rewrites every 16th chunk, so new chunks are stored all through the file read
    const step = 16;
    const changed = size / CHUNK / step;
    try {
      // measure one full commit of such a change
      scribble(file, step - 1, step, changed);
      const t0 = Date.now();
      const fr = await mvmAsync(['commit', '-q', '-m', 'measured'], { cwd: d.dir }).done;
      const duration = Date.now() - t0;
      expect(fr.exitCode, fr.stderr).toBe(0);
      let history = logOf(d).map((e) => e.id);
      expect(history).toHaveLength(2);
      expect(history[1]).toBe(v1);

      // kill points: timed (spread over the measured duration) and at events that pin the
      // moment whatever the machine's load: the k-th chunk object being written, the file
      // object, the version manifest, the number being handed out, the ref being written
      const plans: (() => KillPlan)[] = [
        () => ({ label: 'first chunk object', watchDir: tmp, match: nth('o-', 1) }),
        () => ({ label: `${Math.round(0.45 * duration)} ms`, delay: Math.round(0.45 * duration) }),
        () => ({
          label: `chunk object ${Math.round(changed * 0.7)}/${changed}`,
          watchDir: tmp,
          match: nth('o-', Math.round(changed * 0.7)),
        }),
        () => ({ label: 'file object write', watchDir: tmp, match: nth('w-', 1) }),
        () => ({ label: 'version manifest write', watchDir: tmp, match: nth('w-', 2) }),
        () => ({ label: 'number handed out', watchDir: d.path('.mvm'), match: (n) => n === 'numbers' }),
        () => ({ label: 'branch ref write', watchDir: tmp, match: nth('w-', 3) }),
        () => ({ label: `${Math.round(0.9 * duration)} ms`, delay: Math.round(0.9 * duration) }),
      ];
      const outcomes: string[] = [];
      for (const [i, makePlan] of plans.entries()) {
        const plan = makePlan();
        const ctx = `kill at ${plan.label}`;
        const iterStart = Date.now();
        scribble(file, i % step, step, changed);
        const before = fileSha(file);
        const st = statSync(file);
        const { result, killed } = await runAndKill(d, ['commit', '-q', '-m', `c${i}`], plan);
        if (!killed) expect(result.exitCode, `${ctx}: ${result.stderr}`).toBe(0);
        // the workspace is never written by a commit
        expect(fileSha(file), ctx).toBe(before);
        expect(statSync(file).ino, ctx).toBe(st.ino);
        expect(statSync(file).mtimeMs, ctx).toBe(st.mtimeMs);
        // the repository is sound (temp files are allowed and reported, not errors)
        const report = expectSound(d);
        // history is the old one, or the old one plus exactly the new version
        const after = logOf(d);
        const ids = after.map((e) => e.id);
        if (ids.length === history.length) {
          expect(ids, ctx).toEqual(history);
          expect(killed, `${ctx}: a completed commit must have moved the branch`).toBe(true);
        } else {
          expect(ids.slice(1), ctx).toEqual(history);
          expect(after[0]!.parents, ctx).toEqual([history[0]]);
          expect(after[0]!.message, ctx).toBe(`c${i}`);
        }
        const landed = ids.length > history.length;
        // the next commit takes over the dead process's lock and succeeds
        const next = mvm(['commit', '-m', `f${i}`, '--json'], { cwd: d.dir });
        // exit 1 when it finds nothing to commit (the killed commit landed)
        expect(next.exitCode, `${ctx}: follow-up commit: ${next.stdout} ${next.stderr}`).toBe(landed ? 1 : 0);
        const nr = JSON.parse(next.stdout) as { created: boolean; id: string };
        expect(nr.created, `${ctx}: follow-up commit created a version`).toBe(!landed);
        const final = logOf(d);
        expect(final.map((e) => e.id).slice(1), ctx).toEqual(history);
        expect(final[0]!.id).toBe(nr.id);
        expect(final[0]!.parents, ctx).toEqual([history[0]]);
        expect(existsSync(d.path('.mvm/lock')), `${ctx}: lock released`).toBe(false);
        // clean: the dead writer's temp files are gone (the next iteration's fsck verifies every object)
        expect(readdirSync(tmp), `${ctx}: temp files cleared`).toEqual([]);
        history = final.map((e) => e.id);
        const outcome = killed ? (landed ? 'killed after the branch moved' : 'killed, old history kept') : 'completed';
        const leftover = report.leftoverTemp ? `, ${report.leftoverTemp} temp file(s) left` : '';
        outcomes.push(`${plan.label}: ${outcome}${leftover} [${Date.now() - iterStart} ms]`);
      }
      expectSound(d, { noTemp: true });
      // every recorded version still restores bit for bit
      const last = fileSha(file);
      ok(d, ['checkout', 'v1', '--force']);
      expect(fileSha(file)).toBe(sha(v1Bytes));
      ok(d, ['checkout', 'main', '--force']);
      expect(fileSha(file)).toBe(last);
      console.log(`commit (${duration} ms) kill outcomes:\n  ${outcomes.join('\n  ')}`);
    } finally {
      d.cleanup();
    }
  }, 120_000);

  it('survives SIGKILL at any moment of a checkout: every file is whole, v1 or v2', async () => {
    const names = ['a.bin', 'b.bin', 'c.bin', 'd.bin'];
    const per = 3 * MiB;
    const v1Files = Object.fromEntries(names.map((n) => [n, plainBytes(per)]));
    const { d, v1 } = repoWith(v1Files);
    const tmp = d.path('.mvm/tmp');
    try {
      // v2: the first half of every file rewritten
      for (const n of names) scribble(d.path(n), 0, 1, per / CHUNK / 2);
      const v2 = ok<{ id: string }>(d, ['commit', '-m', 'v2']).id;
      const h1 = Object.fromEntries(names.map((n) => [n, sha(v1Files[n]!)]));
      const h2 = Object.fromEntries(names.map((n) => [n, fileSha(d.path(n))]));
      for (const n of names) expect(h2[n]).not.toBe(h1[n]);
      const atV = (h: Record<string, string>) => names.every((n) => fileSha(d.path(n)) === h[n]);
      // measure one full checkout
      const t0 = Date.now();
      const m = await mvmAsync(['checkout', 'v1', '-q'], { cwd: d.dir }).done;
      const duration = Date.now() - t0;
      expect(m.exitCode, m.stderr).toBe(0);
      expect(atV(h1)).toBe(true);
      ok(d, ['checkout', 'main']);
      expect(atV(h2)).toBe(true);

      // kill points: while file k is being assembled in .mvm/tmp, right after file k is renamed
      // into the workspace, while HEAD is being written, and at a few delays
      const replaced = (k: number) => {
        const seen = new Set<string>();
        return (n: string) => names.includes(n) && seen.add(n).size === k;
      };
      const plans: (() => KillPlan)[] = [
        () => ({ label: 'writing file 1', watchDir: tmp, match: nth('co-', 1) }),
        () => ({ label: 'file 1 replaced', watchDir: d.dir, match: replaced(1) }),
        () => ({ label: 'writing file 3', watchDir: tmp, match: nth('co-', 3) }),
        () => ({ label: `${Math.round(0.7 * duration)} ms`, delay: Math.round(0.7 * duration) }),
        () => ({ label: 'file 4 replaced', watchDir: d.dir, match: replaced(4) }),
        () => ({ label: 'HEAD write', watchDir: tmp, match: nth('w-', 1) }),
      ];
      const outcomes: string[] = [];
      for (const makePlan of plans) {
        const plan = makePlan();
        const ctx = `kill at ${plan.label}`;
        const iterStart = Date.now();
        const { result, killed } = await runAndKill(d, ['checkout', 'v1', '-q'], plan);
        if (!killed) expect(result.exitCode, `${ctx}: ${result.stderr}`).toBe(0);
        expectSound(d);
        // history is intact whatever HEAD says
        expect(
          logOf(d, 'main').map((e) => e.id),
          ctx,
        ).toEqual([v2, v1]);
        const head = headFile(d);
        expect(['ref: refs/heads/main', v1], ctx).toContain(head);
        // every file is whole: exactly its v1 or its v2 bytes; nothing else appeared in the workspace
        let old = 0;
        for (const n of names) {
          const h = fileSha(d.path(n));
          expect([h1[n], h2[n]], `${ctx}: ${n} is neither its v1 nor its v2 bytes`).toContain(h);
          if (h === h1[n]) old++;
        }
        expect(readdirSync(d.dir).sort(), ctx).toEqual(['.gitignore', '.mvm', ...names].sort());
        if (!killed || head === v1)
          expect(old, `${ctx}: HEAD moved to v1 before every file was written`).toBe(names.length);
        const headMoved = head === v1 ? 'moved' : 'unmoved';
        const outcome = killed ? `killed with ${old}/${names.length} files at v1, HEAD ${headMoved}` : 'completed';
        outcomes.push(`${plan.label}: ${outcome}`);
        // re-running the checkout finishes the job, bit for bit
        const co = ok<{ id: string }>(d, ['checkout', 'v1', '--force']);
        expect(co.id).toBe(v1);
        expect(atV(h1), ctx).toBe(true);
        expect(headFile(d)).toBe(v1);
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
        expect(readdirSync(tmp), ctx).toEqual([]);
        ok(d, ['checkout', 'main', '--force']);
        expect(atV(h2), ctx).toBe(true);
        expect(headFile(d)).toBe('ref: refs/heads/main');
        outcomes[outcomes.length - 1] += ` [${Date.now() - iterStart} ms]`;
      }
      expectSound(d, { noTemp: true });
      console.log(`checkout (${duration} ms) kill outcomes:\n  ${outcomes.join('\n  ')}`);
    } finally {
      d.cleanup();
    }
  }, 90_000);

  it('has one writer at a time: a second commit fails LOCKED naming the holder while reads keep working', async () => {
    const { d, v1 } = repoWith({ 'small.txt': 'first\n' });
    try {
      writeFileSync(d.path('big.bin'), plainBytes(64 * MiB));
      ok(d, ['add', 'big.bin']);
      const refBefore = readFileSync(d.path('.mvm/refs/heads/main'), 'utf8');
      const long = mvmAsync(['commit', '-q', '-m', 'big', '--json'], { cwd: d.dir });
      const holder = long.child.pid!;
      await until(
        () => {
          try {
            return (JSON.parse(readFileSync(d.path('.mvm/lock'), 'utf8')) as { pid: number }).pid === holder;
          } catch {
            return false;
          }
        },
        20_000,
        'the long commit to take the lock',
      );
      const lockDoc = JSON.parse(readFileSync(d.path('.mvm/lock'), 'utf8'));
      expect(lockDoc).toMatchObject({ pid: holder, host: hostname(), command: 'commit' });

      const running = () => long.child.exitCode === null && long.child.signalCode === null;
      const stillRunning: Record<string, boolean> = {};
      const track = (name: string, p: Promise<RunResult>) => p.then((r) => ((stillRunning[name] = running()), r));
      // a second writer: waits MVM_LOCK_TIMEOUT, then fails LOCKED
      const second = track(
        'second commit',
        mvmAsync(['commit', '-m', 'second', '--allow-empty', '--json'], {
          cwd: d.dir,
          env: { MVM_LOCK_TIMEOUT: '300' },
        }).done,
      );
      // readers do not take the lock
      const reads = {
        log: track('log', mvmAsync(['log', '--json'], { cwd: d.dir }).done),
        show: track('show', mvmAsync(['show', 'v1', '--json'], { cwd: d.dir }).done),
        diff: track('diff', mvmAsync(['diff', 'v1', 'v1', '--json'], { cwd: d.dir }).done),
      };
      const s = await second;
      const r = { log: await reads.log, show: await reads.show, diff: await reads.diff };
      const status = await track('status', mvmAsync(['status', '--json'], { cwd: d.dir }).done);
      const done = await long.done;

      expect(stillRunning['second commit'], 'the long commit ended before the second one gave up: test is void').toBe(
        true,
      );
      expect(s.exitCode, s.stderr).toBe(6);
      const err = errorOf(s);
      expect(err.code).toBe('LOCKED');
      expect(err.exitCode).toBe(6);
      expect(err.data.owner).toMatchObject({ pid: holder, command: 'commit', host: hostname() });
      const lines = s.stderr.split('\n').filter((l) => l !== '');
      expect(lines, s.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^mvm: /);
      expect(lines[0]).toContain(`pid ${holder}`);
      expect(lines[0]).toContain('commit');

      for (const [name, rr] of Object.entries(r)) expect(rr.exitCode, `${name} during a commit: ${rr.stderr}`).toBe(0);
      expect(
        stillRunning.log && stillRunning.show && stillRunning.diff,
        `reads overlapped the commit: ${JSON.stringify(stillRunning)}`,
      ).toBe(true);
      const logIds = (JSON.parse(r.log.stdout) as LogEntry[]).map((e) => e.id);
      expect(logIds).toEqual([v1]);
      expect(JSON.parse(r.show.stdout)).toMatchObject({ id: v1, number: 1 });
      const df = JSON.parse(r.diff.stdout) as { totals: { modified: number; added: number; removed: number } };
      expect(df.totals).toMatchObject({ modified: 0, added: 0, removed: 0 });
      expect(status.exitCode, status.stderr).toBe(0);
      const st = JSON.parse(status.stdout) as { head: string; changes: { path: string; status: string }[] };
      if (st.head === v1) expect(st.changes).toEqual([{ path: 'big.bin', status: 'added' }]);

      // the long commit went through; the failed one left nothing behind
      expect(done.exitCode, done.stderr).toBe(0);
      const big = JSON.parse(done.stdout) as { id: string; number: number };
      expect(big.number).toBe(2);
      const hist = logOf(d);
      expect(hist.map((e) => e.id)).toEqual([big.id, v1]);
      expect(hist.map((e) => e.message)).toEqual(['big', 'v1']);
      expect(readFileSync(d.path('.mvm/refs/heads/main'), 'utf8')).not.toBe(refBefore);
      expect(readFileSync(d.path('.mvm/refs/heads/main'), 'utf8').trim()).toBe(big.id);
      expect(readFileSync(d.path('.mvm/numbers'), 'latin1')).toBe(`${v1}\n${big.id}\n`);
      expect(existsSync(d.path('.mvm/lock'))).toBe(false);

      // a lock left by a dead process on this host is taken over
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      expect(() => process.kill(dead, 0)).toThrow();
      const stale = JSON.stringify({
        pid: dead,
        host: hostname(),
        since: new Date(Date.now() - 60_000).toISOString(),
        command: 'commit',
      });
      writeFileSync(d.path('.mvm/lock'), stale);
      writeFileSync(d.path('small.txt'), 'second\n');
      const c3 = ok<{ created: boolean; number: number }>(d, ['commit', '-m', 'after stale lock'], {
        MVM_LOCK_TIMEOUT: '300',
      });
      expect(c3).toMatchObject({ created: true, number: 3 });
      expect(existsSync(d.path('.mvm/lock'))).toBe(false);

      // ...but a live holder's lock, or one from another host, is respected and left in place
      for (const owner of [
        { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: 'checkout' },
        { pid: dead, host: `not-${hostname()}`, since: new Date().toISOString(), command: 'commit' },
      ]) {
        const text = JSON.stringify(owner);
        writeFileSync(d.path('.mvm/lock'), text);
        writeFileSync(d.path('small.txt'), `third ${owner.host}\n`);
        const f = fails(d, ['commit', '-m', 'blocked'], 'LOCKED', 6, { MVM_LOCK_TIMEOUT: '300' });
        expect(f.stderr).toContain(`pid ${owner.pid}`);
        expect(readFileSync(d.path('.mvm/lock'), 'utf8')).toBe(text);
        expect(logOf(d)).toHaveLength(3);
        unlinkSync(d.path('.mvm/lock'));
      }
      expectSound(d, { noTemp: true });
    } finally {
      d.cleanup();
    }
  }, 60_000);

  it('a writer killed the moment it creates the lock file does not lock the repository for good', async () => {
    const { d } = repoWith({ 'w.bin': plainBytes(64 * CHUNK) });
    try {
      // the real crash: SIGKILL as soon as .mvm/lock appears. Whether the kill lands before the
      // owner is written into it is a race, so try a few times (stopping once it has happened)
      const seen: string[] = [];
      for (let attempt = 0; attempt < 6 && !seen.includes('empty'); attempt++) {
        scribble(d.path('w.bin'), attempt, 8, 8);
        const { killed } = await runAndKill(d, ['commit', '-q', '-m', `k${attempt}`], {
          label: 'lock created',
          watchDir: d.path('.mvm'),
          match: (n) => n === 'lock',
        });
        expect(killed).toBe(true);
        const lockText = existsSync(d.path('.mvm/lock')) ? readFileSync(d.path('.mvm/lock'), 'utf8') : null;
        seen.push(lockText === null ? 'none' : lockText === '' ? 'empty' : 'owner');
        // the writer is dead: its lock, whatever state it reached, must not block the next one
        const next = mvm(['commit', '-m', `after k${attempt}`, '--json'], { cwd: d.dir });
        expect(next.exitCode, `attempt ${attempt} (lock left: ${seen[attempt]}): ${next.stdout} ${next.stderr}`).toBe(
          0,
        );
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
      }
      console.log(`lock-creation kills left: ${seen.join(', ')}`);
      // the same state, made deterministically: an empty lock file, as such a crash left it ten minutes ago
      writeFileSync(d.path('.mvm/lock'), '');
      const old = new Date(Date.now() - 600_000);
      utimesSync(d.path('.mvm/lock'), old, old);
      scribble(d.path('w.bin'), 7, 8, 8);
      const r = mvm(['commit', '-m', 'after an empty lock', '--json'], { cwd: d.dir });
      expect(r.exitCode, `an ownerless lock file from a crash ten minutes ago still blocks writers: ${r.stderr}`).toBe(
        0,
      );
      expect(existsSync(d.path('.mvm/lock'))).toBe(false);
      expectSound(d, { noTemp: true });
    } finally {
      d.cleanup();
    }
  });

  describe('damage', () => {
    // v1: a.bin (16 chunks), b.bin (8 chunks); v2: the first 4 chunks of a.bin and first 2 of b.bin rewritten
    function damagedFixture() {
      const a1 = plainBytes(16 * CHUNK, 11);
      const b1 = plainBytes(8 * CHUNK, 12);
      const { d, v1 } = repoWith({ 'a.bin': a1, 'b.bin': b1 });
      const a2 = Buffer.from(a1);
      randomBytes(4 * CHUNK, 13).copy(a2, 16, 16);
      const b2 = Buffer.from(b1);
      randomBytes(2 * CHUNK, 14).copy(b2, 16, 16);
      writeFileSync(d.path('a.bin'), a2);
      writeFileSync(d.path('b.bin'), b2);
      const v2 = ok<{ id: string; number: number }>(d, ['commit', '-m', 'v2']);
      expect(v2.number).toBe(2);
      const ids = { a1: chunkIds(a1), b1: chunkIds(b1), a2: chunkIds(a2) };
      // the fixture is plain fixed-size chunked: every computed chunk is stored under its BLAKE3 id
      for (const id of [...ids.a1, ...ids.b1, ...ids.a2])
        expect(existsSync(objPath(d, id)), `chunk ${id} stored`).toBe(true);
      const snap = () => ({
        a: fileSha(d.path('a.bin')),
        b: fileSha(d.path('b.bin')),
        ai: statSync(d.path('a.bin')).ino,
        bi: statSync(d.path('b.bin')).ino,
        head: headFile(d),
        main: readFileSync(d.path('.mvm/refs/heads/main'), 'utf8'),
      });
      return { d, v1, v2: v2.id, ids, snap, a1, b1, a2, b2 };
    }

    it(
      'a corrupt chunk: fsck names it with version and path; checkout fails OBJECT_CORRUPT and leaves the ' +
        'workspace alone',
      () => {
        const { d, v1, v2, ids, snap, a1 } = damagedFixture();
        try {
          expectSound(d, { noTemp: true });
          const onlyV1 = ids.a1[1]!; // in the rewritten region: used by v1 only
          const shared = ids.a1[9]!; // untouched region: used by v1 and v2
          const origOnly = corruptObject(d, onlyV1);
          const origShared = corruptObject(d, shared);
          const { exitCode, report } = fsckOf(d);
          expect(exitCode).toBe(7);
          expect(report.ok).toBe(false);
          const p1 = report.problems.find((p) => p.id === onlyV1);
          expect(p1, JSON.stringify(report.problems)).toBeDefined();
          expect(p1!.kind).toBe('corrupt');
          expect(p1!.usedBy).toContainEqual(expect.objectContaining({ version: v1, number: 1, path: 'a.bin' }));
          expect(p1!.usedBy.some((u) => u.number === 2)).toBe(false);
          const p2 = report.problems.find((p) => p.id === shared);
          expect(p2?.kind).toBe('corrupt');
          expect(p2!.usedBy).toContainEqual(expect.objectContaining({ version: v1, number: 1, path: 'a.bin' }));
          expect(p2!.usedBy).toContainEqual(expect.objectContaining({ version: v2, number: 2, path: 'a.bin' }));
          expect(report.problems).toHaveLength(2);
          // the text report is one line per problem plus the summary, and also exits 7
          const text = mvm(['fsck', '-q'], { cwd: d.dir });
          expect(text.exitCode).toBe(7);
          expect(text.stdout).toContain(onlyV1);
          expect(text.stdout).toMatch(/v1 [0-9a-f]{12}:a\.bin/);

          // checkout of v1 needs the damaged chunk: refused, nothing touched
          const before = snap();
          const f = fails(d, ['checkout', 'v1'], 'OBJECT_CORRUPT', 7);
          expect([onlyV1, shared]).toContain(errorOf(f).data.id);
          expect(snap()).toEqual(before);
          expect(readdirSync(d.path('.mvm/tmp'))).toEqual([]);
          expect(existsSync(d.path('.mvm/lock'))).toBe(false);
          // the damaged shared chunk is not needed to check out v1's b.bin... but a forced checkout of main needs it
          writeFileSync(d.path('a.bin'), 'local scribble');
          const before2 = snap();
          fails(d, ['checkout', 'main', '--force'], 'OBJECT_CORRUPT', 7);
          expect(snap()).toEqual(before2);
          expect(readFileSync(d.path('a.bin'), 'utf8')).toBe('local scribble');

          // repaired: everything is sound again and v1 restores bit for bit
          restoreObject(d, onlyV1, origOnly);
          restoreObject(d, shared, origShared);
          expectSound(d);
          ok(d, ['checkout', 'v1', '--force']);
          expect(fileSha(d.path('a.bin'))).toBe(sha(a1));
        } finally {
          d.cleanup();
        }
      },
    );

    it('a damaged chunk of one file does not let checkout rewrite the other files either', () => {
      const { d, ids, snap } = damagedFixture();
      try {
        // b.bin sorts after a.bin: a checkout that restored file by file would replace a.bin first
        const orig = corruptObject(d, ids.b1[0]!);
        const before = snap();
        fails(d, ['checkout', 'v1'], 'OBJECT_CORRUPT', 7);
        expect(snap(), 'a failed checkout must leave every workspace file as it was').toEqual(before);
        restoreObject(d, ids.b1[0]!, orig);
        expectSound(d);
      } finally {
        d.cleanup();
      }
    });

    it(
      'a missing chunk: fsck reports it missing with version and path; checkout fails OBJECT_MISSING and leaves ' +
        'the workspace alone',
      () => {
        const { d, v1, ids, snap, a1, a2 } = damagedFixture();
        try {
          const gone = ids.a1[2]!;
          const orig = readFileSync(objPath(d, gone));
          unlinkSync(objPath(d, gone));
          const { exitCode, report } = fsckOf(d);
          expect(exitCode).toBe(7);
          expect(report.problems).toHaveLength(1);
          expect(report.problems[0]).toMatchObject({ kind: 'missing', id: gone });
          expect(report.problems[0]!.usedBy).toContainEqual(
            expect.objectContaining({ version: v1, number: 1, path: 'a.bin' }),
          );
          const before = snap();
          const f = fails(d, ['checkout', 'v1'], 'OBJECT_MISSING', 7);
          expect(errorOf(f).data.id).toBe(gone);
          expect(snap()).toEqual(before);
          expect(fileSha(d.path('a.bin'))).toBe(sha(a2));
          expect(readdirSync(d.path('.mvm/tmp'))).toEqual([]);
          // the version manifest itself missing: fsck and checkout say so too
          const mOrig = readFileSync(objPath(d, v1));
          unlinkSync(objPath(d, v1));
          const m = fsckOf(d);
          expect(m.exitCode).toBe(7);
          expect(m.report.problems).toContainEqual(expect.objectContaining({ kind: 'missing', id: v1 }));
          fails(d, ['checkout', 'v1'], 'OBJECT_MISSING', 7);
          expect(snap()).toEqual(before);
          writeFileSync(objPath(d, v1), mOrig);
          writeFileSync(objPath(d, gone), orig);
          expectSound(d);
          ok(d, ['checkout', 'v1']);
          expect(fileSha(d.path('a.bin'))).toBe(sha(a1));
        } finally {
          d.cleanup();
        }
      },
    );

    it('a corrupt ref: commands fail REF_CORRUPT, fsck reports bad-ref, and nothing is written', () => {
      const { d, v2 } = damagedFixture();
      try {
        const numbers = readFileSync(d.path('.mvm/numbers'));
        writeFileSync(d.path('.mvm/refs/heads/main'), 'this is not a version id\n');
        fails(d, ['log'], 'REF_CORRUPT', 7);
        fails(d, ['status'], 'REF_CORRUPT', 7);
        fails(d, ['show'], 'REF_CORRUPT', 7);
        writeFileSync(d.path('b.bin'), 'changed');
        fails(d, ['commit', '-m', 'on a broken ref'], 'REF_CORRUPT', 7);
        expect(readFileSync(d.path('.mvm/refs/heads/main'), 'utf8')).toBe('this is not a version id\n');
        expect(readFileSync(d.path('.mvm/numbers'))).toEqual(numbers);
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
        const { exitCode, report } = fsckOf(d);
        expect(exitCode).toBe(7);
        expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'bad-ref', ref: 'refs/heads/main' }));
        expect(report.problems.every((p) => p.kind === 'bad-ref')).toBe(true);
        // versions are still reachable by number
        expect(ok<{ id: string }>(d, ['show', 'v2']).id).toBe(v2);
        writeFileSync(d.path('.mvm/refs/heads/main'), `${v2}\n`);
        expectSound(d);
      } finally {
        d.cleanup();
      }
    });

    it('a deleted, garbled or stale index is rebuilt: log and status keep working', () => {
      const { d, v1, v2 } = damagedFixture();
      try {
        const expectLog = () => {
          const l = logOf(d);
          expect(l.map((e) => [e.id, e.number])).toEqual([
            [v2, 2],
            [v1, 1],
          ]);
          expect(l.map((e) => e.message)).toEqual(['v2', 'v1']);
        };
        const expectClean = () =>
          expect(ok<{ clean: boolean; head: string }>(d, ['status'])).toMatchObject({ clean: true, head: v2 });
        expectLog();
        const root = d.path('.mvm/index');
        const generation = () => join(root, readFileSync(join(root, 'active'), 'utf8').trim());
        // deleted
        rmSync(root, { recursive: true, force: true });
        expectLog();
        expectClean();
        expect(existsSync(join(generation(), 'CURRENT'))).toBe(true);
        // garbage in CURRENT and every MANIFEST
        let index = generation();
        writeFileSync(join(index, 'CURRENT'), cryptoRandomBytes(100));
        for (const f of readdirSync(index))
          if (f.startsWith('MANIFEST-')) writeFileSync(join(index, f), cryptoRandomBytes(300));
        expectLog();
        expectClean();
        expectLog();
        // a new generation replaced the damaged one, which is gone
        expect(generation()).not.toBe(index);
        expect(existsSync(index)).toBe(false);
        // garbage in every table and log file
        index = generation();
        for (const f of readdirSync(index))
          if (/\.(ldb|log|sst)$/.test(f)) writeFileSync(join(index, f), cryptoRandomBytes(2000));
        expectLog();
        expectClean();
        // an old copy of the index (from before v3) is brought up to date
        const old = d.path('index-copy');
        cpSync(root, old, { recursive: true });
        writeFileSync(d.path('b.bin'), 'v3 content');
        const v3 = ok<{ id: string; number: number }>(d, ['commit', '-m', 'v3']);
        expect(v3.number).toBe(3);
        rmSync(root, { recursive: true, force: true });
        cpSync(old, root, { recursive: true });
        rmSync(old, { recursive: true, force: true });
        expect(logOf(d).map((e) => [e.id, e.number])).toEqual([
          [v3.id, 3],
          [v2, 2],
          [v1, 1],
        ]);
        expect(ok<{ clean: boolean }>(d, ['status']).clean).toBe(true);
        expectSound(d);
      } finally {
        d.cleanup();
      }
    });
  });

  describe('a commit that fails halfway', () => {
    it('leaves refs, numbers and the workspace untouched when a tracked file is unreadable', () => {
      const a = plainBytes(64 * CHUNK, 21);
      const z = plainBytes(16 * CHUNK, 22);
      const d = testdir({ 'a.bin': a, 'z.bin': z });
      // root reads anything: run mvm as an unprivileged user so the permission bits bite
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const run = (args: string[]) => mvm([...args, '--json'], { cwd: d.dir, ...asUser });
      try {
        if ('uid' in asUser) {
          const chownAll = (p: string) => {
            chownSync(p, 65534, 65534);
            if (statSync(p).isDirectory()) for (const f of readdirSync(p)) chownAll(join(p, f));
          };
          chownAll(d.dir);
        }
        expect(run(['init', '--chunk-size', String(CHUNK)]).exitCode).toBe(0);
        expect(run(['add', 'a.bin', 'z.bin']).exitCode).toBe(0);
        const c1 = run(['commit', '-m', 'v1']);
        expect(c1.exitCode, c1.stderr).toBe(0);
        const v1 = JSON.parse(c1.stdout).id as string;
        const state = () => ({
          head: headFile(d),
          main: readFileSync(d.path('.mvm/refs/heads/main'), 'utf8'),
          numbers: readFileSync(d.path('.mvm/numbers'), 'latin1'),
        });
        const objects = () =>
          readdirSync(d.path('.mvm/objects'), { recursive: true }).filter((f) => /[0-9a-f]{62}$/.test(String(f)))
            .length;

        // both files change (so neither is vouched for by the stat cache); z.bin, read last, becomes unreadable
        scribble(d.path('a.bin'), 0, 2, 32);
        scribble(d.path('z.bin'), 0, 1, 4);
        chmodSync(d.path('z.bin'), 0o000);
        const ha = fileSha(d.path('a.bin'));
        const hz = fileSha(d.path('z.bin'));
        const before = state();
        const objsBefore = objects();
        const r = run(['commit', '-m', 'half']);
        expect(r.exitCode, r.stdout + r.stderr).toBe(8);
        expect(errorOf(r).code).toBe('UNREADABLE');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain('z.bin');
        // a.bin's new chunks were stored before z.bin failed (the commit really was halfway)...
        expect(objects()).toBeGreaterThan(objsBefore);
        // ...yet no ref, number, lock or workspace byte changed
        expect(state()).toEqual(before);
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
        expect(fileSha(d.path('a.bin'))).toBe(ha);
        expect(fileSha(d.path('z.bin'))).toBe(hz);
        const l = run(['log']);
        expect(l.exitCode).toBe(0);
        expect((JSON.parse(l.stdout) as LogEntry[]).map((e) => e.id)).toEqual([v1]);
        expectSound(d, { noTemp: true });

        // a commit refused by the lock writes nothing either, and leaves the holder's lock alone
        const lockText = JSON.stringify({
          pid: process.pid,
          host: hostname(),
          since: new Date().toISOString(),
          command: 'deploy',
        });
        writeFileSync(d.path('.mvm/lock'), lockText);
        const objs2 = objects();
        const lr = mvm(['commit', '-m', 'blocked', '--json'], {
          cwd: d.dir,
          env: { MVM_LOCK_TIMEOUT: '200' },
          ...asUser,
        });
        expect(lr.exitCode).toBe(6);
        expect(errorOf(lr).code).toBe('LOCKED');
        expect(state()).toEqual(before);
        expect(objects()).toBe(objs2);
        expect(readFileSync(d.path('.mvm/lock'), 'utf8')).toBe(lockText);
        unlinkSync(d.path('.mvm/lock'));

        // once readable again the commit goes through
        chmodSync(d.path('z.bin'), 0o644);
        const c2 = run(['commit', '-m', 'v2']);
        expect(c2.exitCode, c2.stderr).toBe(0);
        expect(JSON.parse(c2.stdout)).toMatchObject({ created: true, number: 2 });
        expectSound(d, { noTemp: true });
      } finally {
        try {
          chmodSync(d.path('z.bin'), 0o644);
        } catch {
          /* gone */
        }
        d.cleanup();
      }
    });
  });
});
