import { diffVersions, type VersionDiff } from '../core/diff.js';
import type { FileEntry } from '../core/objects.js';
import type { Repository } from './repository.js';
import { resolveRevision, numberOf } from './resolve.js';
import { withPool, type Progress } from './session.js';
import { identifyWorkspace } from './status.js';
import { chunkFile } from './fileio.js';

/** Options of `mvm diff`. */
export interface DiffOptions {
  /** Old side; default HEAD. */
  from?: string;
  /** New side; omitted means the workspace. */
  to?: string;
  progress?: Progress;
}

/** One side of a diff. */
export interface DiffSide {
  label: string;
  id: string | null;
  number: number | null;
}

/** The difference between two versions, or a version and the workspace. */
export interface DiffResult extends VersionDiff {
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
    const d = diffVersions(a, repo.version(toId), (id) => repo.file(id));
    return { ...d, from, to: { label: opts.to, id: toId, number: numberOf(repo, toId) } };
  }
  const files = await identifyWorkspace(repo, opts.progress);
  const entries: Record<string, FileEntry> = {};
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
  const d = diffVersions(a, { files: entries }, (id) => extra.get(id) ?? repo.file(id));
  return { ...d, from, to: { label: 'workspace', id: null, number: null } };
}
