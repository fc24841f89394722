import { MvmError } from '../../errors.js';
import type { FileEntry, Version } from '../../core/objects.js';
import type { Repository } from '../repository/index.js';
import { nameMap, toNameMap } from '../../core/schema.js';

/** What a replay made: the new tip, each replayed version's old and new id, and what it did to theirs. */
export interface Rebased {
  tip: string;
  replayed: { from: string; to: string; metricsKept: boolean }[];
  /** Snapshots: paths the other side changed since the two parted that the new tip sets back to this side's. */
  overridden: string[];
}

const same = (a: FileEntry | undefined, b: FileEntry | undefined) =>
  (!a && !b) || (!!a && !!b && a.file === b.file && a.mode === b.mode);

/** The versions only `local` has (oldest first) and the version where the two histories parted. */
function parted(repo: Repository, local: string, onto: string): { chain: string[]; base: string } {
  const ontoHistory = new Set<string>();
  for (const stack = [onto]; stack.length; ) {
    const id = stack.pop()!;
    if (ontoHistory.has(id)) continue;
    ontoHistory.add(id);
    stack.push(...repo.version(id).parents);
  }
  const chain: string[] = [];
  let base: string | null = local;
  while (base && !ontoHistory.has(base)) {
    chain.push(base);
    base = repo.version(base).parents[0] ?? null;
  }
  if (!base)
    throw new MvmError('NON_FAST_FORWARD', 'the two histories share no version, so there is nothing to replay onto', {
      local,
      remote: onto,
    });
  return { chain: chain.reverse(), base };
}

/** Stores the replays of `planned` on top of `onto`, in order; each new version records what it replays. */
function store(repo: Repository, onto: string, planned: { id: string; files: Record<string, FileEntry> }[]) {
  let tip = onto;
  const replayed: Rebased['replayed'] = [];
  for (const p of planned) {
    const v = repo.version(p.id);
    // a version's metrics were measured on exactly its files: a replay that changes them leaves them out
    const metricsKept =
      Object.keys(p.files).length === Object.keys(v.files).length &&
      Object.entries(p.files).every(([path, e]) => same(e, v.files[path]));
    const next = repo.putObject({
      ...v,
      parents: [tip],
      files: p.files,
      metrics: metricsKept ? v.metrics : {},
      deps: { ...v.deps, replayOf: { id: p.id, parent: v.parents[0] ?? null } },
    });
    replayed.push({ from: p.id, to: next, metricsKept });
    tip = next;
  }
  // appended (a crash leaves the log whole); the next fetch or push drops the originals (followRegistry)
  repo.numbers.appendAll(replayed.map((r) => r.to));
  return { tip, replayed };
}

/**
 * Replays the versions only `local` has on top of `onto` unchanged: each
 * keeps exactly its files, message, metadata and metrics (they were measured
 * on those bytes) and records the version it replays and that version's old
 * parent (`deps.replayOf`). Both sides' versions survive; nothing conflicts.
 * New versions get new ids (and numbers when pushed); the old ones stay in
 * the store, unreferenced.
 */
export function replayOnto(repo: Repository, local: string, onto: string): Rebased {
  const { chain, base } = parted(repo, local, onto);
  const baseFiles = repo.version(base).files;
  const ontoFiles = repo.version(onto).files;
  const last = chain.length ? repo.version(chain[chain.length - 1]!).files : ontoFiles;
  const overridden = [...new Set([...Object.keys(baseFiles), ...Object.keys(ontoFiles)])]
    .filter((p) => !same(ontoFiles[p], baseFiles[p]) && !same(ontoFiles[p], last[p]))
    .sort();
  const r = store(
    repo,
    onto,
    chain.map((id) => ({ id, files: repo.version(id).files })),
  );
  return { ...r, overridden };
}

/**
 * Replays the versions only `local` has on top of `onto` path by path (what
 * `mvm pull --merge` asks for), as `git rebase` does: each version changes
 * the paths it changed against its parent. A path that both sides changed
 * since they parted, to different content, is a conflict (REBASE_CONFLICT),
 * found before anything is written. A replayed version whose files differ
 * from the original's carries no metrics.
 */
export function mergeOnto(repo: Repository, local: string, onto: string): Rebased {
  const load = (id: string): Version => repo.version(id);
  const { chain, base } = parted(repo, local, onto);
  const baseFiles = load(base).files;
  const ontoFiles = load(onto).files;
  // the whole replay is planned first: a conflict anywhere writes nothing
  const conflicts = new Set<string>();
  const planned: { id: string; files: Record<string, FileEntry> }[] = [];
  // null-prototype copies: a path named __proto__ is a key, not the map's prototype
  let files: Record<string, FileEntry> = toNameMap(ontoFiles);
  for (const id of chain) {
    const v = load(id);
    const parentFiles = v.parents[0] ? load(v.parents[0]).files : nameMap<FileEntry>();
    files = toNameMap(files);
    for (const p of new Set([...Object.keys(parentFiles), ...Object.keys(v.files)])) {
      const after = v.files[p];
      if (same(parentFiles[p], after)) continue;
      if (!same(ontoFiles[p], baseFiles[p]) && !same(ontoFiles[p], after)) conflicts.add(p);
      if (after) files[p] = after;
      else delete files[p];
    }
    planned.push({ id, files });
  }
  if (conflicts.size) {
    const list = [...conflicts].sort();
    throw new MvmError(
      'REBASE_CONFLICT',
      `both sides changed ${list.length} path(s) since they parted: ${list.slice(0, 5).join(', ')}` +
        `${list.length > 5 ? ', ...' : ''}`,
      {
        paths: list,
        hint: "plain 'mvm pull' keeps both: your versions replayed unchanged on top of theirs",
      },
    );
  }
  return { ...store(repo, onto, planned), overridden: [] };
}
