import { join } from 'node:path';
import { acquireLock, type Lock } from '../../storage/lock.js';
import { isMvmError } from '../../errors.js';
import { mergeInto } from '../../core/values.js';
import type { AnnotationLogEntry, Scalar } from '../../core/objects.js';
import type { Repository } from '../repository/index.js';
import { summarize, SummaryFileDamaged, type StoredSummary } from './summary.js';
import type { GcLogEntry } from './gcLog.js';
import {
  appendSummaryFile,
  isCurrent,
  logMarks,
  MAX_APPENDS,
  onlyAppended,
  logPaths,
  SummaryReader,
  summaryFileState,
  writeSummaryFile,
  type SummaryState,
} from './summaryFile.js';

/**
 * The summary store: `.mvm/summaries` (see summaryFile.ts) kept equal to what
 * the logs say. Summaries are a function of three logs and the manifests:
 * `numbers` (which version is vN), `logs/annotations` (metrics added later)
 * and `logs/gc` (versions removed). A reader that finds the file stale brings
 * it up to date under `.mvm/summaries.lock`, which is held for that alone
 * (milliseconds, not a commit's length): it appends when every log was only
 * appended to since the file was written, rewrites it from its own summaries
 * when numbers were reassigned or versions removed, and reads every manifest
 * again only when the file is missing, damaged or the annotation log was
 * rewritten. A reader that cannot take the lock (another is writing, the
 * storage is read-only) works out the same summaries in memory.
 */

/** An annotation's metrics to overlay on vN. */
interface Annotated {
  n: number;
  metrics: Record<string, Scalar>;
}

/** A stale summary file to build on: its state, and its summaries (merged) when a plan needs them. */
interface FileBase {
  state: SummaryState;
  all: () => Map<string, StoredSummary>;
}

/** How the file moves from what it holds to what the logs say. */
type Plan =
  | { kind: 'append'; added: StoredSummary[]; annotated: Annotated[] }
  | { kind: 'rewrite'; all: StoredSummary[] };

/** The logs as read for one update, and their marks taken before reading (see SummaryState). */
interface Logs {
  ids: (string | null)[];
  anns: AnnotationLogEntry[];
  gc: GcLogEntry[];
  state: SummaryState;
}

const LOCK = 'summaries.lock';

/** Takes the summary lock if it is free right now; null when it is held or cannot be taken (read-only storage). */
async function tryLock(repo: Repository): Promise<Lock | null> {
  try {
    return await acquireLock(join(repo.dir, LOCK), 'summaries', 0);
  } catch {
    return null;
  }
}

/**
 * Reads the three logs, with the marks they had. With `settled`, null when one moved while it was read (try again);
 * without, what was read (the marks may then be older than the entries: the state is not to be written).
 */
function readLogs(repo: Repository, settled = true): Logs | null {
  const marks = logMarks(repo);
  const ids = repo.numbers.readAll();
  const anns = repo.refs.readLog<AnnotationLogEntry>('annotations');
  const gc = repo.refs.readLog<GcLogEntry>('gc');
  const state: SummaryState = { numbers: ids.length, annotations: anns.length, gc: gc.length, ...marks };
  return !settled || isCurrent(repo, state) ? { ids, anns, gc, state } : null;
}

/** The summary of `id` as vN from its manifest; null when the manifest is missing or damaged (fsck reports it). */
function summaryOf(repo: Repository, id: string, n: number): StoredSummary | null {
  try {
    return summarize(id, n, repo.version(id));
  } catch (e) {
    if (isMvmError(e, 'OBJECT_MISSING') || isMvmError(e, 'OBJECT_CORRUPT')) return null;
    throw e;
  }
}

/** The metrics of an annotation object; null when it is missing or damaged (the summary stays as recorded). */
function annotationMetrics(repo: Repository, id: string): Record<string, Scalar> | null {
  try {
    return repo.annotation(id).metrics;
  } catch (e) {
    if (isMvmError(e, 'OBJECT_MISSING') || isMvmError(e, 'OBJECT_CORRUPT')) return null;
    throw e;
  }
}

/**
 * The versions `entries` of the gc log name whose manifests are gone: gc records a version before it removes it,
 * so one it failed to remove (a full disk, a kill) is still whole and keeps its summary.
 */
function removedIn(repo: Repository, entries: GcLogEntry[]): Set<string> {
  const out = new Set<string>();
  for (const e of entries)
    if (e && Array.isArray(e.versions)) for (const id of e.versions) if (!repo.objects.has(id)) out.add(id);
  return out;
}

/**
 * Works out how to bring a summary file in `old` (its state; `all` reads its
 * summaries, merged) to what `logs` say. `all` is called only for a rewrite
 * that can keep the file's summaries; a damaged file throws SummaryFileDamaged there.
 */
function plan(repo: Repository, logs: Logs, old: FileBase | null): Plan {
  const paths = logPaths(repo);
  const s = old?.state;
  // the file's summaries stay right while the annotation and gc logs were only appended to
  const keep =
    !!s &&
    s.annotations <= logs.anns.length &&
    s.gc <= logs.gc.length &&
    onlyAppended(paths.annotations, s.annotationsFile) &&
    onlyAppended(paths.gc, s.gcFile);
  const removed = keep ? removedIn(repo, logs.gc.slice(s.gc)) : new Set<string>();
  const numberOf = new Map<string, number>();
  logs.ids.forEach((id, i) => {
    if (id && !removed.has(id)) numberOf.set(id, i + 1);
  });
  const annotatedFrom = (from: number): Annotated[] => {
    const out: Annotated[] = [];
    for (const e of logs.anns.slice(from)) {
      const n = numberOf.get(e.target);
      const metrics = n ? annotationMetrics(repo, e.annotation) : null;
      if (n && metrics) out.push({ n, metrics });
    }
    return out;
  };
  if (
    keep &&
    !removed.size &&
    s.numbers <= logs.ids.length &&
    (s.appends ?? 0) + 1 < MAX_APPENDS &&
    onlyAppended(paths.numbers, s.numbersFile)
  ) {
    const added: StoredSummary[] = [];
    logs.ids.slice(s.numbers).forEach((id, i) => {
      const summary = id ? summaryOf(repo, id, s.numbers + i + 1) : null;
      if (summary) added.push(summary);
    });
    return { kind: 'append', added, annotated: annotatedFrom(s.annotations) };
  }
  const before = keep ? old.all() : new Map<string, StoredSummary>();
  const byNumber = new Map<number, StoredSummary>();
  for (const [id, n] of numberOf) {
    const kept = before.get(id);
    const summary = kept ? { ...kept, number: n } : summaryOf(repo, id, n);
    if (summary) byNumber.set(n, summary);
  }
  for (const a of annotatedFrom(keep ? s.annotations : 0)) {
    // a version whose manifest cannot be read has no summary to annotate
    const summary = byNumber.get(a.n);
    if (!summary) continue;
    mergeInto(summary.metrics, a.metrics);
    summary.annotations++;
  }
  return { kind: 'rewrite', all: [...byNumber.values()].sort((a, b) => a.number - b.number) };
}

/**
 * Brings the summary file up to date if this process can write it now (true:
 * read the file), or else works the summaries out in memory (the map, in
 * number order). `damaged`: the file did not read back; build it from the manifests.
 */
export async function refreshSummaries(
  repo: Repository,
  opts: { damaged?: boolean } = {},
): Promise<true | Map<string, StoredSummary>> {
  const lock = await tryLock(repo);
  if (!lock) return summariesInMemory(repo, opts);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = opts.damaged ? null : summaryFileState(repo);
      if (current && isCurrent(repo, current)) return true;
      const logs = readLogs(repo);
      if (!logs) continue;
      const written = withPlan(repo, logs, !opts.damaged, (p, base) => {
        try {
          const appends = (base?.state.appends ?? 0) + 1;
          if (p.kind === 'append') appendSummaryFile(repo, p.added, p.annotated, { ...logs.state, appends });
          else writeSummaryFile(repo, p.all, logs.state);
          return true;
        } catch {
          // derived data: a file that cannot be written (a full disk) is rebuilt next time
          return false;
        }
      });
      if (written) return true;
      break;
    }
  } finally {
    lock.release();
  }
  return summariesInMemory(repo, opts);
}

/** The summaries as the logs say now, built on the summary file (unless `damaged`) but never writing it. */
export function summariesInMemory(repo: Repository, opts: { damaged?: boolean } = {}): Map<string, StoredSummary> {
  const logs = readLogs(repo, false)!;
  return withPlan(repo, logs, !opts.damaged, (p, base) => inMemory(p, base));
}

/**
 * Plans from the stale summary file (when `useFile`; a damaged one is left
 * out) and hands the plan and the file to `act`, falling back to a plan from
 * the manifests when the file turns out damaged while `act` reads it.
 */
function withPlan<T>(repo: Repository, logs: Logs, useFile: boolean, act: (p: Plan, base: FileBase | null) => T): T {
  const reader = useFile ? SummaryReader.open(repo, { stale: true }) : null;
  try {
    const base: FileBase | null = reader?.state ? { state: reader.state, all: () => reader.all() } : null;
    try {
      return act(plan(repo, logs, base), base);
    } catch (e) {
      if (!(e instanceof SummaryFileDamaged)) throw e;
      return act(plan(repo, logs, null), null);
    }
  } finally {
    reader?.close();
  }
}

/** The summaries a plan arrives at, in number order, without writing them. */
function inMemory(p: Plan, old: FileBase | null): Map<string, StoredSummary> {
  if (p.kind === 'rewrite') return new Map(p.all.map((s) => [s.id, s]));
  const all = new Map(old!.all());
  for (const s of p.added) all.set(s.id, s);
  const byNumber = new Map([...all.values()].map((s) => [s.number, s]));
  for (const a of p.annotated) {
    const s = byNumber.get(a.n);
    if (!s) continue;
    mergeInto(s.metrics, a.metrics);
    s.annotations++;
  }
  return new Map([...all.values()].sort((a, b) => a.number - b.number).map((s) => [s.id, s]));
}

/**
 * Builds the summary file again from the manifests and the logs (fsck
 * --repair), under its lock, waiting for a reader that is updating it.
 */
export async function rebuildSummaries(repo: Repository): Promise<void> {
  const lock = await acquireLock(join(repo.dir, LOCK), 'fsck', 5000);
  try {
    const logs = readLogs(repo) ?? readLogs(repo, false)!;
    const p = plan(repo, logs, null);
    if (p.kind === 'rewrite') writeSummaryFile(repo, p.all, logs.state);
  } finally {
    lock.release();
  }
}
