import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real CLI entry point (run `npm run build` first; `npm test` does). */
export const MVM_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/mvm.js');
/** The launcher npm installs as `mvm`: starts Node from the snapshot `npm run build` made, else runs MVM_BIN. */
export const MVM_LAUNCHER = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/mvm');

/**
 * The program and arguments of one CLI run: the launcher, as users run mvm, or `node bin/mvm.js` with
 * MVM_TEST_BIN=js (the whole suite on the path without the snapshot).
 */
export function mvmCommand(args: string[]): [string, string[]] {
  return process.env.MVM_TEST_BIN === 'js' ? [process.execPath, [MVM_BIN, ...args]] : [MVM_LAUNCHER, args];
}

/** What a CLI run returned. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options for one CLI run. */
export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  input?: string;
  uid?: number;
  gid?: number;
}

/** Environment for CLI runs: fixed author, no TTY progress, short lock waits. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // MVM_CONFIG: no user config from the machine running the tests
  return {
    ...process.env,
    MVM_AUTHOR: 'Test User <test@example.com>',
    MVM_LOCK_TIMEOUT: '2000',
    GIT_CONFIG_NOSYSTEM: '1',
    MVM_CONFIG: '/nonexistent/mvm-test-config.json',
    ...extra,
  };
}

/** Runs `mvm args...` synchronously and returns exit code, stdout and stderr. */
export function mvm(args: string[], opts: RunOptions): RunResult {
  const [cmd, argv] = mvmCommand(args);
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd,
    env: cliEnv(opts.env),
    input: opts.input,
    encoding: 'utf8',
    uid: opts.uid,
    gid: opts.gid,
    timeout: 120_000,
  });
  return { exitCode: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Starts `mvm args...` in the background; resolves with its result when it ends. */
export function mvmAsync(
  args: string[],
  opts: RunOptions & SpawnOptions,
): { child: ReturnType<typeof spawn>; done: Promise<RunResult> } {
  const [cmd, argv] = mvmCommand(args);
  const child = spawn(cmd, argv, {
    cwd: opts.cwd,
    env: cliEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<RunResult>((res) =>
    child.on('close', (code, signal) => res({ exitCode: code ?? (signal ? -1 : 0), stdout, stderr })),
  );
  return { child, done };
}

/** A file tree to create: paths to contents (string or bytes). */
export type Tree = Record<string, string | Uint8Array>;

/** Creates a temporary folder holding `tree`; `cleanup()` removes it. */
export function testdir(tree: Tree = {}): { dir: string; path: (p: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-test-'));
  chmodSync(dir, 0o755);
  for (const [p, content] of Object.entries(tree)) {
    const abs = join(dir, p);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return { dir, path: (p) => join(dir, p), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary folder holding `tree` in which `mvm init` made a repository, and a runner of mvm there. */
export function initDir(tree: Tree = {}): { t: ReturnType<typeof testdir>; run: (args: string[]) => RunResult } {
  const t = testdir(tree);
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  const init = run(['init']);
  if (init.exitCode !== 0 || init.stderr !== '') {
    t.cleanup();
    throw new Error(`mvm init failed (exit ${init.exitCode}): ${init.stderr}`);
  }
  return { t, run };
}

/** Deterministic pseudo-random bytes (xorshift32), for model-like fixtures. */
export function randomBytes(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
