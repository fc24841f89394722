/** git for the tests that run mvm beside it (stories/git, commands/hooks): a fixed author, no user or system config. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, type testdir } from './cli.js';
import { ok, write } from './assertions.js';

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...GIT_ENV, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * t/proj: a git repository whose mvm repository tracks `track` (models/w.bin holding `bytes`), commits v1 and pushes
 * it to the shared folder remote t/remote; .gitignore, mvm.lock and mvm-remotes.json are committed to git.
 */
export function pushedProject(t: ReturnType<typeof testdir>, bytes: Buffer, track: string) {
  const proj = t.path('proj');
  mkdirSync(proj);
  const run = (cwd: string, args: string[]) => mvm(args, { cwd, env: GIT_ENV });
  git(proj, ['init', '-q', '-b', 'main']);
  write(join(proj, 'models/w.bin'), bytes);
  ok(run(proj, ['init']));
  ok(run(proj, ['add', track]));
  ok(run(proj, ['commit', '-m', 'v1']));
  ok(run(proj, ['remote', 'add', 'origin', t.path('remote'), '--shared']));
  ok(run(proj, ['push']));
  git(proj, ['add', '.gitignore', 'mvm.lock', 'mvm-remotes.json']);
  git(proj, ['commit', '-q', '-m', 'model v1']);
  return { proj, run };
}
