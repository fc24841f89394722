import { MvmError, isMvmError } from '../errors.js';
import { type Repository, withLock, type Progress, gitInfo } from '../repo/repository/index.js';
import { checkoutVersion, type CheckedOut } from '../repo/workspace/index.js';
import { adoptTracked, numberOf, resolveTarget, LOCK_FILE, lockNotPushed, readLock } from '../repo/history/index.js';
import { findRemote, ensureVersion } from '../repo/transfer/index.js';

/** Options of `mvm checkout`. */
export interface CheckoutOptions {
  /** Overwrite and delete local changes to tracked files. */
  force?: boolean;
  /** Check out the version mvm.lock names (fetching it when it is not here) instead of a revision. */
  lock?: boolean;
  /**
   * Keep only these paths in the workspace from now on (a partial workspace; '.' makes it whole again), fetching only
   * what they need.
   */
  only?: string[];
  progress?: Progress;
}

/** What `mvm checkout` did. */
export interface CheckoutResult extends CheckedOut {
  id: string;
  number: number | null;
  /** The branch HEAD now follows, or null when detached. */
  branch: string | null;
  /** What a partial store fetched from its remote for this checkout (chunks and bytes). */
  fetched: { objects: number; bytes: number };
}

/**
 * Makes the workspace hold a version's tracked files bit for bit, writing
 * only files that differ, and moves HEAD: onto the branch when `rev` names
 * one, else detached at the version. Refuses to overwrite local changes
 * unless `force`. With `lock`, the version is the one mvm.lock names.
 */
export async function checkout(
  repo: Repository,
  rev: string | undefined,
  opts: CheckoutOptions = {},
): Promise<CheckoutResult> {
  return withLock(repo, 'checkout', async () => {
    const { value, fetched } = await repo.chunks.tally(() => checkoutTarget(repo, rev, opts));
    return { ...value, fetched: { objects: fetched.objects, bytes: fetched.bytes } };
  });
}

/** Checkout under the lock: the target resolved (from mvm.lock, fetched if need be), then checked out. */
async function checkoutTarget(
  repo: Repository,
  rev: string | undefined,
  opts: CheckoutOptions,
): Promise<Omit<CheckoutResult, 'fetched'>> {
  let target: { id: string; branch: string | null };
  if (opts.lock) {
    const lock = readLock(repo.root);
    if (!lock)
      throw new MvmError('PATH_NOT_FOUND', `there is no ${LOCK_FILE} in ${repo.root}`, {
        path: repo.root,
        hint: 'mvm commit writes it when the workspace is in git',
      });
    try {
      await ensureVersion(repo, lock.version, opts.progress);
    } catch (e) {
      if (!isMvmError(e, 'UNKNOWN_REVISION') || repo.objects.has(lock.version)) throw e;
      const remote = findRemote(repo);
      throw lockNotPushed(lock.version, remote.name, remote.url);
    }
    adoptTracked(repo, lock);
    target = { id: lock.version, branch: lockBranch(repo, lock.version) };
  } else {
    if (!rev)
      throw new MvmError('BAD_ARGUMENT', 'name a revision to check out, or pass --lock', { hint: 'mvm checkout v3' });
    target = resolveTarget(repo, rev);
  }
  // a partial workspace, or one just made whole again, may lack chunks of this version: fetch them
  const wasPartial = !!repo.sparse();
  if (opts.only?.length) repo.setSparse(opts.only.map((p) => repo.relPath(p)));
  if (wasPartial || repo.sparse()) await ensureVersion(repo, target.id, opts.progress);
  const done = await checkoutVersion(repo, target.id, {
    branch: target.branch,
    force: opts.force,
    progress: opts.progress,
  });
  return { id: target.id, number: numberOf(repo, target.id), branch: target.branch, ...done };
}

/**
 * The branch a checkout of mvm.lock's version stays on (or moves to): the current one when its tip is that version,
 * else the one named like git's current branch, else the only branch whose tip it is; null (detached) otherwise.
 */
function lockBranch(repo: Repository, id: string): string | null {
  const tip = (b: string | null | undefined) => !!b && repo.refs.read(`refs/heads/${b}`) === id;
  const current = repo.currentBranch();
  if (tip(current)) return current;
  const git = gitInfo(repo.root)?.branch;
  if (tip(git)) return git!;
  const at = repo.refs.list('refs/heads/').filter((r) => r.value === id);
  return at.length === 1 ? at[0]!.name : null;
}
