import type { FileObject, Version } from '../../core/objects.js';
import { diffVersions, type FileDiff, type VersionDiff } from '../../core/diff.js';
import type { ModelMetadata } from '../../core/formats/metadata.js';
import { metadataChanges, storedModelMetadata } from './modelMetadata.js';
import type { Repository, Progress } from '../repository/index.js';
import { statsPool, tensorStats, type StatsPool } from './stats/tensorStats.js';

export { statsPool, type StatsPool } from './stats/tensorStats.js';

/** A diff of two stored versions, with the value statistics when asked for. */
export interface StoredDiff extends VersionDiff {
  /** With stats: bytes of tensor data streamed (both sides) and how long it took. */
  statsBytes?: number;
  statsSeconds?: number;
}

/**
 * True when the model's header (everything before its first tensor) lies in its first chunk, so an equal first chunk
 * means equal metadata.
 */
function headerInFirstChunk(f: FileObject): boolean {
  // ONNX keeps its metadata anywhere in the protobuf (often after the graph): no shortcut
  if (f.layout?.format !== 'safetensors' && f.layout?.format !== 'gguf') return false;
  const first = f.layout.tensors[0];
  return !!first && first.start <= (f.chunks[0]?.size ?? 0);
}

/**
 * Adds to each modified or added model file what changed in its own metadata,
 * read through `readOld` / `readNew` (from the store, or from the workspace).
 * A safetensors or GGUF file whose first chunk is unchanged and holds the
 * whole header has the same metadata: nothing is read for it.
 */
export async function addMetadataChanges(
  files: FileDiff[],
  oldFile: (path: string) => FileObject | null,
  newFile: (path: string) => FileObject | null,
  readOld: (f: FileObject, path: string) => Promise<ModelMetadata | null>,
  readNew: (f: FileObject, path: string) => Promise<ModelMetadata | null>,
): Promise<void> {
  for (const f of files) {
    if (f.status !== 'modified' && f.status !== 'added') continue;
    const fb = newFile(f.path);
    const fa = oldFile(f.path);
    if (!fb?.layout || (fa && fa.chunks[0]?.id === fb.chunks[0]?.id && fa.chunks.length && headerInFirstChunk(fb)))
      continue;
    const [ma, mb] = await Promise.all([fa ? readOld(fa, f.path) : null, readNew(fb, f.path)]);
    if (!mb) continue;
    const changes = metadataChanges(ma?.metadata ?? {}, mb.metadata);
    if (changes.length) f.metadata = changes;
  }
}

/**
 * Compares two stored versions (or nothing and a version) from their
 * manifests and file objects, adds what changed in each model's own metadata
 * (read from the header chunks of both sides), and with `stats` streams the
 * changed tensors of both sides to compute value statistics.
 */
export async function diffStored(
  repo: Repository,
  a: Version | null,
  b: Version,
  opts: { stats?: boolean; progress?: Progress } = {},
): Promise<StoredDiff> {
  // a partial store fetches the file objects of versions it has not read yet
  await repo.chunks.ensureFiles(
    [a, b].flatMap((v) => (v ? Object.values(v.files).map((e) => e.file) : [])),
    opts.progress,
  );
  const fileAt = (v: Version | null, path: string) => (v?.files[path] ? repo.file(v.files[path]!.file) : null);
  // the statistics threads start now, while this thread compares the manifests
  const pool = opts.stats ? statsPool().warm() : undefined;
  try {
    return await diffWith(repo, a, b, fileAt, opts.progress, pool);
  } finally {
    await pool?.close();
  }
}

/** diffStored's work, with the statistics (when asked for) on `pool`. */
async function diffWith(
  repo: Repository,
  a: Version | null,
  b: Version,
  fileAt: (v: Version | null, path: string) => FileObject | null,
  progress: Progress | undefined,
  pool: StatsPool | undefined,
): Promise<StoredDiff> {
  const d: StoredDiff = diffVersions(a, b, (id) => repo.file(id));
  const stored = (f: FileObject) => storedModelMetadata(repo, f);
  await addMetadataChanges(
    d.files,
    (p) => fileAt(a, p),
    (p) => fileAt(b, p),
    stored,
    stored,
  );
  if (pool)
    await addTensorStats(
      repo,
      d,
      (p) => fileAt(a, p),
      (p) => fileAt(b, p),
      pool,
      { progress },
    );
  return d;
}

/**
 * Streams the changed tensors of `d` on `pool` and adds each one's value
 * statistics (or why it has none), and the bytes and time it took. The new
 * side of a file `workspaceFile` names is read from that workspace file.
 */
export async function addTensorStats(
  repo: Repository,
  d: StoredDiff,
  oldFile: (path: string) => FileObject | null,
  newFile: (path: string) => FileObject | null,
  pool: StatsPool,
  opts: { progress?: Progress; workspaceFile?: (path: string) => string | null } = {},
): Promise<void> {
  const started = performance.now();
  const { stats, bytes } = await tensorStats(repo, d.files, oldFile, newFile, pool, opts.progress, opts.workspaceFile);
  for (const f of d.files) {
    for (const entry of stats.get(f.path) ?? []) {
      const change = f.tensors?.changes.find((c) => c.name === entry.name);
      if (!change) continue;
      if ('stats' in entry) change.stats = entry.stats;
      else
        change.statsSkipped =
          entry.skipped === 'dtype' ? `no statistics for dtype ${change.dtype[1]}` : 'chunk layouts differ';
    }
  }
  d.statsBytes = bytes;
  d.statsSeconds = (performance.now() - started) / 1000;
}
