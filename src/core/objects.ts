import { MvmError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import type { ObjectId } from './ids.js';
import { isCount, isId, isOptionalString, isRecord, isScalar, nameMap, shown } from './schema.js';

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
  /**
   * For a version replayed onto another history (`mvm pull` after both sides
   * made versions): the version it replays and that version's first parent.
   */
  replayOf?: { id: ObjectId; parent: ObjectId | null };
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
  return new MvmError('OBJECT_CORRUPT', `object ${id} is not a valid manifest (${why})`, {
    id,
    hint: "run 'mvm fsck'",
  });
}

function parseJson(bytes: Uint8Array, id: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw bad(id, 'not JSON');
  }
  if (!isRecord(v)) throw bad(id, 'not an object');
  // JSON.parse reads 1e999 as Infinity, which no object may hold (it could not be written back, even in a field kept
  // unread)
  if (!allFinite(v)) throw bad(id, 'a number is out of range');
  if (typeof v.format !== 'number' || !Number.isInteger(v.format) || v.format < 1)
    throw bad(id, `format is ${shown(v.format)}`);
  if (v.format > OBJECT_FORMAT) {
    throw new MvmError(
      'OBJECT_CORRUPT',
      `object ${id} has format ${String(v.format)}, newer than this mvm understands`,
      { id, hint: 'upgrade mvm' },
    );
  }
  return v;
}

/** True when every number anywhere in a parsed JSON value is finite. */
function allFinite(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return true;
}

/** A map of scalars (meta, params, metrics), absent meaning empty, as a null-prototype copy. */
function scalarMap(v: unknown, field: string, id: string): Record<string, Scalar> {
  const out = nameMap<Scalar>();
  if (v === undefined) return out;
  if (!isRecord(v)) throw bad(id, `${field} is not an object`);
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (!isScalar(x))
      throw bad(id, `${field}[${JSON.stringify(k)}] is ${shown(x)}, not a finite number, string or boolean`);
    out[k] = x;
  }
  return out;
}

function checkString(o: Record<string, unknown>, field: string, id: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw bad(id, `${field} is ${shown(v)}, not a string`);
  return v;
}

/** An object as read, its unknown fields kept (format 1 allows them), with its type and format. */
function kept<T extends string>(
  o: Record<string, unknown>,
  type: T,
): Record<string, unknown> & { type: T; format: number } {
  return { ...o, type, format: o.format as number };
}

/** Who made a version or annotation, and when: its author and time, checked. */
function authored(o: Record<string, unknown>, id: string): { author: string; time: string } {
  return { author: checkString(o, 'author', id), time: checkString(o, 'time', id) };
}

function checkTensor(t: unknown, i: number, size: number, chunks: number, id: string): TensorEntry {
  const where = `layout.tensors[${i}]`;
  if (!isRecord(t)) throw bad(id, `${where} is not an object`);
  if (typeof t.name !== 'string' || typeof t.dtype !== 'string') throw bad(id, `${where} has no string name and dtype`);
  if (!Array.isArray(t.shape) || !t.shape.every(isCount))
    throw bad(id, `${where}.shape is not a list of whole numbers`);
  const { start, end, chunkStart, chunkEnd } = t;
  if (!isCount(start) || !isCount(end) || start > end || end > size)
    throw bad(id, `${where} byte range ${shown(start)}..${shown(end)} is not within the file's ${size} bytes`);
  if (!isCount(chunkStart) || !isCount(chunkEnd) || chunkStart > chunkEnd || chunkEnd > chunks)
    throw bad(id, `${where} chunk range ${shown(chunkStart)}..${shown(chunkEnd)} is not within its ${chunks} chunks`);
  return { ...t, name: t.name, dtype: t.dtype, shape: t.shape as number[], start, end, chunkStart, chunkEnd };
}

function checkLayout(v: unknown, size: number, chunks: number, id: string): FileLayout | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v) || typeof v.format !== 'string' || !Array.isArray(v.tensors))
    throw bad(id, 'layout is not {format, tensors}');
  if (v.unlisted !== undefined && !isCount(v.unlisted)) throw bad(id, `layout.unlisted is ${shown(v.unlisted)}`);
  const tensors = v.tensors.map((t, i) => checkTensor(t, i, size, chunks, id));
  return { ...v, format: v.format, tensors, ...(v.unlisted !== undefined ? { unlisted: v.unlisted } : {}) };
}

/** Parses a file object, checking every field: chunks, sizes, and a layout within the file's bytes and chunks. */
export function decodeFileObject(bytes: Uint8Array, id: string): FileObject {
  const o = parseJson(bytes, id);
  if (o.type !== 'file' || !Array.isArray(o.chunks) || !isCount(o.size)) throw bad(id, 'not a file object');
  if (!isCount(o.chunkSize) || o.chunkSize === 0) throw bad(id, `chunkSize is ${shown(o.chunkSize)}`);
  let total = 0;
  const chunks: ChunkRef[] = (o.chunks as unknown[]).map((c) => {
    if (!Array.isArray(c) || c.length !== 2 || !isId(c[0]) || !isCount(c[1])) throw bad(id, 'bad chunk entry');
    total += c[1];
    return { id: c[0], size: c[1] };
  });
  if (total !== o.size) throw bad(id, 'chunk sizes do not add up');
  const layout = checkLayout(o.layout, o.size, chunks.length, id);
  return {
    ...kept(o, 'file'),
    size: o.size,
    chunkSize: o.chunkSize,
    chunks,
    ...(layout ? { layout } : {}),
  };
}

function checkFiles(v: unknown, id: string): Record<string, FileEntry> {
  if (!isRecord(v)) throw bad(id, 'files is not an object');
  const out = nameMap<FileEntry>();
  for (const p of Object.keys(v)) {
    const e = v[p];
    if (!isRecord(e) || !isId(e.file) || !isCount(e.mode) || !isCount(e.size))
      throw bad(id, `files[${JSON.stringify(p)}] is not {file: id, mode, size}`);
    out[p] = { ...e, file: e.file, mode: e.mode, size: e.size };
  }
  return out;
}

function checkDeps(v: unknown, id: string): Dependencies {
  if (v === undefined) return {};
  if (!isRecord(v)) throw bad(id, 'deps is not an object');
  if (v.base !== undefined && !isId(v.base)) throw bad(id, `deps.base is ${shown(v.base)}, not a version id`);
  let data: DataDep[] | undefined;
  if (v.data !== undefined) {
    if (!Array.isArray(v.data)) throw bad(id, `deps.data is ${shown(v.data)}, not a list`);
    data = v.data.map((d, i) => {
      if (!isRecord(d) || typeof d.id !== 'string' || !isOptionalString(d.name) || !isOptionalString(d.path))
        throw bad(id, `deps.data[${i}] is not {id, name?, path?}`);
      return { ...d, id: d.id } as DataDep;
    });
  }
  const r = v.replayOf;
  if (r !== undefined && !(isRecord(r) && isId(r.id) && (r.parent === null || isId(r.parent))))
    throw bad(id, 'deps.replayOf is not {id, parent}');
  return { ...v, ...(v.base !== undefined ? { base: v.base } : {}), ...(data ? { data } : {}) };
}

function checkGit(v: unknown, id: string): GitInfo | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v) || typeof v.commit !== 'string' || typeof v.dirty !== 'boolean' || !isOptionalString(v.branch))
    throw bad(id, 'git is not {commit, dirty, branch?}');
  return { ...v, commit: v.commit, dirty: v.dirty };
}

/**
 * Parses a version manifest, checking every field (unknown ones are kept,
 * as format 1 allows). Maps keyed by names (files, meta, params, metrics)
 * come back without a prototype.
 */
export function decodeVersion(bytes: Uint8Array, id: string): Version {
  const o = parseJson(bytes, id);
  if (o.type !== 'version') throw bad(id, `expected a version, found ${shown(o.type)}`);
  if (!Array.isArray(o.parents) || !o.parents.every(isId)) throw bad(id, 'parents is not a list of version ids');
  const git = checkGit(o.git, id);
  return {
    ...kept(o, 'version'),
    parents: o.parents,
    ...authored(o, id),
    message: checkString(o, 'message', id),
    files: checkFiles(o.files, id),
    meta: scalarMap(o.meta, 'meta', id),
    params: scalarMap(o.params, 'params', id),
    metrics: scalarMap(o.metrics, 'metrics', id),
    deps: checkDeps(o.deps, id),
    ...(git ? { git } : {}),
  };
}

/** Parses an annotation object, checking every field; its metrics come back without a prototype. */
export function decodeAnnotation(bytes: Uint8Array, id: string): Annotation {
  const o = parseJson(bytes, id);
  if (o.type !== 'annotation') throw bad(id, `expected an annotation, found ${shown(o.type)}`);
  if (!isId(o.target)) throw bad(id, `target is ${shown(o.target)}, not a version id`);
  if (!isOptionalString(o.note)) throw bad(id, `note is ${shown(o.note)}, not a string`);
  return {
    ...kept(o, 'annotation'),
    target: o.target,
    ...authored(o, id),
    metrics: scalarMap(o.metrics, 'metrics', id),
  };
}
