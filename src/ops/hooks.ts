import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { Repository } from '../repo/repository/index.js';

/** The mark that tells mvm's own hooks from anyone else's. */
const MARK = '# installed by mvm hooks install';

/** The git hooks mvm installs and what each runs. */
const HOOKS: Record<string, string> = {
  'post-checkout': 'mvm checkout --lock --quiet',
  'post-merge': 'mvm checkout --lock --quiet',
  'pre-push': 'mvm push --quiet',
};

/** What `mvm hooks install` did for each hook. */
export interface HookResult {
  hook: string;
  path: string;
  outcome: 'installed' | 'updated' | 'kept';
  /** For a hook that exists and is not mvm's: the line to add to it by hand. */
  line?: string;
}

/** A word for /bin/sh that is exactly `s`: single-quoted, each `'` written as `'\''`; nothing in it expands. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The git directory that holds the workspace's hooks (a `.git` folder, or the gitdir a `.git` file points to). */
function gitDir(root: string): string {
  for (let d = root; ; d = dirname(d)) {
    const p = join(d, '.git');
    if (existsSync(p)) {
      if (statSync(p).isDirectory()) return p;
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(p, 'utf8'));
      if (m) return m[1]!.trim().startsWith('/') ? m[1]!.trim() : join(d, m[1]!.trim());
    }
    if (dirname(d) === d)
      throw new MvmError('NOT_A_REPOSITORY', `${root} is not inside a git repository`, {
        path: root,
        hint: 'git init first; the hooks are git hooks',
      });
  }
}

/**
 * Installs git hooks: post-checkout and post-merge restore the model mvm.lock
 * names, pre-push pushes the versions. A hook that already exists and is not
 * mvm's is kept as it is; the result says which line to add to it. Last, git's
 * merge driver for mvm.lock (its own entry in the result).
 */
export function installHooks(repo: Repository): HookResult[] {
  const dir = join(gitDir(repo.root), 'hooks');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, dir, 'creating');
  }
  const hooks = Object.entries(HOOKS).map(([hook, command]) => {
    const path = join(dir, hook);
    const existing = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (existing !== null && !existing.includes(MARK))
      return { hook, path, outcome: 'kept' as const, line: `${command} || true` };
    // cd to the workspace: git runs hooks at the top of the work tree, which may be above it
    // single quotes: a folder named `ml$(cmd)` must not run cmd (double quotes expand $ and `)
    writeFileAtomic(path, `#!/bin/sh\n${MARK}\ncd ${shellQuote(repo.root)} && ${command} || true\n`, {
      tmpDir: dir,
      mode: 0o755,
    });
    chmodSync(path, 0o755);
    return { hook, path, outcome: existing === null ? ('installed' as const) : ('updated' as const) };
  });
  const attributes = installMergeDriver(repo);
  return [
    ...hooks,
    { hook: 'merge driver', path: attributes.path, outcome: attributes.added ? 'installed' : 'updated' },
  ];
}

/** The line of `.gitattributes` that gives mvm.lock mvm's merge driver. */
const ATTRIBUTE = 'mvm.lock merge=mvm-lock';

/**
 * Registers git's merge driver for mvm.lock: `merge.mvm-lock.driver` in the repository's git config, and a line in
 * `.gitattributes` at the workspace root (commit it, so every clone's merges use it once its hooks are installed).
 * Says where the attributes file is and whether the line was added.
 */
function installMergeDriver(repo: Repository): { path: string; added: boolean } {
  const set = (key: string, value: string) => {
    try {
      execFileSync('git', ['config', key, value], { cwd: repo.root, stdio: 'ignore' });
    } catch (e) {
      throw new MvmError('COMMAND_FAILED', `git config ${key} failed: ${(e as Error).message}`, { key });
    }
  };
  set('merge.mvm-lock.name', 'mvm.lock: the model of one side, never a line-by-line mix');
  set('merge.mvm-lock.driver', 'mvm merge-lock %O %A %B');
  const path = join(repo.root, '.gitattributes');
  const had = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (had.split('\n').some((l) => l.trim() === ATTRIBUTE)) return { path, added: false };
  writeFileAtomic(path, `${had}${had && !had.endsWith('\n') ? '\n' : ''}${ATTRIBUTE}\n`, { tmpDir: repo.root });
  return { path, added: true };
}
