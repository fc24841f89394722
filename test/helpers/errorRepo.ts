/**
 * Repositories for the error suites (robustness/errors-*): the documented exit code of each error code, a
 * checker of the {"error":{...}} document, and template repositories (made once by makeTemplates, copied by repo())
 * tracking models/ with chunk size 4096.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mvm, randomBytes, testdir, type RunOptions, type RunResult } from './cli.js';

export const CHUNK = 4096;
export const IS_ROOT = process.getuid?.() === 0;

/** The documented exit code of every error code used here (docs: src/errors.ts ERROR_CODES). */
export const EXIT: Record<string, number> = {
  NOT_A_REPOSITORY: 3,
  ALREADY_A_REPOSITORY: 3,
  BAD_ARGUMENT: 2,
  BAD_VALUE: 2,
  BAD_EXPRESSION: 2,
  BAD_REF_NAME: 2,
  PATH_OUTSIDE_WORKSPACE: 2,
  PATH_INSIDE_MVM: 2,
  PATH_NOT_FOUND: 4,
  NOT_TRACKED: 4,
  UNKNOWN_REVISION: 4,
  AMBIGUOUS_REVISION: 4,
  REF_EXISTS: 1,
  NOTHING_DEPLOYED: 4,
  NO_PREVIOUS_DEPLOYMENT: 4,
  NO_VERSIONS: 4,
  UNCOMMITTED_CHANGES: 5,
  LOCKED: 6,
  OBJECT_CORRUPT: 7,
  REF_CORRUPT: 7,
  UNREADABLE: 8,
  DISK_FULL: 8,
};

export const cleanups: (() => void)[] = [];
/** Runs and forgets the cleanups of the folders made by tmp() (each test file calls it after each test). */
export function runCleanups(): void {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      /* keep cleaning */
    }
  }
}

export function tmp(): ReturnType<typeof testdir> {
  const t = testdir();
  cleanups.push(t.cleanup);
  return t;
}

export function ok(r: RunResult): RunResult {
  expect(r.exitCode, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
  return r;
}

export function json<T = any>(r: RunResult): T {
  ok(r);
  return JSON.parse(r.stdout) as T;
}

export interface ErrorDoc {
  code: string;
  exitCode: number;
  message: string;
  data: Record<string, any>;
}

/** Asserts an mvm error from a `--json` run: exit code, error document on stdout, one `mvm: ` line on stderr. */
export function expectError(r: RunResult, code: string): ErrorDoc {
  const exitCode = EXIT[code]!;
  expect(r.exitCode, `expected ${code}; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(exitCode);
  let doc: { error: ErrorDoc };
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not the JSON error document: ${r.stdout}`);
  }
  expect(doc.error.code).toBe(code);
  expect(doc.error.exitCode).toBe(exitCode);
  expect(typeof doc.error.message).toBe('string');
  expect(r.stderr).toMatch(/^mvm: [^\n]+\n$/);
  return doc.error;
}

export function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

export type Repo = {
  dir: string;
  path: (p: string) => string;
  run: (args: string[], o?: Partial<RunOptions>) => RunResult;
};

export function repoAt(t: ReturnType<typeof testdir>): Repo {
  return { dir: t.dir, path: t.path, run: (args, o = {}) => mvm(args, { cwd: t.dir, ...o }) };
}

// Two repositories made once and copied for each test (spawning the CLI is the slow part):
// chunk size 4096, tracking models/ (one 20 KB file), without and with a first version.
let emptyTemplate: ReturnType<typeof testdir>;
let committedTemplate: ReturnType<typeof testdir>;
export function makeTemplates(): void {
  emptyTemplate = testdir();
  const r = repoAt(emptyTemplate);
  write(r.path('models/w.bin'), randomBytes(20_000, 5));
  ok(r.run(['init', '--chunk-size', String(CHUNK)]));
  ok(r.run(['add', 'models']));
  committedTemplate = testdir();
  cpSync(emptyTemplate.dir, committedTemplate.dir, { recursive: true });
  ok(repoAt(committedTemplate).run(['commit', '-m', 'first']));
}
/** Removes the two template repositories. */
export function dropTemplates(): void {
  emptyTemplate?.cleanup();
  committedTemplate?.cleanup();
}

/** Makes the template repositories for this test file, and removes them and every tmp() folder afterwards. */
export function useErrorRepos(): void {
  afterEach(runCleanups);
  beforeAll(makeTemplates);
  afterAll(dropTemplates);
}

/** A fresh copy of a repository tracking models/ (one 20 KB file), with a first version unless `commit: false`. */
export function repo(opts: { commit?: boolean } = {}): Repo {
  const t = tmp();
  cpSync((opts.commit === false ? emptyTemplate : committedTemplate).dir, t.dir, { recursive: true });
  return repoAt(t);
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

/** What a failed command must not change: objects, numbers, refs, HEAD and the log. */
export function snapshot(r: Repo): unknown {
  const mvmDir = r.path('.mvm');
  const read = (p: string) => (existsSync(join(mvmDir, p)) ? readFileSync(join(mvmDir, p), 'utf8') : null);
  return {
    objects: listFiles(join(mvmDir, 'objects')),
    numbers: read('numbers'),
    head: read('HEAD'),
    main: read('refs/heads/main'),
    log: JSON.parse(ok(r.run(['log', '--json'])).stdout).map((e: any) => e.id),
  };
}
