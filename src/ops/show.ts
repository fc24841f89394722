import type { Annotation, Version } from '../core/objects.js';
import type { Repository } from './repository.js';
import { resolveRevision, numberOf } from './resolve.js';
import { refNames } from './log.js';
import type { AnnotationLogEntry } from './versionIndex.js';

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

/** Annotations attached to a version, oldest first. */
export function annotationsOf(repo: Repository, id: string): (Annotation & { id: string })[] {
  return repo.refs
    .readLog<AnnotationLogEntry>('annotations')
    .filter((e) => e.target === id)
    .map((e) => ({ ...repo.annotation(e.annotation), id: e.annotation }));
}

/** Everything known about one version. */
export function show(repo: Repository, rev = 'HEAD'): ShowResult {
  const id = resolveRevision(repo, rev);
  const version = repo.version(id);
  const annotations = annotationsOf(repo, id);
  const metrics = { ...version.metrics };
  for (const a of annotations) Object.assign(metrics, a.metrics);
  return {
    id,
    number: numberOf(repo, id),
    refs: refNames(repo).get(id) ?? [],
    version,
    annotations,
    metrics,
    logicalBytes: Object.values(version.files).reduce((s, f) => s + f.size, 0),
  };
}
