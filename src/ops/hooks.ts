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
 * mvm's is kept as it is; the result says which line to add to it.
 */
export function installHooks(repo: Repository): HookResult[] {
  const dir = join(gitDir(repo.root), 'hooks');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, dir, 'creating');
  }
  return Object.entries(HOOKS).map(([hook, command]) => {
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
}
