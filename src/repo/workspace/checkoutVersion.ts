import { MvmError } from '../../errors.js';
import { planCheckout, type WorkState } from '../../core/checkoutPlan.js';
import { assertSafeVersion } from '../../core/versionCheck.js';
import { ensureVersionFiles, type Repository, type Progress } from '../repository/index.js';
import { identifyWorkspace, isCovered, visibleFiles } from './workspace.js';
import { recordStats } from './statCache.js';
import { applyCheckout } from './applyCheckout.js';
import { writeLock } from '../history/index.js';
import type { StagedFiles } from './staging.js';

/** What checking out a version did to the workspace. */
export interface CheckedOut {
  written: string[];
  removed: string[];
  chmod: string[];
  unchanged: number;
  bytesWritten: number;
  /** Of bytesWritten: taken from the files replaced by an in-kernel copy (reflink or copy_file_range), unread. */
  bytesCopied: number;
  /** Of bytesWritten: taken from such a copy but read back and hashed (the old file was not known unchanged). */
  bytesChecked: number;
  /** Of bytesWritten: decoded from the store and written. */
  bytesDecoded: number;
}

/**
 * Makes the workspace hold version `targetId` bit for bit, writing only files
 * that differ, then moves HEAD: onto `branch` when given, else detached.
 * Refuses an unsafe manifest (UNSAFE_VERSION) and local changes it would
 * overwrite (unless `force`) before touching anything. Files `staged` while
 * they downloaded are completed and used. Call with the lock held.
 */
export async function checkoutVersion(
  repo: Repository,
  targetId: string,
  opts: { branch: string | null; force?: boolean; progress?: Progress; staged?: StagedFiles | null },
): Promise<CheckedOut> {
  const target = repo.version(targetId);
  assertSafeVersion(target, targetId);
  const headId = repo.headId();
  // a partial store fetches the file objects it lacks first (HEAD's are here when it checked HEAD out)
  await ensureVersionFiles(repo, [targetId, ...(headId && repo.objects.has(headId) ? [headId] : [])], opts.progress);
  const head = headId ? repo.version(headId) : null;
  // make sure every target path is tracked, then see what the workspace holds
  const sparse = repo.sparse();
  const targetFiles = visibleFiles(target.files, sparse);
  const specs = repo.tracked();
  const missing = Object.keys(targetFiles).filter((p) => !isCovered(p, specs));
  // a tracked path through a symlink: refused, or with force seen as absent (applyCheckout replaces the link)
  const ws = await identifyWorkspace(repo, {
    specs: [...specs, ...missing],
    store: false,
    links: opts.force ? 'skip' : 'refuse',
  });
  const work = new Map<string, WorkState>([...ws.files].map(([p, f]) => [p, { id: f.id, mode: f.mode }]));
  const plan = planCheckout(visibleFiles(head?.files ?? {}, sparse), targetFiles, work, !!opts.force);
  if (plan.conflicts.length) {
    const list = plan.conflicts.map((c) => c.path);
    throw new MvmError(
      'UNCOMMITTED_CHANGES',
      `checkout would overwrite local changes in ${list.length} file(s): ${list.slice(0, 5).join(', ')}` +
        `${list.length > 5 ? ', ...' : ''}`,
      {
        paths: list,
        hint: "commit them first ('mvm commit'), or pass --force to discard them",
      },
    );
  }
  const applied = await applyCheckout(
    repo,
    plan,
    target.files,
    ws.files,
    opts.progress,
    opts.staged ?? undefined,
    !!opts.force,
  );
  try {
    if (missing.length) repo.setTracked([...specs, ...missing]);
    recordStats(repo, new Map([...ws.updates, ...applied.updates]));
    // HEAD moves last; if it cannot, the workspace goes back to what HEAD names
    if (opts.branch) repo.refs.writeHead({ kind: 'branch', ref: `refs/heads/${opts.branch}` });
    else repo.refs.writeHead({ kind: 'detached', id: targetId });
  } catch (e) {
    throw applied.rollBack(e);
  }
  applied.commit();
  writeLock(repo, targetId, target);
  return {
    written: plan.write.map((w) => w.path),
    removed: plan.remove,
    chmod: plan.chmod.map((c) => c.path),
    unchanged: plan.unchanged,
    bytesWritten: applied.bytesWritten,
    bytesCopied: applied.tally.copied,
    bytesChecked: applied.tally.checked,
    bytesDecoded: applied.tally.decoded,
  };
}
