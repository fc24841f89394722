import { MvmError } from '../errors.js';
import { planCheckout, type WorkState } from '../core/checkoutPlan.js';
import type { Repository } from '../repo/repository.js';
import { withLock, type Progress } from '../repo/session.js';
import { identifyWorkspace, isCovered, recordStats } from '../repo/workspace.js';
import { applyCheckout } from '../repo/applyCheckout.js';
import { numberOf, resolveTarget } from '../repo/revisions.js';

/** Options of `mvm checkout`. */
export interface CheckoutOptions {
  /** Overwrite and delete local changes to tracked files. */
  force?: boolean;
  progress?: Progress;
}

/** What `mvm checkout` did. */
export interface CheckoutResult {
  id: string;
  number: number | null;
  /** The branch HEAD now follows, or null when detached. */
  branch: string | null;
  written: string[];
  removed: string[];
  chmod: string[];
  unchanged: number;
  bytesWritten: number;
}

/**
 * Makes the workspace hold a version's tracked files bit for bit, writing
 * only files that differ, and moves HEAD: onto the branch when `rev` names
 * one, else detached at the version. Refuses to overwrite local changes
 * unless `force`.
 */
export async function checkout(repo: Repository, rev: string, opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  return withLock(repo, 'checkout', async () => {
    const { id: targetId, branch } = resolveTarget(repo, rev);
    const target = repo.version(targetId);
    const headId = repo.headId();
    const head = headId ? repo.version(headId) : null;
    // make sure every target path is tracked, then see what the workspace holds
    const specs = repo.tracked();
    const missing = Object.keys(target.files).filter((p) => !isCovered(p, specs));
    const ws = await identifyWorkspace(repo, { specs: [...specs, ...missing], store: false });
    const work = new Map<string, WorkState>([...ws.files].map(([p, f]) => [p, { id: f.id, mode: f.mode }]));
    const plan = planCheckout(head?.files ?? {}, target.files, work, !!opts.force);
    if (plan.conflicts.length) {
      const list = plan.conflicts.map((c) => c.path);
      throw new MvmError('UNCOMMITTED_CHANGES', `checkout would overwrite local changes in ${list.length} file(s): ${list.slice(0, 5).join(', ')}${list.length > 5 ? ', ...' : ''}`, {
        paths: list,
        hint: "commit them first ('mvm commit'), or pass --force to discard them",
      });
    }
    const applied = await applyCheckout(repo, plan, target.files, ws.files, opts.progress);
    if (missing.length) repo.setTracked([...specs, ...missing]);
    await recordStats(repo, new Map([...ws.updates, ...applied.updates]));
    // HEAD moves last
    if (branch) repo.refs.writeHead({ kind: 'branch', ref: `refs/heads/${branch}` });
    else repo.refs.writeHead({ kind: 'detached', id: targetId });
    return {
      id: targetId,
      number: numberOf(repo, targetId),
      branch,
      written: plan.write.map((w) => w.path),
      removed: plan.remove,
      chmod: plan.chmod.map((c) => c.path),
      unchanged: plan.unchanged,
      bytesWritten: applied.bytesWritten,
    };
  });
}
