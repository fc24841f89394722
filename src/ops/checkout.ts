import { chmodSync, mkdirSync, rmdirSync, rmSync, unlinkSync, statSync, type BigIntStats } from 'node:fs';
import { dirname } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { planCheckout, type WorkState } from '../core/checkoutPlan.js';
import type { Repository } from './repository.js';
import { withIndex, withLock, withPool, type Progress } from './session.js';
import { identifyFiles, isCovered, nowNs, scanTracked, statEntry } from './workspace.js';
import { assembleFile, installFile } from './fileio.js';
import { resolveRevision, numberOf } from './resolve.js';
import type { StatEntry } from './versionIndex.js';

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
 * Makes the workspace hold a version's tracked files bit for bit, writing
 * only files that differ, and moves HEAD: onto the branch when `rev` names
 * one, else detached at the version. Refuses to overwrite local changes
 * unless `force`.
 */
export async function checkout(repo: Repository, rev: string, opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  return withLock(repo, 'checkout', async () => {
    const targetId = resolveRevision(repo, rev);
    const target = repo.version(targetId);
    const headId = repo.headId();
    const head = headId ? repo.version(headId) : null;
    const isBranch = !rev.startsWith('refs/') && /^[^~^@]+$/.test(rev) && repo.refs.read(`refs/heads/${rev}`) === targetId && !repo.refs.read(`refs/tags/${rev}`);
    // make sure every target path is tracked, then see what the workspace holds
    const specs = repo.tracked();
    const missing = Object.keys(target.files).filter((p) => !isCovered(p, specs));
    const files = scanTracked(repo, [...specs, ...missing]);
    const cache = await withIndex(repo, (index) => index.statGet([...files.keys()]));
    const identified = await withPool((pool) => identifyFiles(repo, pool, files, cache, { store: false }));
    const work = new Map<string, WorkState>([...identified.files].map(([p, f]) => [p, { id: f.id, mode: f.mode }]));
    const plan = planCheckout(head?.files ?? {}, target.files, work, !!opts.force);
    if (plan.conflicts.length) {
      const list = plan.conflicts.map((c) => c.path);
      throw new MvmError('UNCOMMITTED_CHANGES', `checkout would overwrite local changes in ${list.length} file(s): ${list.slice(0, 5).join(', ')}${list.length > 5 ? ', ...' : ''}`, {
        paths: list,
        hint: "commit them first ('mvm commit'), or pass --force to discard them",
      });
    }
    // verify before touching the workspace: every file object must load
    for (const w of plan.write) repo.file(w.entry.file);
    const total = plan.write.reduce((s, w) => s + w.entry.size, 0);
    opts.progress?.start?.('checkout', total);
    const updates = new Map<string, StatEntry | null>(identified.updates);
    let bytesWritten = 0;
    // Every file is assembled and verified in .mvm/tmp before the first one is renamed into
    // place: a missing or corrupt chunk anywhere leaves the whole workspace untouched.
    const assembled: { path: string; tmp: string; file: string }[] = [];
    try {
      await withPool(async (pool) => {
        for (const w of plan.write) {
          const abs = repo.abs(w.path);
          if (statSync(abs, { throwIfNoEntry: false })?.isDirectory()) {
            throw new MvmError('UNCOMMITTED_CHANGES', `cannot write ${w.path}: a folder is in the way`, { path: w.path, hint: 'move the folder away and run checkout again' });
          }
          // what the workspace holds now, when mvm knows its chunks: most of it can be kept
          const cur = identified.files.get(w.path);
          const curFile = cur ? (cur.chunked?.file ?? (repo.objects.has(cur.id) ? repo.file(cur.id) : undefined)) : undefined;
          const base = cur && curFile ? { path: cur.abs, file: curFile } : undefined;
          const tmp = await assembleFile(repo, pool, repo.file(w.entry.file), w.entry.mode, { onBytes: (n) => opts.progress?.advance?.(n), path: w.path, base });
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
      const st: BigIntStats = installFile(a.tmp, abs);
      updates.set(a.path, statEntry(st, a.file, nowNs(), true));
    }
    opts.progress?.done?.();
    for (const c of plan.chmod) {
      chmodSync(repo.abs(c.path), c.mode);
      const st = statSync(repo.abs(c.path), { bigint: true });
      const id = target.files[c.path]!.file;
      updates.set(c.path, statEntry(st, id, nowNs(), true));
    }
    for (const p of plan.remove) {
      try {
        unlinkSync(repo.abs(p));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, repo.abs(p), 'deleting');
      }
      removeEmptyDirs(repo, repo.abs(p));
      updates.set(p, null);
    }
    if (missing.length) repo.setTracked([...specs, ...missing]);
    await withIndex(repo, (index) => index.statPut(updates));
    // HEAD moves last
    if (isBranch) repo.refs.writeHead({ kind: 'branch', ref: `refs/heads/${rev}` });
    else repo.refs.writeHead({ kind: 'detached', id: targetId });
    return {
      id: targetId,
      number: numberOf(repo, targetId),
      branch: isBranch ? rev : null,
      written: plan.write.map((w) => w.path),
      removed: plan.remove,
      chmod: plan.chmod.map((c) => c.path),
      unchanged: plan.unchanged,
      bytesWritten,
    };
  });
}
