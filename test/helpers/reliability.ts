/**
 * Helpers of the reliability suites (robustness/kill, robustness/locking, robustness/damaged-store and
 * commands/commit): a repository with 4 KiB chunks, --json runs that must succeed or fail with a code, fsck
 * reports, corrupting and restoring stored objects, and killing a command at a moment or an fs event.
 */
import { expect } from 'vitest';
import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { blake3 } from '@noble/hashes/blake3.js';
import { mvm, mvmAsync, testdir, randomBytes, type RunResult } from './cli.js';
import { corruptStored, replaceStored } from './storedObjects.js';

// ---------------------------------------------------------------- helpers

export const CHUNK = 4096;
export const MiB = 1 << 20;

export type Dir = ReturnType<typeof testdir>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const fileSha = (p: string) => sha(readFileSync(p));
export const blake3Hex = (b: Uint8Array) => Buffer.from(blake3(b)).toString('hex');

/** Random bytes that no model-format detector will claim (so chunking is plain fixed-size). */
export function plainBytes(n: number, seed?: number): Buffer {
  const b = seed === undefined ? cryptoRandomBytes(n) : randomBytes(n, seed);
  b.write('MVMTEST\0\0', 0, 'latin1');
  return b;
}

/** Overwrites `count` chunk-sized slices (every `step`-th chunk from `first`) of a file in place. */
export function scribble(path: string, first: number, step: number, count: number): void {
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
export function ok<T = any>(d: Dir, args: string[], env?: Record<string, string>): T {
  const r = mvm([...args, '--json'], { cwd: d.dir, env });
  expect(r.exitCode, `mvm ${args.join(' ')} failed: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The parsed {"error":{...}} document of a failed --json command. */
export function errorOf(r: RunResult): { code: string; exitCode: number; data: Record<string, any> } {
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
export function fails(d: Dir, args: string[], code: string, exitCode: number, env?: Record<string, string>): RunResult {
  const r = mvm([...args, '--json'], { cwd: d.dir, env });
  expect(r.exitCode, `mvm ${args.join(' ')}: ${r.stdout} ${r.stderr}`).toBe(exitCode);
  expect(errorOf(r).code).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r;
}

export interface LogEntry {
  id: string;
  number: number;
  parents: string[];
  message: string;
}

/** `mvm log --json [rev]`, which must succeed. */
export function logOf(d: Dir, rev?: string): LogEntry[] {
  return ok<LogEntry[]>(d, ['log', ...(rev ? [rev] : [])]);
}

export interface Fsck {
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
export function fsckOf(d: Dir): { exitCode: number; report: Fsck } {
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
export function expectSound(d: Dir, opts: { noTemp?: boolean } = {}): Fsck {
  const { exitCode, report } = fsckOf(d);
  expect(report.problems, JSON.stringify(report.problems)).toEqual([]);
  expect(report.ok).toBe(true);
  expect(exitCode).toBe(0);
  if (opts.noTemp) expect(report.leftoverTemp).toBe(0);
  return report;
}

/** A new repository with chunk size 4 KiB tracking `files`, and its first version committed. */
export function repoWith(files: Record<string, string | Uint8Array>, message = 'v1'): { d: Dir; v1: string } {
  const d = testdir(files);
  ok(d, ['init', '--chunk-size', String(CHUNK)]);
  ok(d, ['add', ...Object.keys(files)]);
  const c = ok<{ created: boolean; id: string; number: number }>(d, ['commit', '-m', message]);
  expect(c).toMatchObject({ created: true, number: 1 });
  return { d, v1: c.id };
}

/** Ids of a plain (non-model) file's fixed-size chunks. */
export function chunkIds(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let s = 0; s < bytes.length; s += CHUNK)
    out.push(blake3Hex(bytes.subarray(s, Math.min(bytes.length, s + CHUNK))));
  return out;
}

/** Flips one byte in the middle of a stored object (loose or packed); returns the original bytes for restoring. */
export function corruptObject(d: Dir, id: string): Buffer {
  return corruptStored(d.path('.mvm/objects'), id);
}

/** Makes a stored object read as `orig` again (written loose when fsck moved it aside meanwhile). */
export function restoreObject(d: Dir, id: string, orig: Buffer): void {
  replaceStored(d.path('.mvm/objects'), id, orig);
}

/** Kills `child` with SIGKILL as soon as `name` shows up in an fs.watch event on `dir`. */
export function killOnEvent(
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
export function nth(prefix: string, n: number): (name: string) => boolean {
  const seen = new Set<string>();
  return (name) => name.startsWith(prefix) && !seen.has(name) && seen.add(name).size === n;
}

/** Polls until `cond` holds, or fails after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A plan for one kill: after a delay (ms from spawn), or at an fs event. */
export type KillPlan =
  | { label: string; delay: number }
  | { label: string; watchDir: string; match: (name: string) => boolean };

/** Starts `mvm args` and SIGKILLs it per `plan`; resolves when the process is gone (reaped). */
export async function runAndKill(
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

export const headFile = (d: Dir) => readFileSync(d.path('.mvm/HEAD'), 'utf8').trim();
