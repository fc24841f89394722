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
}

/** Everything known about one version. */
export function show(repo: Repository, rev = 'HEAD'): ShowResult {
  const id = resolveRevision(repo, rev);
  const version = repo.version(id);
  const annotations = annotationsOf(repo, id);
  return {
    id,
    number: numberOf(repo, id),
    refs: refNames(repo).get(id) ?? [],
    version,
    annotations,
    metrics: overlayMetrics(version, annotations),
    logicalBytes: Object.values(version.files).reduce((s, f) => s + f.size, 0),
  };
}
