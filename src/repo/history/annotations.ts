import { mergeInto } from '../../core/values.js';
import { toNameMap } from '../../core/schema.js';
import {
  OBJECT_FORMAT,
  type Annotation,
  type AnnotationLogEntry,
  type Scalar,
  type Version,
} from '../../core/objects.js';
import { type Repository, withLock, defaultAuthor } from '../repository/index.js';
import { resolveRevision } from './revisions.js';

/** Annotations attached to a version, oldest first, with their object ids. */
export function annotationsOf(repo: Repository, id: string): (Annotation & { id: string })[] {
  return repo.refs
    .readLog<AnnotationLogEntry>('annotations')
    .filter((e) => e.target === id)
    .map((e) => ({ ...repo.annotation(e.annotation), id: e.annotation }));
}

/** A version's metrics as recorded, overlaid by its annotations (newest wins). */
export function overlayMetrics(version: Version, annotations: Pick<Annotation, 'metrics'>[]): Record<string, Scalar> {
  const metrics = toNameMap(version.metrics);
  for (const a of annotations) mergeInto(metrics, a.metrics);
  return metrics;
}

/** What recordAnnotation stored: the version annotated and the annotation object's id. */
export interface RecordedAnnotation {
  target: string;
  id: string;
  annotation: Annotation;
}

/**
 * Attaches facts that arrived later (checked metrics, a note) to the version
 * `rev` names, under the writer lock: an immutable annotation object, then
 * its line in the append-only log `logs/annotations`.
 */
export async function recordAnnotation(
  repo: Repository,
  rev: string,
  input: { metrics: Record<string, Scalar>; note?: string; author?: string },
): Promise<RecordedAnnotation> {
  return withLock(repo, 'annotate', async () => {
    const target = resolveRevision(repo, rev);
    repo.version(target);
    const annotation: Annotation = {
      type: 'annotation',
      format: OBJECT_FORMAT,
      target,
      author: defaultAuthor(repo.root, input.author),
      time: new Date().toISOString(),
      metrics: input.metrics,
      ...(input.note?.trim() ? { note: input.note.trim() } : {}),
    };
    const id = repo.putObject(annotation);
    const entry: AnnotationLogEntry = { target, annotation: id };
    repo.refs.appendLog('annotations', entry);
    return { target, id, annotation };
  });
}
