import { storedModelMetadata } from '../repo/modelMetadata.js';
import type { ModelMetadata } from '../core/formats/metadata.js';
import { setKey } from '../core/values.js';
import type { Annotation, Version } from '../core/objects.js';
import type { Repository } from '../repo/repository.js';
import { resolveRevision, numberOf } from '../repo/revisions.js';
import { refNames } from '../repo/summaries.js';
import { annotationsOf, overlayMetrics } from '../repo/annotations.js';

/** A version in full: its manifest, number, refs, annotations and stored size. */
export interface ShowResult {
  id: string;
  number: number | null;
  refs: string[];
  version: Version;
  /** Annotations oldest first, with their object ids. */
  annotations: (Annotation & { id: string })[];
  /** Metrics as recorded, overlaid by annotations (newest wins). */
  metrics: Version['metrics'];
  logicalBytes: number;
  /** Each model file's format and own metadata (safetensors `__metadata__`, GGUF key-values, ONNX props). */
  models: Record<string, ModelMetadata>;
}

/** Everything known about one version. */
export async function show(repo: Repository, rev = 'HEAD'): Promise<ShowResult> {
  const id = resolveRevision(repo, rev);
  const version = repo.version(id);
  const annotations = annotationsOf(repo, id);
  const models: Record<string, ModelMetadata> = {};
  for (const [path, e] of Object.entries(version.files)) {
    const m = await storedModelMetadata(repo, repo.file(e.file));
    if (m) setKey(models, path, m);
  }
  return {
    id,
    number: numberOf(repo, id),
    refs: refNames(repo).get(id) ?? [],
    version,
    annotations,
    metrics: overlayMetrics(version, annotations),
    logicalBytes: Object.values(version.files).reduce((s, f) => s + f.size, 0),
    models,
  };
}
