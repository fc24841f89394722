import type { FileEntry } from './objects.js';

/** What the workspace holds at a path: its content id and mode. */
export interface WorkState {
  id: string;
  mode: number;
}

/** A path the checkout would change but must not, because the workspace has changes there. */
export interface CheckoutConflict {
  path: string;
  reason: 'modified' | 'untracked';
}

/** The changes a checkout makes to the workspace. */
export interface CheckoutPlan {
  write: { path: string; entry: FileEntry }[];
  chmod: { path: string; mode: number }[];
  remove: string[];
  conflicts: CheckoutConflict[];
  unchanged: number;
}

/**
 * Plans a checkout from `head` to `target` given the workspace state; pure.
 * A path is written only when the workspace differs from the target; a path
 * that is the same in both versions keeps its local changes; local changes
 * (against head) that the checkout would overwrite or delete are conflicts
 * unless `force`. With `force`, paths the same in both versions are restored too.
 */
export function planCheckout(
  head: Record<string, FileEntry>,
  target: Record<string, FileEntry>,
  work: Map<string, WorkState>,
  force: boolean,
): CheckoutPlan {
  const plan: CheckoutPlan = { write: [], chmod: [], remove: [], conflicts: [], unchanged: 0 };
  // own entries only: a path named `constructor` or `__proto__` is a file, never Object.prototype's member
  const own = (m: Record<string, FileEntry>, p: string) => (Object.hasOwn(m, p) ? m[p] : undefined);
  const paths = new Set([
    ...Object.keys(head),
    ...Object.keys(target),
    ...[...work.keys()].filter((p) => Object.hasOwn(head, p) || Object.hasOwn(target, p)),
  ]);
  for (const path of [...paths].sort()) {
    const w = work.get(path);
    const h = own(head, path);
    const t = own(target, path);
    // local changes: the workspace differs from what head recorded (a deleted file loses nothing)
    const dirty = w !== undefined && (!h || h.file !== w.id || h.mode !== w.mode);
    const conflict = (): boolean => {
      if (!dirty || force) return false;
      plan.conflicts.push({ path, reason: h ? 'modified' : 'untracked' });
      return true;
    };
    if (t) {
      // the same in both versions: a present workspace file is left alone, local changes included (as git
      // does); a deleted one is restored, which loses nothing
      if (!force && w && h && h.file === t.file && h.mode === t.mode) {
        plan.unchanged++;
        continue;
      }
      if (w && w.id === t.file) {
        if (w.mode === t.mode) plan.unchanged++;
        else plan.chmod.push({ path, mode: t.mode });
        continue;
      }
      if (!conflict()) plan.write.push({ path, entry: t });
    } else if (w && !conflict()) {
      plan.remove.push(path);
    }
  }
  return plan;
}
