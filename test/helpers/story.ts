import { afterAll, afterEach, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, statSync } from 'node:fs';
import { mvm, randomBytes, testdir, type RunResult } from './cli.js';
import { ok, json, write } from './assertions.js';

export const CHUNK = 4096;
export const HEX64 = /^[0-9a-f]{64}$/;

export const cleanups: (() => void)[] = [];
/** Runs and forgets the cleanups of the folders made by tmp() (each test file calls it after each test). */
export function runCleanups(): void {
  while (cleanups.length) cleanups.pop()!();
}

/** A temp folder removed after the test. */
export function tmp(): ReturnType<typeof testdir> {
  const t = testdir();
  cleanups.push(t.cleanup);
  return t;
}

export function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** A copy of `buf` with `patch` written at `offset`. */
export function patched(buf: Buffer, offset: number, patch: Buffer): Buffer {
  const out = Buffer.from(buf);
  patch.copy(out, offset);
  return out;
}

// ---------------------------------------------------------------- the story fixture

export const MODEL_V1 = randomBytes(16 * CHUNK, 1); // 16 chunks of 4096
// v2 touches exactly two chunks of the model: chunk 3 (100 bytes inside it) and the last byte of chunk 10
export const MODEL_V2 = patched(
  patched(MODEL_V1, 3 * CHUNK + 50, randomBytes(100, 77)),
  10 * CHUNK + CHUNK - 1,
  Buffer.from([MODEL_V1[10 * CHUNK + CHUNK - 1]! ^ 0xff]),
);
export const TOKENIZER = Buffer.from(JSON.stringify({ vocab: { a: 1, b: 2, c: 3 }, merges: ['a b', 'b c'] }, null, 2));
export const CONVERT = Buffer.from('#!/bin/sh\necho converting the checkpoint\n');
export const HEAD_BIN = randomBytes(5000, 9); // 2 chunks; added in v2
export const AUTHOR = 'Ada Lovelace <ada@example.com>';

export interface Story {
  dir: string;
  path: (p: string) => string;
  run: (args: string[]) => RunResult;
  v1: string;
  v2: string;
  gitCommit: string;
}

/**
 * A git repository with an mvm repository holding:
 *   v1 "baseline": models/model.bin (0644), models/tokenizer.json (0644), models/convert.sh (0755)
 *   v2 "lr 3e-4":  model.bin with 2 chunks changed, convert.sh chmod 0700, models/extra/head.bin added
 * The author comes from git's user.name / user.email (MVM_AUTHOR is cleared).
 */
export function makeStory(opts: { stopAfterV1?: boolean; t?: ReturnType<typeof testdir> } = {}): Story {
  const t = opts.t ?? tmp();
  const run = (args: string[]) => mvm(args, { cwd: t.dir, env: { MVM_AUTHOR: '' } });
  git(t.dir, ['init', '-q', '-b', 'gitmain']);
  git(t.dir, ['config', 'user.name', 'Ada Lovelace']);
  git(t.dir, ['config', 'user.email', 'ada@example.com']);
  write(t.path('train.py'), 'print("train")\n');
  git(t.dir, ['add', 'train.py']);
  git(t.dir, ['commit', '-q', '-m', 'training code']);

  write(t.path('models/model.bin'), MODEL_V1, 0o644);
  write(t.path('models/tokenizer.json'), TOKENIZER, 0o644);
  write(t.path('models/convert.sh'), CONVERT, 0o755);
  ok(run(['init', '--chunk-size', String(CHUNK)]));
  ok(run(['add', 'models/']));
  git(t.dir, ['add', '.gitignore']);
  git(t.dir, ['commit', '-q', '-m', 'ignore models']);
  const gitCommit = git(t.dir, ['rev-parse', 'HEAD']);
  const c1 = json(
    run(['commit', '-m', 'baseline', '--meta', 'dataset=imagenet-2024', '--metric', 'accuracy=0.91', '--json']),
  );
  const story: Story = { dir: t.dir, path: t.path, run, v1: c1.id, v2: '', gitCommit };
  if (opts.stopAfterV1) return story;
  write(t.path('models/model.bin'), MODEL_V2);
  chmodSync(t.path('models/convert.sh'), 0o700);
  write(t.path('models/extra/head.bin'), HEAD_BIN, 0o644);
  story.v2 = json(run(['commit', '-m', 'lr 3e-4', '--metric', 'accuracy=0.93', '--json'])).id;
  return story;
}

// The two-version story is made once and copied for each test that starts from it
// (spawning the CLI is the slow part); copies get new inodes, so the stat cache is cold.
let template: ReturnType<typeof testdir>;
let templateStory: Story;
/** Makes the template story (beforeAll). */
export function makeStoryTemplate(): void {
  template = testdir();
  templateStory = makeStory({ t: template });
}
/** Removes the template story (afterAll). */
export function dropStoryTemplate(): void {
  template?.cleanup();
}

/** Hooks for the tests of a file or describe block: the template story made before them and removed after, and
 * every tmp() folder removed after each test. */
export function useStory(): void {
  afterEach(runCleanups);
  beforeAll(makeStoryTemplate);
  afterAll(dropStoryTemplate);
}

/** A fresh copy of the two-version story. */
export function story(): Story {
  const t = tmp();
  cpSync(template.dir, t.dir, { recursive: true });
  return {
    ...templateStory,
    dir: t.dir,
    path: t.path,
    run: (args) => mvm(args, { cwd: t.dir, env: { MVM_AUTHOR: '' } }),
  };
}
