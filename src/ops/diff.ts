import { diffVersions } from '../core/diff.js';
import type { FileEntry } from '../core/objects.js';
import { type Repository, withPool, type Progress } from '../repo/repository/index.js';
import { resolveRevision, numberOf } from '../repo/history/index.js';
import { identifyWorkspace, visibleFiles, chunkFile } from '../repo/workspace/index.js';
import {
  addMetadataChanges,
  diffStored,
  type StoredDiff,
  storedModelMetadata,
  workspaceModelMetadata,
} from '../repo/insight/index.js';
import { MvmError } from '../errors.js';
import { nameMap } from '../core/schema.js';

/** Options of `mvm diff`. */
export interface DiffOptions {
  /** Old side; default HEAD. */
  from?: string;
  /** New side; omitted means the workspace. */
  to?: string;
  /** Also stream changed tensors and compute value statistics (two versions only). */
  stats?: boolean;
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

/**
 * Compares two versions from their manifests and file objects only (no chunk
 * is read), or HEAD with the workspace, chunking only the files the stat
 * cache cannot vouch for.
 */
export async function diff(repo: Repository, opts: DiffOptions = {}): Promise<DiffResult> {
  const fromId = opts.from || opts.to ? resolveRevision(repo, opts.from ?? 'HEAD') : repo.headId();
  const from: DiffSide = { label: opts.from ?? 'HEAD', id: fromId, number: fromId ? numberOf(repo, fromId) : null };
  const a = fromId ? repo.version(fromId) : null;
  if (opts.to) {
    const toId = resolveRevision(repo, opts.to);
    const b = repo.version(toId);
    const d = await diffStored(repo, a, b, { stats: opts.stats, progress: opts.progress });
    return { ...d, from, to: { label: opts.to, id: toId, number: numberOf(repo, toId) } };
  }
  if (opts.stats)
    throw new MvmError('BAD_ARGUMENT', 'diff --stats compares two versions', {
      hint: 'commit the workspace first, then run mvm diff --stats HEAD~1 HEAD',
    });
  const { files } = await identifyWorkspace(repo, {
    store: false,
    record: true,
    progress: opts.progress,
    label: 'status',
  });
  const entries = nameMap<FileEntry>();
  const extra = new Map<string, ReturnType<Repository['file']>>();
  await withPool(async (pool) => {
    for (const [path, f] of files) {
      entries[path] = { file: f.id, mode: f.mode, size: Number(f.stat.size) };
      if (!repo.objects.has(f.id)) {
        // a changed file: its file object exists only in memory, so chunk it again (hash only)
        extra.set(f.id, f.chunked?.file ?? (await chunkFile(repo, pool, f.abs, { store: false })).file);
      }
    }
  });
  // a partial workspace is compared with the part of HEAD it holds
  const sparse = repo.sparse();
  const d = diffVersions(
    a && { ...a, files: visibleFiles(a.files, sparse) },
    { files: entries },
    (id) => extra.get(id) ?? repo.file(id),
  );
  // the model's own metadata: HEAD's from the store, the workspace's from the file's header
  await addMetadataChanges(
    d.files,
    (p) => (a?.files[p] ? repo.file(a.files[p]!.file) : null),
    (p) => (entries[p] ? (extra.get(entries[p]!.file) ?? repo.file(entries[p]!.file)) : null),
    (f) => storedModelMetadata(repo, f),
    (_f, p) => workspaceModelMetadata(files.get(p)!.abs),
  );
  return { ...d, from, to: { label: 'workspace', id: null, number: null } };
}
