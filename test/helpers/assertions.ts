import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';
import type { RunResult } from './cli.js';

/** The `error` object that `--json` prints on stdout for a failed command. */
export interface JsonError {
  code: string;
  exitCode: number;
  message: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: Record<string, any>;
}

/** Asserts a successful run (exit 0, nothing on stderr) and returns it. */
export function ok(r: RunResult): RunResult {
  expect(r.exitCode, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
  expect(r.stderr).toBe('');
  return r;
}

/** Asserts a successful `--json` run and returns its parsed output. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function json<T = any>(r: RunResult): T {
  ok(r);
  return JSON.parse(r.stdout) as T;
}

/** Asserts an mvm error: its exit code, `{"error":{code,exitCode}}` on stdout, and one `mvm: ` line on stderr. */
export function expectError(r: RunResult, code: string, exitCode: number): JsonError {
  expect(r.exitCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(exitCode);
  const err = JSON.parse(r.stdout).error as JsonError;
  expect(err.code).toBe(code);
  expect(err.exitCode).toBe(exitCode);
  expect(r.stderr).toMatch(/^mvm: [^\n]+\n$/);
  return err;
}

/** Writes a file, creating its folders; `mode` sets its permission bits. */
export function write(path: string, data: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  if (mode !== undefined) chmodSync(path, mode);
}
