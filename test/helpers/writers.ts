/**
 * Fixtures written by real libraries (torch.save, onnx.save, numpy) or by
 * independent writers from a format's spec (GGUF, safetensors), through the
 * Python scripts in test/helpers/writers/; and what `mvm diff --json` says of
 * their tensors.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { H5_PYTHON } from './h5.js';

/** Debian's python3 with python3-torch (scripts/ensure-tools.sh installs it), or MVM_TORCH_PYTHON. */
export const TORCH_PYTHON = process.env.MVM_TORCH_PYTHON ?? '/usr/bin/python3';
/** Debian's python3 with python3-onnx (scripts/ensure-tools.sh installs it), or MVM_ONNX_PYTHON. */
export const ONNX_PYTHON = process.env.MVM_ONNX_PYTHON ?? '/usr/bin/python3';
/** A Python with numpy: the one with h5py (python3-h5py brings python3-numpy). */
export const NUMPY_PYTHON = H5_PYTHON;

/** Runs test/helpers/writers/SCRIPT with `python` and returns what it printed, parsed as JSON. */
export function runWriter<T = any>(python: string, script: string, args: string[]): T {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'writers', script);
  // one thread: torch's and numpy's thread pools only fight the mvm processes for the machine's cores
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  return JSON.parse(execFileSync(python, [path, ...args], { encoding: 'utf8', timeout: 60_000, env })) as T;
}

/**
 * Commits the fixtures a writer left in `<dir>/fx/v1` as `models/` of a new repository in `dir` (v1), then
 * `fx/v2` in their place (v2, with `message`); `run` runs mvm in `dir` and must succeed.
 */
export function commitFixtureVersions(
  path: (p: string) => string,
  run: (args: string[]) => { exitCode: number | null; stderr: string },
  message: string,
): void {
  const must = (args: string[]) => {
    const r = run(args);
    if (r.exitCode !== 0) throw new Error(`mvm ${args.join(' ')} failed: ${r.stderr}`);
  };
  cpSync(path('fx/v1'), path('models'), { recursive: true });
  must(['init']);
  must(['add', 'models']);
  must(['commit', '-m', 'v1']);
  rmSync(path('models'), { recursive: true });
  cpSync(path('fx/v2'), path('models'), { recursive: true });
  must(['commit', '-m', message]);
}

/** One tensor as `diff --json` reports it: status, and its dtype and shape in the newer version. */
export interface Listed {
  status: string;
  dtype: string | null;
  shape: number[] | null;
}

/** The diff of one file from `mvm diff --json`: its format and its changed tensors by name (null: no layout). */
export function tensorChanges(diff: any, path: string): { format: string; tensors: Record<string, Listed> } | null {
  const f = diff.files.find((x: any) => x.path === path);
  if (!f) throw new Error(`${path} is not in the diff`);
  if (!f.tensors) return null;
  const tensors: Record<string, Listed> = {};
  for (const c of f.tensors.changes) tensors[c.name] = { status: c.status, dtype: c.dtype[1], shape: c.shape[1] };
  return { format: f.tensors.format, tensors };
}
