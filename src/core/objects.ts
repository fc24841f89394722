import { MvmError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import { isObjectId, type ObjectId } from './ids.js';

/** Format number written into every JSON object; readers refuse newer ones. */
export const OBJECT_FORMAT = 1;

/** A scalar value of a metric, parameter or metadata entry. */
export type Scalar = number | string | boolean;

/** One chunk of a file: its id and length in bytes. */
export interface ChunkRef {
  id: ObjectId;
  size: number;
}

/** A tensor inside a model file and the chunks that hold it. */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file, end exclusive. */
  start: number;
  end: number;
  /** Range of indexes into the file's chunk list, end exclusive. */
  chunkStart: number;
  chunkEnd: number;
}

/** How a file was cut: plain fixed-size chunks, or tensor-aligned for a recognised model format. */
export interface FileLayout {
  format: string;
  tensors: TensorEntry[];
  /** How many small tensors are not listed (a file with very many tensors: they were chunked in packed runs). */
  unlisted?: number;
}

/** A file object: the ordered chunks that make up one file's bytes. */
export interface FileObject {
  type: 'file';
  format: number;
  size: number;
  chunkSize: number;
  chunks: ChunkRef[];
  layout?: FileLayout;
}

/** One path in a version: the file object holding its bytes, its mode and size. */
export interface FileEntry {
  file: ObjectId;
  mode: number;
  size: number;
}

/** A dataset a version was trained or evaluated on. */
export interface DataDep {
  name?: string;
  path?: string;
  id: string;
}

/** What a version depends on: the base model it was tuned from, and data. */
export interface Dependencies {
  base?: ObjectId;
  data?: DataDep[];
}

/** The state of the enclosing git repository when the version was made. */
export interface GitInfo {
  commit: string;
  dirty: boolean;
  branch?: string;
}

/** A version manifest: one node of the version DAG. */
export interface Version {
  type: 'version';
  format: number;
  parents: ObjectId[];
  author: string;
  /** ISO-8601 UTC timestamp. */
  time: string;
  message: string;
  files: Record<string, FileEntry>;
  meta: Record<string, Scalar>;
  params: Record<string, Scalar>;
  metrics: Record<string, Scalar>;
  deps: Dependencies;
  git?: GitInfo;
}

/** A fact attached to a version after it was made (metrics from a later evaluation, a note). */
export interface Annotation {
  type: 'annotation';
  format: number;
  target: ObjectId;
  author: string;
  time: string;
  metrics: Record<string, Scalar>;
  note?: string;
}

/** A line of the append-only log `logs/annotations`: which annotation object belongs to which version. */
export interface AnnotationLogEntry {
  target: ObjectId;
  annotation: ObjectId;
}

/** The canonical bytes of a JSON object. */
export function encodeJsonObject(obj: FileObject | Version | Annotation): Buffer {
  if (obj.type === 'file') {
    // Chunks as [id, size] pairs: a 4 GiB file has 4096 of them, and the short form halves parse time.
    const { chunks, ...rest } = obj;
    return Buffer.from(canonicalJson({ ...rest, chunks: chunks.map((c) => [c.id, c.size]) }));
  }
  return Buffer.from(canonicalJson(obj));
}

function bad(id: string, why: string): MvmError {
  return new MvmError('OBJECT_CORRUPT', `object ${id} is not a valid manifest (${why})`, { id, hint: "run 'mvm fsck'" });
}

function parseJson(bytes: Uint8Array, id: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw bad(id, 'not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(id, 'not an object');
  const o = v as Record<string, unknown>;
  if (typeof o.format !== 'number' || o.format > OBJECT_FORMAT) {
    throw new MvmError('OBJECT_CORRUPT', `object ${id} has format ${String(o.format)}, newer than this mvm understands`, { id, hint: 'upgrade mvm' });
  }
  return o;
}

/** Parses a file object, checking its shape. */
export function decodeFileObject(bytes: Uint8Array, id: string): FileObject {
  const o = parseJson(bytes, id);
  if (o.type !== 'file' || !Array.isArray(o.chunks) || typeof o.size !== 'number') throw bad(id, 'not a file object');
  let total = 0;
  const chunks: ChunkRef[] = (o.chunks as unknown[]).map((c) => {
    if (!Array.isArray(c) || typeof c[0] !== 'string' || !isObjectId(c[0]) || typeof c[1] !== 'number') throw bad(id, 'bad chunk entry');
    total += c[1];
    return { id: c[0], size: c[1] };
  });
  if (total !== o.size) throw bad(id, 'chunk sizes do not add up');
  return { ...(o as unknown as FileObject), chunks };
}

/** Parses a version manifest, checking its shape. */
export function decodeVersion(bytes: Uint8Array, id: string): Version {
  const o = parseJson(bytes, id);
  if (o.type !== 'version') throw bad(id, `expected a version, found ${String(o.type)}`);
  if (!Array.isArray(o.parents) || !o.parents.every((p) => typeof p === 'string' && isObjectId(p))) throw bad(id, 'bad parents');
  if (!o.files || typeof o.files !== 'object') throw bad(id, 'bad files');
  const v = o as unknown as Partial<Version>;
  return { ...(v as Version), meta: v.meta ?? {}, params: v.params ?? {}, metrics: v.metrics ?? {}, deps: v.deps ?? {} };
}

/** Parses an annotation object. */
export function decodeAnnotation(bytes: Uint8Array, id: string): Annotation {
  const o = parseJson(bytes, id);
  if (o.type !== 'annotation' || typeof o.target !== 'string') throw bad(id, 'not an annotation');
  const a = o as unknown as Partial<Annotation>;
  return { ...(a as Annotation), metrics: a.metrics ?? {} };
}
