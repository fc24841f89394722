import { envAuthor } from '../../settings.js';
import { readUserConfig } from './userConfig.js';
import { execFile, execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import type { GitInfo } from '../../core/objects.js';

function git(cwd: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

/** The commit, branch and dirty flag of the git repository enclosing `root`, or undefined outside git. */
export function gitInfo(root: string): GitInfo | undefined {
  const commit = git(root, ['rev-parse', '--verify', '-q', 'HEAD']);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const status = git(root, ['status', '--porcelain', '--untracked-files=no']);
  const branch = git(root, ['symbolic-ref', '-q', '--short', 'HEAD']);
  return { commit, dirty: !!status, ...(branch ? { branch } : {}) };
}

/** git(), run without blocking: resolves to null where git() returns null. */
function gitAsync(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, encoding: 'utf8', timeout: 10_000 }, (err, stdout) =>
      resolve(err ? null : stdout.trim()),
    );
    child.stdin?.end();
  });
}

/**
 * gitInfo without blocking the thread, for a caller with other work to do
 * meanwhile (commit starts it as it begins reading the workspace).
 */
export async function gitInfoAsync(root: string): Promise<GitInfo | undefined> {
  const commit = await gitAsync(root, ['rev-parse', '--verify', '-q', 'HEAD']);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const [status, branch] = await Promise.all([
    gitAsync(root, ['status', '--porcelain', '--untracked-files=no']),
    gitAsync(root, ['symbolic-ref', '-q', '--short', 'HEAD']),
  ]);
  return { commit, dirty: !!status, ...(branch ? { branch } : {}) };
}

/** Who is making a version: an explicit author, else git's user.name <user.email>, else the OS user. */
export function defaultAuthor(root: string, explicit?: string): string {
  return givenAuthor(explicit) ?? authorFrom(git(root, ['config', 'user.name']), git(root, ['config', 'user.email']));
}

/**
 * defaultAuthor without blocking the thread: git's two settings are asked at once, while the caller goes on
 * (commit reads the workspace meanwhile, instead of waiting for two git processes one after the other first).
 */
export function defaultAuthorAsync(root: string, explicit?: string): Promise<string> {
  // what needs no git is decided now: a user config that cannot be read fails here, before any work, as before
  const given = givenAuthor(explicit);
  if (given) return Promise.resolve(given);
  // gitAsync never rejects (null where git fails), nor does authorFrom throw: neither does this promise
  return Promise.all([gitAsync(root, ['config', 'user.name']), gitAsync(root, ['config', 'user.email'])]).then(
    ([name, email]) => authorFrom(name, email),
  );
}

/** The author set without git: `--author`, MVM_AUTHOR or the user config; null when none is. */
function givenAuthor(explicit?: string): string | null {
  if (explicit?.trim()) return explicit.trim();
  return envAuthor() || readUserConfig().author || null;
}

/** git's user.name <user.email> (either may be null), else the OS user. */
function authorFrom(name: string | null, email: string | null): string {
  if (name) return email ? `${name} <${email}>` : name;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Every version id that `mvm.lock` names in any commit of the git repository
 * around `root` (all branches and tags), so gc keeps what `git checkout` of
 * an old commit plus `mvm checkout --lock` would bring back. Empty outside git.
 */
export function lockedVersionsInGit(root: string): string[] {
  const out = git(root, ['log', '--all', '--pretty=format:', '-p', '--', 'mvm.lock']);
  if (!out) return [];
  return [...new Set([...out.matchAll(/^[+ -]\s*"version":\s*"([0-9a-f]{64})"/gm)].map((m) => m[1]!))];
}
