import type { FileObject, Version } from '../core/objects.js';
import { diffVersions, type VersionDiff } from '../core/diff.js';
import { metadataChanges, storedModelMetadata } from './modelMetadata.js';
import type { Repository } from './repository.js';
import type { Progress } from './session.js';
import { tensorStats } from './stats/tensorStats.js';

/** A diff of two stored versions, with the value statistics when asked for. */
export interface StoredDiff extends VersionDiff {
  /** With stats: bytes of tensor data streamed (both sides) and how long it took. */
  statsBytes?: number;
  statsSeconds?: number;
}

/** True when the model's header (everything before its first tensor) lies in its first chunk, so an equal first chunk means equal metadata. */
function headerInFirstChunk(f: FileObject): boolean {
  // ONNX keeps its metadata anywhere in the protobuf (often after the graph): no shortcut
  if (f.layout?.format !== 'safetensors' && f.layout?.format !== 'gguf') return false;
  const first = f.layout.tensors[0];
  return !!first && first.start <= (f.chunks[0]?.size ?? 0);
}

/**
 * Compares two stored versions (or nothing and a version) from their
 * manifests and file objects, adds what changed in each model's own metadata
 * (read from the header chunks of both sides), and with `stats` streams the
 * changed tensors of both sides to compute value statistics.
 */
export async function diffStored(repo: Repository, a: Version | null, b: Version, opts: { stats?: boolean; progress?: Progress } = {}): Promise<StoredDiff> {
  const d: StoredDiff = diffVersions(a, b, (id) => repo.file(id));
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
    const fileAt = (v: Version | null, path: string) => (v?.files[path] ? repo.file(v.files[path]!.file) : null);
    const { stats, bytes } = await tensorStats(repo, d.files, (p) => fileAt(a, p), (p) => fileAt(b, p), opts.progress);
    for (const f of d.files) {
      for (const entry of stats.get(f.path) ?? []) {
        const change = f.tensors?.changes.find((c) => c.name === entry.name);
        if (!change) continue;
        if ('stats' in entry) change.stats = entry.stats;
        else change.statsSkipped = entry.skipped === 'dtype' ? `no statistics for dtype ${change.dtype[1]}` : 'chunk layouts differ';
      }
    }
    d.statsBytes = bytes;
    d.statsSeconds = (performance.now() - started) / 1000;
  }
  return d;
}
