import { chmodSync, lstatSync, mkdirSync, readlinkSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
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
import { faultPoint } from '../storage/faults.js';

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

/** The workspace-relative folders above `path`, outermost first (`a`, `a/b` for `a/b/c`). */
function parentsOf(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Folders above the paths a checkout touches that are symlinks in the
 * workspace: writing or deleting through one would reach outside it (or
 * into .git). Refused unless `force`, which replaces each link (the link
 * only, never its target) by a real folder.
 */
function symlinkedParents(repo: Repository, paths: string[], force: boolean): string[] {
  const links = new Set<string>();
  for (const p of paths) {
    for (const d of parentsOf(p)) {
      const st = lstatOrNull(repo.abs(d));
      if (!st) break;
      if (st.isSymbolicLink()) {
        links.add(d);
        break;
      }
    }
  }
  const list = [...links].sort();
  if (list.length && !force) {
    const to = (d: string) => {
      try {
        return readlinkSync(repo.abs(d));
      } catch {
        return '?';
      }
    };
    throw new MvmError('SYMLINK_IN_PATH', `checkout would write through a symlink: ${list.slice(0, 3).map((d) => `${d} -> ${to(d)}`).join(', ')}${list.length > 3 ? ', ...' : ''}`, {
      paths: list,
      hint: 'mvm never writes through a symlink; move it away, or pass --force to replace the link (not its target) by a folder',
    });
  }
  return list;
}

/** lstat, or null when nothing is there (a parent that is a file counts as nothing there). */
function lstatOrNull(abs: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw fromSystemError(e, abs, 'reading');
  }
}

/** Every file under a workspace folder, relative to the root (symlinks not followed). */
function filesUnder(repo: Repository, dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(repo.abs(dir))) {
    const rel = `${dir}/${n}`;
    if (lstatSync(repo.abs(rel)).isDirectory()) out.push(...filesUnder(repo, rel));
    else out.push(rel);
  }
  return out;
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
  force = false,
): Promise<AppliedCheckout> {
  // every file object must load before anything is touched
  for (const w of plan.write) repo.file(w.entry.file);
  const links = symlinkedParents(repo, [...plan.write.map((w) => w.path), ...plan.remove, ...plan.chmod.map((c) => c.path)], force);
  // a file to write where a folder is, or a folder where a file is: the removals that clear the way go first
  const removing = new Set(plan.remove);
  const first = new Set<string>();
  for (const w of plan.write) {
    for (const d of parentsOf(w.path)) if (removing.has(d)) first.add(d);
    const st = lstatOrNull(repo.abs(w.path));
    if (st?.isDirectory()) {
      const inside = filesUnder(repo, w.path);
      const blocking = inside.filter((f) => !removing.has(f));
      if (blocking.length) throw new MvmError('UNCOMMITTED_CHANGES', `cannot write ${w.path}: a folder is in the way (${blocking.slice(0, 3).join(', ')}${blocking.length > 3 ? ', ...' : ''})`, { path: w.path, paths: blocking, hint: 'move the folder away and run checkout again' });
      for (const f of inside) first.add(f);
    }
  }
  progress?.start?.('checkout', plan.write.reduce((s, w) => s + w.entry.size, 0));
  const updates = new Map<string, StatEntry | null>();
  let bytesWritten = 0;
  const assembled: { path: string; tmp: string; file: string }[] = [];
  try {
    await withPool(async (pool) => {
      for (const w of plan.write) {
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
  // every file is assembled and verified: now the workspace changes
  for (const d of links) {
    try {
      faultPoint('unlink', repo.abs(d));
      unlinkSync(repo.abs(d));
    } catch (e) {
      throw fromSystemError(e, repo.abs(d), 'replacing the symlink');
    }
  }
  const remove = (p: string) => {
    const abs = repo.abs(p);
    try {
      faultPoint('unlink', abs);
      unlinkSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, abs, 'deleting');
    }
    removeEmptyDirs(repo, abs);
    updates.set(p, null);
  };
  for (const p of [...first].sort().reverse()) remove(p);
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
      faultPoint('chmod', abs);
      chmodSync(abs, c.mode);
      updates.set(c.path, statEntry(statSync(abs, { bigint: true }), target[c.path]!.file, nowNs(), true));
    } catch (e) {
      throw fromSystemError(e, abs, 'changing the mode of');
    }
  }
  for (const p of plan.remove) if (!first.has(p)) remove(p);
  return { updates, bytesWritten };
}
