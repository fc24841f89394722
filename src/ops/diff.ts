import type { FileObject } from '../core/objects.js';
import { metadataChanges, storedModelMetadata } from '../repo/modelMetadata.js';
import { diffVersions, type VersionDiff } from '../core/diff.js';
import type { FileEntry } from '../core/objects.js';
import type { Repository } from '../repo/repository.js';
import { resolveRevision, numberOf } from '../repo/revisions.js';
import { withPool, type Progress } from '../repo/session.js';
import { identifyWorkspace, visibleFiles } from '../repo/workspace.js';
import { chunkFile } from '../repo/fileio.js';
import { tensorStats } from '../repo/stats/tensorStats.js';
import { MvmError } from '../errors.js';

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
export interface DiffResult extends VersionDiff {
  from: DiffSide;
  to: DiffSide;
  /** With --stats: bytes of tensor data streamed (both sides) and how long it took. */
  statsBytes?: number;
  statsSeconds?: number;
}

/**
 * Compares two versions from their manifests and file objects only (no chunk
 * is read), or HEAD with the workspace, chunking only the files the stat
 * cache cannot vouch for.
 */
/** True when the model's header (everything before its first tensor) lies in its first chunk, so an equal first chunk means equal metadata. */
function headerInFirstChunk(f: FileObject): boolean {
  // ONNX keeps its metadata anywhere in the protobuf (often after the graph): no shortcut
  if (f.layout?.format !== 'safetensors' && f.layout?.format !== 'gguf') return false;
  const first = f.layout.tensors[0];
  return !!first && first.start <= (f.chunks[0]?.size ?? 0);
}

export async function diff(repo: Repository, opts: DiffOptions = {}): Promise<DiffResult> {
  const fromId = opts.from || opts.to ? resolveRevision(repo, opts.from ?? 'HEAD') : repo.headId();
  const from: DiffSide = { label: opts.from ?? 'HEAD', id: fromId, number: fromId ? numberOf(repo, fromId) : null };
  const a = fromId ? repo.version(fromId) : null;
  if (opts.to) {
    const toId = resolveRevision(repo, opts.to);
    const b = repo.version(toId);
    const d = diffVersions(a, b, (id) => repo.file(id));
    const result: DiffResult = { ...d, from, to: { label: opts.to, id: toId, number: numberOf(repo, toId) } };
    // the model's own metadata: read from the header chunks of both sides
    for (const f of d.files) {
      if (f.status !== 'modified' && f.status !== 'added') continue;
      const fb = repo.file(b.files[f.path]!.file);
      const fa = a?.files[f.path] ? repo.file(a.files[f.path]!.file) : null;
      if (!fb.layout || (fa && fa.chunks[0]?.id === fb.chunks[0]?.id && fa.chunks.length && headerInFirstChunk(fb))) continue;
      const [ma, mb] = await Promise.all([fa ? storedModelMetadata(repo, fa) : null, storedModelMetadata(repo, fb)]);
      if (!mb) continue;
      const changes = metadataChanges(ma?.metadata ?? {}, mb.metadata);
      if (changes.length) f.metadata = changes;
    }
    if (opts.stats) {
      const started = performance.now();
      const fileAt = (v: typeof b | null, path: string) => (v?.files[path] ? repo.file(v.files[path]!.file) : null);
      const { stats, bytes } = await tensorStats(repo, d.files, (p) => fileAt(a, p), (p) => fileAt(b, p), opts.progress);
      for (const f of d.files) {
        for (const entry of stats.get(f.path) ?? []) {
          const change = f.tensors?.changes.find((c) => c.name === entry.name);
          if (!change) continue;
          if ('stats' in entry) change.stats = entry.stats;
          else change.statsSkipped = entry.skipped === 'dtype' ? `no statistics for dtype ${change.dtype[1]}` : 'chunk layouts differ';
        }
      }
      result.statsBytes = bytes;
      result.statsSeconds = (performance.now() - started) / 1000;
    }
    return result;
  }
  if (opts.stats) throw new MvmError('BAD_ARGUMENT', 'diff --stats compares two versions', { hint: 'commit the workspace first, then run mvm diff --stats HEAD~1 HEAD' });
  const { files } = await identifyWorkspace(repo, { store: false, record: true, progress: opts.progress, label: 'status' });
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
  // a partial workspace is compared with the part of HEAD it holds
  const sparse = repo.sparse();
  const d = diffVersions(a && { ...a, files: visibleFiles(a.files, sparse) }, { files: entries }, (id) => extra.get(id) ?? repo.file(id));
  return { ...d, from, to: { label: 'workspace', id: null, number: null } };
}
