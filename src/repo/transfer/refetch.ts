import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Repository, partialRemote } from '../repository/index.js';
import { visibleFiles } from '../workspace/index.js';

/** Where fsck --repair sets damaged objects aside (one file per object id). */
function lostDir(repo: Repository): string {
  return join(repo.dir, 'lost');
}

/** Ids of the objects in `.mvm/lost/`. */
function lostIds(repo: Repository): string[] {
  try {
    return readdirSync(lostDir(repo)).filter((f) => /^[0-9a-f]{64}$/.test(f));
  } catch {
    return [];
  }
}

/** True when fsck --repair has set objects aside that no good copy has replaced yet: the next fetch looks for them. */
export function hasLostObjects(repo: Repository): boolean {
  return lostIds(repo).some((id) => !repo.objects.has(id));
}

/** Objects this store's versions need that are not here, by kind. */
export interface Absent {
  versions: string[];
  files: string[];
  /** The missing file objects whose chunks are wanted too (paths this workspace holds, in a full store). */
  filesWithChunks: string[];
  chunks: string[];
}

/**
 * Walks every version the refs (and HEAD) reach and lists what is not here:
 * manifests, file objects, and the chunks of the paths this workspace holds
 * (manifests only for a partial store, which fetches file objects and chunks
 * when it reads them). Reads
 * every manifest and file object it reaches, so fetch runs it only when asked
 * (fetch --full) or when fsck --repair set objects aside. Objects that cannot
 * be read here (damaged) are fsck's to report, and not walked past.
 */
export function absentObjects(repo: Repository): Absent {
  const out: Absent = { versions: [], files: [], filesWithChunks: [], chunks: [] };
  const roots: string[] = [];
  const root = (read: () => string | null) => {
    try {
      const id = read();
      if (id) roots.push(id);
    } catch {
      /* an unreadable ref is fsck's to report */
    }
  };
  root(() => repo.headId());
  for (const r of repo.refs.list('refs/')) root(() => repo.refs.read(r.ref));
  const partial = partialRemote(repo) !== null;
  const sparse = repo.sparse();
  const seen = new Set<string>();
  const listed = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!repo.objects.has(id)) {
      out.versions.push(id);
      continue;
    }
    let v;
    try {
      v = repo.version(id);
    } catch {
      continue;
    }
    stack.push(...v.parents, ...(v.deps.base ? [v.deps.base] : []));
    const visible = new Set(Object.keys(visibleFiles(v.files, sparse)));
    for (const [path, e] of Object.entries(v.files)) {
      const key = `${visible.has(path) && !partial ? 'chunks' : 'file'}:${e.file}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (!repo.objects.has(e.file)) {
        // a partial store fetches file objects when it reads them, as it does chunks
        if (partial) continue;
        if (!listed.has(e.file)) out.files.push(e.file);
        if (key.startsWith('chunks:')) out.filesWithChunks.push(e.file);
        listed.add(e.file);
        continue;
      }
      if (!key.startsWith('chunks:')) continue;
      try {
        for (const c of repo.file(e.file).chunks) {
          if (seen.has(c.id)) continue;
          seen.add(c.id);
          if (!repo.objects.has(c.id)) out.chunks.push(c.id);
        }
      } catch {
        /* damaged here: fsck's to report */
      }
    }
  }
  return out;
}

/**
 * Removes from `.mvm/lost/` the damaged copies of objects a good copy has
 * replaced: here, or (`onOwnRemote`, for a partial store fetching from its
 * own remote) on that remote, where a partial store keeps its chunks.
 * Returns how many.
 */
export function clearReplacedLost(repo: Repository, onOwnRemote?: (id: string) => boolean): number {
  let n = 0;
  for (const id of lostIds(repo)) {
    if (!repo.objects.has(id) && !onOwnRemote?.(id)) continue;
    rmSync(join(lostDir(repo), id), { force: true });
    n++;
  }
  return n;
}
