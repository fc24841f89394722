import type { FileEntry, FileObject, TensorEntry, Version } from './objects.js';
import type { TensorDiffStats } from './tensorStats.js';

/** How a path differs between two versions. */
export type FileStatus = 'added' | 'removed' | 'modified' | 'mode' | 'unchanged';

/** How one tensor differs between two versions of a model file. */
export interface TensorChange {
  name: string;
  status: 'added' | 'removed' | 'retyped' | 'reshaped' | 'values';
  dtype: [string | null, string | null];
  shape: [number[] | null, number[] | null];
  chunksChanged: number;
  chunksTotal: number;
  bytes: number;
  /** Value statistics, filled in by `diff --stats` for tensors whose values changed. */
  stats?: TensorDiffStats;
  /** Why `diff --stats` has no statistics for this tensor (unsupported dtype, or chunk layouts that differ). */
  statsSkipped?: string;
}

/** Tensors grouped by layer (the name up to its first numeric part), with how many changed. */
export interface LayerSummary {
  layer: string;
  changed: number;
  total: number;
}

/** The difference of one path. */
export interface FileDiff {
  path: string;
  status: FileStatus;
  oldSize: number | null;
  newSize: number | null;
  oldMode: number | null;
  newMode: number | null;
  /** Chunks of the new file whose ids the old file does not have, of all the new file's chunks. */
  chunksChanged: number;
  chunksTotal: number;
  /** Bytes in those new chunks: what storing the new file costs after dedup against the old one. */
  bytesNew: number;
  /** Present when both sides are model files whose tensors mvm understands. */
  tensors?: {
    format: string;
    changes: TensorChange[];
    unchanged: number;
    layers: LayerSummary[];
    /** Small tensors not listed in the newer (and older) file, compared only through their chunks. */
    unlisted?: [number, number];
  };
  /** Changes in the model's own metadata (safetensors `__metadata__`, GGUF key-values, ONNX props). */
  metadata?: { key: string; from: string | null; to: string | null }[];
}

/** The difference between two versions, path by path. */
export interface VersionDiff {
  files: FileDiff[];
  totals: {
    added: number;
    removed: number;
    modified: number;
    unchanged: number;
    chunksChanged: number;
    chunksTotal: number;
    bytesNew: number;
  };
}

/** Looks up a file object by id (already loaded by the caller). */
export type FileLookup = (id: string) => FileObject;

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function tensorChunks(f: FileObject, t: TensorEntry): string[] {
  return f.chunks.slice(t.chunkStart, t.chunkEnd).map((c) => c.id);
}

/**
 * The layer a tensor belongs to: its name up to the first all-digit part,
 * e.g. `model.layers.12.*`; for a path-like name with no dot (Keras and HDF5
 * datasets, `layers/dense_2/vars/0`), the group that holds it
 * (`layers/dense_2/vars/*`). A name that joins several with `;` (TFLite's
 * fused ops, `a/dense/MatMul;a/dense/BiasAdd`) is grouped by its first.
 */
export function layerOf(name: string): string {
  const semi = name.indexOf(';');
  if (semi > 0) return layerOf(name.slice(0, semi));
  const slash = name.lastIndexOf('/');
  if (slash > 0 && !name.includes('.')) return `${name.slice(0, slash)}/*`;
  const parts = name.split('.');
  const i = parts.findIndex((p) => /^\d+$/.test(p));
  if (i >= 0) return parts.slice(0, i + 1).join('.') + '.*';
  return parts.length > 1 ? parts.slice(0, -1).join('.') + '.*' : name;
}

/** Compares the tensor maps of two versions of one model file; reads no chunk data. */
export function diffTensors(a: FileObject, b: FileObject): FileDiff['tensors'] | undefined {
  if (!a.layout || !b.layout) return undefined;
  const before = new Map(a.layout.tensors.map((t) => [t.name, t]));
  const after = new Map(b.layout.tensors.map((t) => [t.name, t]));
  const changes: TensorChange[] = [];
  const layers = new Map<string, LayerSummary>();
  let unchanged = 0;
  const count = (name: string, changed: boolean) => {
    const l = layerOf(name);
    const s = layers.get(l) ?? { layer: l, changed: 0, total: 0 };
    s.total++;
    if (changed) s.changed++;
    layers.set(l, s);
  };
  for (const [name, tb] of after) {
    const ta = before.get(name);
    const idsB = tensorChunks(b, tb);
    if (!ta) {
      changes.push({
        name,
        status: 'added',
        dtype: [null, tb.dtype],
        shape: [null, tb.shape],
        chunksChanged: idsB.length,
        chunksTotal: idsB.length,
        bytes: tb.end - tb.start,
      });
      count(name, true);
      continue;
    }
    const idsA = tensorChunks(a, ta);
    const setA = new Set(idsA);
    const diffIdx =
      idsA.length === idsB.length
        ? idsB.filter((id, i) => id !== idsA[i]).length
        : idsB.filter((id) => !setA.has(id)).length;
    const status: TensorChange['status'] | null =
      ta.dtype !== tb.dtype ? 'retyped' : !sameShape(ta.shape, tb.shape) ? 'reshaped' : diffIdx > 0 ? 'values' : null;
    count(name, status !== null);
    if (!status) {
      unchanged++;
      continue;
    }
    const bytes = b.chunks.slice(tb.chunkStart, tb.chunkEnd).reduce((s, c) => s + (setA.has(c.id) ? 0 : c.size), 0);
    changes.push({
      name,
      status,
      dtype: [ta.dtype, tb.dtype],
      shape: [ta.shape, tb.shape],
      chunksChanged: diffIdx,
      chunksTotal: idsB.length,
      bytes,
    });
  }
  for (const [name, ta] of before) {
    if (after.has(name)) continue;
    const n = ta.chunkEnd - ta.chunkStart;
    changes.push({
      name,
      status: 'removed',
      dtype: [ta.dtype, null],
      shape: [ta.shape, null],
      chunksChanged: n,
      chunksTotal: 0,
      bytes: 0,
    });
    count(name, true);
  }
  const out: NonNullable<FileDiff['tensors']> = {
    format: b.layout.format,
    changes,
    unchanged,
    layers: [...layers.values()].filter((l) => l.changed > 0),
  };
  if (a.layout.unlisted || b.layout.unlisted) out.unlisted = [a.layout.unlisted ?? 0, b.layout.unlisted ?? 0];
  return out;
}

function diffFile(path: string, ea: FileEntry | undefined, eb: FileEntry | undefined, lookup: FileLookup): FileDiff {
  const d: FileDiff = {
    path,
    status: 'unchanged',
    oldSize: ea?.size ?? null,
    newSize: eb?.size ?? null,
    oldMode: ea?.mode ?? null,
    newMode: eb?.mode ?? null,
    chunksChanged: 0,
    chunksTotal: 0,
    bytesNew: 0,
  };
  if (!ea && eb) {
    const fb = lookup(eb.file);
    const unique = new Map(fb.chunks.map((c) => [c.id, c.size]));
    return {
      ...d,
      status: 'added',
      chunksChanged: fb.chunks.length,
      chunksTotal: fb.chunks.length,
      bytesNew: [...unique.values()].reduce((a, b) => a + b, 0),
    };
  }
  if (ea && !eb) return { ...d, status: 'removed' };
  if (!ea || !eb) return d;
  if (ea.file === eb.file)
    return { ...d, status: ea.mode === eb.mode ? 'unchanged' : 'mode', chunksTotal: lookup(eb.file).chunks.length };
  const fa = lookup(ea.file);
  const fb = lookup(eb.file);
  const have = new Set(fa.chunks.map((c) => c.id));
  let changed = 0;
  let bytes = 0;
  const seen = new Set<string>();
  for (const c of fb.chunks) {
    if (have.has(c.id)) continue;
    changed++;
    if (!seen.has(c.id)) bytes += c.size;
    seen.add(c.id);
  }
  return {
    ...d,
    status: 'modified',
    chunksChanged: changed,
    chunksTotal: fb.chunks.length,
    bytesNew: bytes,
    tensors: diffTensors(fa, fb),
  };
}

/** Compares two versions' file maps (either may be empty); pure: file objects come from `lookup`. */
export function diffVersions(
  a: Pick<Version, 'files'> | null,
  b: Pick<Version, 'files'> | null,
  lookup: FileLookup,
): VersionDiff {
  const fa = a?.files ?? {};
  const fb = b?.files ?? {};
  const paths = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  // own entries only: a path named `constructor` must not find Object.prototype's
  const at = (m: Record<string, FileEntry>, p: string) => (Object.hasOwn(m, p) ? m[p] : undefined);
  const files = paths.map((p) => diffFile(p, at(fa, p), at(fb, p), lookup));
  const totals = { added: 0, removed: 0, modified: 0, unchanged: 0, chunksChanged: 0, chunksTotal: 0, bytesNew: 0 };
  for (const f of files) {
    if (f.status === 'added') totals.added++;
    else if (f.status === 'removed') totals.removed++;
    else if (f.status === 'unchanged') totals.unchanged++;
    else totals.modified++;
    totals.chunksChanged += f.chunksChanged;
    totals.chunksTotal += f.chunksTotal;
    totals.bytesNew += f.bytesNew;
  }
  return { files, totals };
}
