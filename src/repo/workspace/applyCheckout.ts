import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { MvmError, fromSystemError } from '../../errors.js';
import type { CheckoutPlan } from '../../core/checkoutPlan.js';
import type { FileEntry, FileObject } from '../../core/objects.js';
import { type Repository, withPool, type Progress, partialRemote } from '../repository/index.js';
import { assembleFile, type AssemblyTally, chunkOffsets, installFile, readsOf } from './fileio.js';
import { nowNs, statEntry, type IdentifiedFile } from './workspace.js';
import type { StatEntry } from './statCache.js';
import type { StagedFiles } from './staging.js';
import { faultPoint } from '../../storage/faults.js';
import { tempPath } from '../../storage/atomic.js';
import { emptyTrashInBackground, moveToTrash, TRASH_MIN_BYTES, trashHasFiles } from './trash.js';

/**
 * What applying a checkout plan did: the stat-cache entries of the paths it
 * touched and bytes written. The change stays undoable until `commit` (call
 * it once HEAD has moved); `rollBack` puts the workspace back instead.
 */
export interface AppliedCheckout {
  updates: Map<string, StatEntry | null>;
  bytesWritten: number;
  /** Where the written bytes came from: the old files copied in the kernel, read back, or decoded. */
  tally: AssemblyTally;
  commit(): void;
  rollBack(e: unknown): unknown;
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
    throw new MvmError(
      'SYMLINK_IN_PATH',
      `checkout would write through a symlink: ${list
        .slice(0, 3)
        .map((d) => `${d} -> ${to(d)}`)
        .join(', ')}${list.length > 3 ? ', ...' : ''}`,
      {
        paths: list,
        hint:
          'mvm never writes through a symlink; move it away, or pass --force to replace the link (not its ' +
          'target) by a folder',
      },
    );
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
 * The changes a checkout makes to the workspace, undoable until `commit`: a
 * file replaced or removed is first kept as a hard link in `.mvm/tmp` (beside
 * it when that is another filesystem), so a failure part-way puts every path
 * back as it was, and an error names any path that could not be. Each path
 * always holds its old file or its new one (renames over, never a gap), so a
 * process killed part-way leaves every file whole and HEAD unmoved; running
 * the checkout again completes it.
 */
class WorkspaceChange {
  private readonly undo: { path: string; run: () => void }[] = [];
  private readonly backups: string[] = [];
  private readonly emptied: string[] = [];

  constructor(private readonly repo: Repository) {}

  /**
   * Keeps the file now at `rel` as a hard link in `.mvm/tmp` (beside it on
   * another filesystem), so the path itself is never empty: a new file is
   * renamed over it in one step, and undo renames the kept one back.
   * Returns false when nothing was there.
   */
  private keep(rel: string): boolean {
    const abs = this.repo.abs(rel);
    if (!lstatOrNull(abs)) return false;
    let bak = tempPath(this.repo.tmpDir, 'bak');
    try {
      faultPoint('write', bak);
      try {
        linkSync(abs, bak);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        bak = tempPath(dirname(abs), '.mvm-old');
        linkSync(abs, bak);
      }
    } catch (e) {
      throw fromSystemError(e, abs, 'keeping the old copy of');
    }
    this.backups.push(bak);
    this.undo.push({
      path: rel,
      run: () => {
        mkdirSync(dirname(abs), { recursive: true });
        renameSync(bak, abs);
      },
    });
    return true;
  }

  /** Replaces a symlinked folder by nothing (the link only; mkdir makes a real folder later). Not undone. */
  unlinkLink(rel: string): void {
    const abs = this.repo.abs(rel);
    try {
      faultPoint('unlink', abs);
      unlinkSync(abs);
    } catch (e) {
      throw fromSystemError(e, abs, 'replacing the symlink');
    }
  }

  remove(rel: string, updates: Map<string, StatEntry | null>): void {
    const abs = this.repo.abs(rel);
    if (this.keep(rel)) {
      try {
        faultPoint('unlink', abs);
        unlinkSync(abs);
      } catch (e) {
        throw fromSystemError(e, abs, 'deleting');
      }
    }
    removeEmptyDirs(this.repo, abs);
    this.emptied.push(abs);
    updates.set(rel, null);
  }

  install(tmp: string, rel: string, done: (st: ReturnType<typeof installFile>) => void): void {
    const abs = this.repo.abs(rel);
    try {
      mkdirSync(dirname(abs), { recursive: true });
    } catch (e) {
      throw fromSystemError(e, abs, 'writing');
    }
    // the new file replaces the old one in one rename; undo renames the kept one back over it
    const had = this.keep(rel);
    done(installFile(tmp, abs));
    if (!had) {
      this.undo.push({ path: rel, run: () => unlinkSync(abs) });
      this.emptied.push(abs);
    }
  }

  chmod(rel: string, mode: number, done: (st: ReturnType<typeof installFile>) => void): void {
    const abs = this.repo.abs(rel);
    try {
      const old = statSync(abs).mode & 0o7777;
      faultPoint('chmod', abs);
      chmodSync(abs, mode);
      this.undo.push({ path: rel, run: () => chmodSync(abs, old) });
      done(statSync(abs, { bigint: true }));
    } catch (e) {
      throw fromSystemError(e, abs, 'changing the mode of');
    }
  }

  /** Puts every path back as it was; returns the error to throw, naming any path left changed. */
  rollBack(e: unknown): unknown {
    const left: string[] = [];
    for (const u of this.undo.reverse()) {
      try {
        u.run();
      } catch {
        left.push(u.path);
      }
    }
    for (const abs of this.emptied) removeEmptyDirs(this.repo, abs);
    if (!left.length) return e;
    const cause = e instanceof MvmError ? e : fromSystemError(e, 'the workspace', 'writing');
    return new MvmError(
      cause.code,
      `${cause.message}; the workspace could not be put back at ${left.join(', ')} (their old content is in .mvm/tmp)`,
      { ...cause.data, paths: left },
    );
  }

  /**
   * Makes the change final: the moved-aside files go. Large ones are renamed
   * into `.mvm/trash` and unlinked by a background process (freeing a GiB
   * costs a good part of a second), small ones at once; never an error, as
   * HEAD has moved: a file that cannot be moved is deleted here, and one left
   * behind is swept by the next checkout (or by the next writer, in `.mvm/tmp`).
   */
  commit(): void {
    const sizes = this.backups.map((b) => Number(lstatOrNull(b)?.size ?? 0));
    const inTmp = (b: string) => dirname(b) === this.repo.tmpDir;
    const big = sizes.reduce((a, n) => a + n, 0) >= TRASH_MIN_BYTES;
    for (const b of this.backups) {
      if (big && inTmp(b) && moveToTrash(this.repo, b)) continue;
      try {
        rmSync(b, { force: true });
      } catch {
        /* in .mvm/tmp, the next writer clears it */
      }
    }
    if (trashHasFiles(this.repo)) emptyTrashInBackground(this.repo);
  }
}

/** The stored file object of what the workspace holds at a path, when mvm knows its chunks. */
function baseFileOf(repo: Repository, cur: IdentifiedFile | undefined): FileObject | undefined {
  if (!cur) return undefined;
  return cur.chunked?.file ?? (repo.objects.has(cur.id) ? repo.file(cur.id) : undefined);
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
  const links = symlinkedParents(
    repo,
    [...plan.write.map((w) => w.path), ...plan.remove, ...plan.chmod.map((c) => c.path)],
    force,
  );
  // a file to write where a folder is, or a folder where a file is: the removals that clear the way go first
  const removing = new Set(plan.remove);
  const first = new Set<string>();
  for (const w of plan.write) {
    for (const d of parentsOf(w.path)) if (removing.has(d)) first.add(d);
    const st = lstatOrNull(repo.abs(w.path));
    if (st?.isDirectory()) {
      const inside = filesUnder(repo, w.path);
      const blocking = inside.filter((f) => !removing.has(f));
      if (blocking.length)
        throw new MvmError(
          'UNCOMMITTED_CHANGES',
          `cannot write ${w.path}: a folder is in the way (${blocking.slice(0, 3).join(', ')}` +
            `${blocking.length > 3 ? ', ...' : ''})`,
          { path: w.path, paths: blocking, hint: 'move the folder away and run checkout again' },
        );
      for (const f of inside) first.add(f);
    }
  }
  // a partial store fetches every chunk the files to write read from the store, in one batch
  if (partialRemote(repo)) {
    const reads = plan.write.flatMap((w) => {
      const curFile = baseFileOf(repo, current.get(w.path));
      return readsOf(
        repo.file(w.entry.file),
        curFile ? chunkOffsets(curFile) : new Map(),
        staged?.peek(w.path, w.entry.file) ?? undefined,
      );
    });
    await repo.chunks.ensure(reads, progress);
  }
  progress?.start?.(
    'checkout',
    plan.write.reduce((s, w) => s + w.entry.size, 0),
  );
  const updates = new Map<string, StatEntry | null>();
  let bytesWritten = 0;
  const tally: AssemblyTally = { copied: 0, checked: 0, decoded: 0 };
  const assembled: { path: string; tmp: string; file: string }[] = [];
  try {
    await withPool(async (pool) => {
      for (const w of plan.write) {
        const cur = current.get(w.path);
        const curFile = baseFileOf(repo, cur);
        const base = cur && curFile ? { path: cur.abs, file: curFile, seen: cur.stat } : undefined;
        const tmp = await assembleFile(repo, pool, repo.file(w.entry.file), w.entry.mode, {
          onBytes: (n) => progress?.advance?.(n),
          path: w.path,
          base,
          staged: staged?.take(w.path, w.entry.file) ?? undefined,
          tally,
        });
        assembled.push({ path: w.path, tmp, file: w.entry.file });
        bytesWritten += w.entry.size;
      }
    });
  } catch (e) {
    for (const a of assembled) rmSync(a.tmp, { force: true });
    throw e;
  }
  // every file is assembled and verified: now the workspace changes, as one undoable step
  const t = new WorkspaceChange(repo);
  try {
    for (const d of links) t.unlinkLink(d);
    for (const p of [...first].sort().reverse()) t.remove(p, updates);
    for (const a of assembled)
      t.install(a.tmp, a.path, (st) => updates.set(a.path, statEntry(st, a.file, nowNs(), true)));
    progress?.done?.();
    for (const c of plan.chmod)
      t.chmod(c.path, c.mode, (st) => updates.set(c.path, statEntry(st, target[c.path]!.file, nowNs(), true)));
    for (const p of plan.remove) if (!first.has(p)) t.remove(p, updates);
  } catch (e) {
    for (const a of assembled) rmSync(a.tmp, { force: true });
    throw t.rollBack(e);
  }
  return { updates, bytesWritten, tally, commit: () => t.commit(), rollBack: (e) => t.rollBack(e) };
}
