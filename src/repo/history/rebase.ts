import { MvmError } from '../../errors.js';
import type { FileEntry, Version } from '../../core/objects.js';
import type { Repository } from '../repository/index.js';
import { nameMap, toNameMap } from '../../core/schema.js';

/** What a rebase made: the new tip, and each replayed version's old and new id. */
export interface Rebased {
  tip: string;
  replayed: { from: string; to: string }[];
}

const same = (a: FileEntry | undefined, b: FileEntry | undefined) =>
  (!a && !b) || (!!a && !!b && a.file === b.file && a.mode === b.mode);

/**
 * Replays the versions only `local` has on top of `onto`, as `git rebase`
 * does, path by path: each version keeps its message, metadata and metrics,
 * and changes the paths it changed against its parent. A path that both
 * sides changed since they parted, to different content, is a conflict
 * (REBASE_CONFLICT), found before anything is written. New versions get new
 * ids and numbers; the old ones stay in the store, unreferenced.
 */
export function rebaseOnto(repo: Repository, local: string, onto: string): Rebased {
  const load = (id: string): Version => repo.version(id);
  const ontoHistory = new Set<string>();
  for (const stack = [onto]; stack.length; ) {
    const id = stack.pop()!;
    if (ontoHistory.has(id)) continue;
    ontoHistory.add(id);
    stack.push(...load(id).parents);
  }
  const chain: string[] = [];
  let base: string | null = local;
  while (base && !ontoHistory.has(base)) {
    const v = load(base);
    chain.push(base);
    base = v.parents[0] ?? null;
  }
  if (!base)
    throw new MvmError('NON_FAST_FORWARD', 'the two histories share no version, so there is nothing to rebase onto', {
      local,
      remote: onto,
    });
  chain.reverse();
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
        hint:
          'keep yours on a branch (mvm branch mine), take theirs (mvm checkout origin/BRANCH --force), then ' +
          'commit your files again on top',
      },
    );
  }
  let tip = onto;
  const replayed: Rebased['replayed'] = [];
  for (const p of planned) {
    const v = load(p.id);
    const next = repo.putObject({ ...v, parents: [tip], files: p.files });
    repo.numbers.append(next);
    replayed.push({ from: p.id, to: next });
    tip = next;
  }
  return { tip, replayed };
}
