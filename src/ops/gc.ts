import { MvmError } from '../errors.js';
import { type Repository, withLock, type Progress } from '../repo/repository/index.js';
import { gcRoots, reachableObjects, type GcLogEntry } from '../repo/history/index.js';
import { emptyTrash } from '../repo/workspace/index.js';

/** Options of `mvm gc`. */
export interface GcOptions {
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
  /** Keep unreachable objects written less than this many days ago (default 1). */
  graceDays?: number;
  progress?: Progress;
}

/** A version gc removed (or would remove). */
export interface RemovedVersion {
  id: string;
  number: number | null;
}

/** What `mvm gc` found and did. */
export interface GcResult {
  dryRun: boolean;
  graceDays: number;
  /** Objects every root reaches, kept. */
  reachable: number;
  /** Unreachable objects removed (or, with --dry-run, that would be), and their stored bytes. */
  removed: { objects: number; bytes: number };
  /** Numbered versions among them. */
  versions: RemovedVersion[];
  /** Unreachable objects kept because they are younger than the grace period. */
  young: { objects: number; bytes: number };
  /** Packs gc wrote again (merged, or without removed objects), and small loose objects it packed. */
  packs: { replaced: number; written: number; packed: number };
  /** The repository format was upgraded to one with packs (FORMAT.md, Packs): older mvm no longer opens it. */
  upgraded: boolean;
}

const DAY_MS = 86_400_000;

/** An object file's modification time (ms) and stored size, or null when it has gone: one stat for both. */
function statOf(repo: Repository, id: string): { mtime: number; size: number } | null {
  const st = repo.objects.stat(id);
  return st ? { mtime: st.mtimeMs, size: st.size } : null;
}

/**
 * Deletes the objects nothing can reach (see gcRoots: refs, HEAD, deploy log,
 * annotations, mvm.lock now and in git history; parents and base models
 * through them), except those younger than the grace period, under the
 * writer lock so no commit, fetch or checkout runs meanwhile. The numbered
 * versions it removes are recorded in `logs/gc` first, then manifests are
 * deleted before file objects and chunks, so a crash part-way leaves no
 * numbered version whose data is half gone without a record of it. Version
 * numbers are never reused.
 */
export async function gc(repo: Repository, opts: GcOptions = {}): Promise<GcResult> {
  const graceDays = opts.graceDays ?? 1;
  if (!Number.isFinite(graceDays) || graceDays < 0)
    throw new MvmError('BAD_VALUE', `--grace ${graceDays}: give a number of days, 0 or more`, {
      hint: 'mvm gc --grace 0 removes every unreachable object now',
    });
  return withLock(repo, 'gc', async () => {
    const roots = gcRoots(repo);
    const reach = reachableObjects(repo, roots);
    const numbers = repo.numbers.readAll();
    const numberOf = new Map<string, number>();
    numbers.forEach((id, i) => {
      if (id) numberOf.set(id, i + 1);
    });
    const cutoff = Date.now() - graceDays * DAY_MS;
    const doomed: string[] = [];
    const young = { objects: 0, bytes: 0 };
    let bytes = 0;
    for (const id of repo.objects.list()) {
      if (reach.objects.has(id)) continue;
      const st = statOf(repo, id);
      if (!st) continue;
      if (st.mtime > cutoff) {
        young.objects++;
        young.bytes += st.size;
        continue;
      }
      doomed.push(id);
      bytes += st.size;
    }
    // a version made here that the registry has not numbered shows no number
    const confirmed = repo.numbers.confirmed() ?? numbers.length;
    const versions = doomed
      .filter((id) => numberOf.has(id))
      .sort((a, b) => numberOf.get(a)! - numberOf.get(b)!)
      .map((id) => ({ id, number: numberOf.get(id)! <= confirmed ? numberOf.get(id)! : null }));
    const result: GcResult = {
      dryRun: !!opts.dryRun,
      graceDays,
      reachable: reach.objects.size,
      removed: { objects: doomed.length, bytes },
      versions,
      young,
      packs: { replaced: 0, written: 0, packed: 0 },
      upgraded: false,
    };
    if (opts.dryRun) return result;
    // the record first, then manifests, then everything else
    if (versions.length) {
      const entry: GcLogEntry = { time: new Date().toISOString(), versions: versions.map((v) => v.id) };
      repo.refs.appendLog('gc', entry);
    }
    const first = new Set(versions.map((v) => v.id));
    opts.progress?.start?.('gc', doomed.length);
    for (const id of [...first, ...doomed.filter((id) => !first.has(id))]) {
      repo.objects.remove(id);
      opts.progress?.advance?.(1);
    }
    opts.progress?.done?.();
    // the config says packs before the first pack is written, so an older mvm refuses the repository
    // instead of missing packed objects; then packed garbage leaves and small loose objects are packed
    result.upgraded = repo.upgradeFormat();
    const packed = repo.objects.repack(new Set(doomed));
    result.packs = { replaced: packed.replaced.length, written: packed.written ? 1 : 0, packed: packed.absorbed };
    // old workspace files a killed checkout left in .mvm/trash
    emptyTrash(repo);
    // summaries of removed versions leave the summary file at its next read, which sees logs/gc grow
    return result;
  });
}
