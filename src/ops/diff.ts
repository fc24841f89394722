import { diffVersions } from '../core/diff.js';
import type { FileEntry, Version } from '../core/objects.js';
import { type Repository, withPool, type Progress, ensureVersionFiles } from '../repo/repository/index.js';
import { resolveRevision, numberOf } from '../repo/history/index.js';
import { identifyWorkspace, visibleFiles, chunkFile } from '../repo/workspace/index.js';
import {
  addMetadataChanges,
  addTensorStats,
  diffStored,
  type StatsPool,
  statsPool,
  type StoredDiff,
  storedModelMetadata,
  workspaceModelMetadata,
} from '../repo/insight/index.js';
import { nameMap } from '../core/schema.js';

/** Options of `mvm diff`. */
export interface DiffOptions {
  /** Old side; default HEAD. */
  from?: string;
  /** New side; omitted means the workspace. */
  to?: string;
  /** Also stream changed tensors and compute value statistics (against the workspace too). */
  stats?: boolean;
  /** Only these files or folders (as the user wrote them: relative to the current folder). */
  paths?: string[];
  progress?: Progress;
}

/** One side of a diff. */
export interface DiffSide {
  label: string;
  id: string | null;
  number: number | null;
}

/** The difference between two versions, or a version and the workspace. */
export interface DiffResult extends StoredDiff {
  from: DiffSide;
  to: DiffSide;
}

/** A test of workspace paths: the path itself, or one under it (`.` is everything). */
function pathFilter(rels: string[]): (path: string) => boolean {
  return (path) => rels.some((r) => r === '.' || path === r || path.startsWith(`${r}/`));
}

/** A version with only the files `only` keeps (all without it). */
function restrict(v: Version, only: ((path: string) => boolean) | null): Version {
  if (!only) return v;
  const files = nameMap<FileEntry>();
  for (const [p, e] of Object.entries(v.files)) if (only(p)) files[p] = e;
  return { ...v, files };
}

/**
 * Compares two versions from their manifests and file objects only (no chunk
 * is read), or a version (HEAD by default) with the workspace, chunking only
 * the files the stat cache cannot vouch for. With `stats`, the changed
 * tensors are streamed chunk pair by chunk pair (the workspace side read
 * from its files) for value statistics, in memory that does not grow with
 * the model.
 */
export async function diff(repo: Repository, opts: DiffOptions = {}): Promise<DiffResult> {
  const fromId = opts.from || opts.to ? resolveRevision(repo, opts.from ?? 'HEAD') : repo.headId();
  const from: DiffSide = { label: opts.from ?? 'HEAD', id: fromId, number: fromId ? numberOf(repo, fromId) : null };
  const only = opts.paths?.length ? pathFilter(opts.paths.map((p) => repo.relPath(p))) : null;
  const a = fromId ? restrict(repo.version(fromId), only) : null;
  // a partial store fetches the file objects of versions it has not read yet
  await ensureVersionFiles(repo, fromId ? [fromId] : [], opts.progress);
  if (opts.to) {
    const toId = resolveRevision(repo, opts.to);
    const b = restrict(repo.version(toId), only);
    const d = await diffStored(repo, a, b, { stats: opts.stats, progress: opts.progress });
    return { ...d, from, to: { label: opts.to, id: toId, number: numberOf(repo, toId) } };
  }
  // the statistics threads start now, while this thread identifies the workspace
  const pool = opts.stats ? statsPool().warm() : undefined;
  try {
    return await diffWorkspace(repo, a, from, only, opts.progress, pool);
  } finally {
    await pool?.close();
  }
}

/**
 * `from` (a version, or nothing) against the workspace; with `pool`, value
 * statistics of changed tensors, the new side read from the workspace files.
 */
async function diffWorkspace(
  repo: Repository,
  a: Version | null,
  from: DiffSide,
  only: ((path: string) => boolean) | null,
  progress: Progress | undefined,
  pool: StatsPool | undefined,
): Promise<DiffResult> {
  const { files } = await identifyWorkspace(repo, {
    store: false,
    record: true,
    progress,
    label: 'status',
  });
  const entries = nameMap<FileEntry>();
  const extra = new Map<string, ReturnType<Repository['file']>>();
  await withPool(async (pool) => {
    for (const [path, f] of files) {
      if (only && !only(path)) continue;
      entries[path] = { file: f.id, mode: f.mode, size: Number(f.stat.size) };
      if (!repo.objects.has(f.id)) {
        // a changed file: its file object exists only in memory, so chunk it again (hash only)
        extra.set(f.id, f.chunked?.file ?? (await chunkFile(repo, pool, f.abs, { store: false })).file);
      }
    }
  });
  // a partial workspace is compared with the part of HEAD it holds
  const sparse = repo.sparse();
  const d: StoredDiff = diffVersions(
    a && { ...a, files: visibleFiles(a.files, sparse) },
    { files: entries },
    (id) => extra.get(id) ?? repo.file(id),
  );
  const oldFile = (p: string) => (a?.files[p] ? repo.file(a.files[p]!.file) : null);
  const newFile = (p: string) => (entries[p] ? (extra.get(entries[p]!.file) ?? repo.file(entries[p]!.file)) : null);
  // the model's own metadata: HEAD's from the store, the workspace's from the file's header
  await addMetadataChanges(
    d.files,
    oldFile,
    newFile,
    (f) => storedModelMetadata(repo, f),
    (_f, p) => workspaceModelMetadata(files.get(p)!.abs),
  );
  // a file whose object is not stored is read from the workspace, chunk by chunk at the offsets it was chunked at
  const workspaceFile = (p: string) => (entries[p] && extra.has(entries[p]!.file) ? files.get(p)!.abs : null);
  if (pool) await addTensorStats(repo, d, oldFile, newFile, pool, { progress, workspaceFile });
  return { ...d, from, to: { label: 'workspace', id: null, number: null } };
}
