import { chmodSync, mkdirSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import type { CheckoutPlan } from '../core/checkoutPlan.js';
import type { FileEntry } from '../core/objects.js';
import type { Repository } from './repository.js';
import { withPool, type Progress } from './session.js';
import { assembleFile, installFile } from './fileio.js';
import { nowNs, statEntry, type IdentifiedFile } from './workspace.js';
import type { StatEntry } from './versionIndex.js';
import type { StagedFiles } from './staging.js';

/** What applying a checkout plan did: the stat-cache entries of the paths it touched, and bytes written. */
export interface AppliedCheckout {
  updates: Map<string, StatEntry | null>;
  bytesWritten: number;
}

/** Removes the folders above a deleted file that it left empty, up to the workspace root. */
function removeEmptyDirs(repo: Repository, abs: string): void {
  for (let d = dirname(abs); d.startsWith(repo.root) && d !== repo.root; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * Carries out a checkout plan on the workspace: every file to write is
 * assembled and verified in `.mvm/tmp` before the first one is renamed into
 * place (so a missing or corrupt chunk anywhere leaves the workspace
 * untouched), then modes are set and removed paths deleted with the folders
 * they leave empty. `current` is what the workspace holds now: a file mvm
 * knows the chunks of is rebuilt from its own copy where the chunks match.
 * A file `staged` while it downloaded is completed rather than rebuilt.
 */
export async function applyCheckout(
  repo: Repository,
  plan: CheckoutPlan,
  target: Record<string, FileEntry>,
  current: Map<string, IdentifiedFile>,
  progress?: Progress,
  staged?: StagedFiles,
): Promise<AppliedCheckout> {
  // every file object must load before anything is touched
  for (const w of plan.write) repo.file(w.entry.file);
  progress?.start?.('checkout', plan.write.reduce((s, w) => s + w.entry.size, 0));
  const updates = new Map<string, StatEntry | null>();
  let bytesWritten = 0;
  const assembled: { path: string; tmp: string; file: string }[] = [];
  try {
    await withPool(async (pool) => {
      for (const w of plan.write) {
        if (statSync(repo.abs(w.path), { throwIfNoEntry: false })?.isDirectory()) {
          throw new MvmError('UNCOMMITTED_CHANGES', `cannot write ${w.path}: a folder is in the way`, { path: w.path, hint: 'move the folder away and run checkout again' });
        }
        const cur = current.get(w.path);
        const curFile = cur ? (cur.chunked?.file ?? (repo.objects.has(cur.id) ? repo.file(cur.id) : undefined)) : undefined;
        const base = cur && curFile ? { path: cur.abs, file: curFile } : undefined;
        const tmp = await assembleFile(repo, pool, repo.file(w.entry.file), w.entry.mode, { onBytes: (n) => progress?.advance?.(n), path: w.path, base, staged: staged?.take(w.path, w.entry.file) ?? undefined });
        assembled.push({ path: w.path, tmp, file: w.entry.file });
        bytesWritten += w.entry.size;
      }
    });
  } catch (e) {
    for (const a of assembled) rmSync(a.tmp, { force: true });
    throw e;
  }
  for (const a of assembled) {
    const abs = repo.abs(a.path);
    try {
      mkdirSync(dirname(abs), { recursive: true });
    } catch (e) {
      throw fromSystemError(e, abs, 'writing');
    }
    updates.set(a.path, statEntry(installFile(a.tmp, abs), a.file, nowNs(), true));
  }
  progress?.done?.();
  for (const c of plan.chmod) {
    const abs = repo.abs(c.path);
    try {
      chmodSync(abs, c.mode);
      updates.set(c.path, statEntry(statSync(abs, { bigint: true }), target[c.path]!.file, nowNs(), true));
    } catch (e) {
      throw fromSystemError(e, abs, 'changing the mode of');
    }
  }
  for (const p of plan.remove) {
    const abs = repo.abs(p);
    try {
      unlinkSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, abs, 'deleting');
    }
    removeEmptyDirs(repo, abs);
    updates.set(p, null);
  }
  return { updates, bytesWritten };
}
