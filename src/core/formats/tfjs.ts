/**
 * TensorFlow.js weight shards. A TF.js model is a `model.json` (topology and
 * a `weightsManifest`) beside binary shards such as `group1-shard1of3.bin`;
 * older exports and face-api style models keep the manifest alone in
 * `<name>-weights_manifest.json`, a JSON array of the same groups, beside
 * shards such as `<name>-shard1`. Each manifest group lists its shard files
 * in order and its weights in order: the weights' bytes are concatenated and
 * cut into the shards, so a weight may start in one shard and end in the
 * next. A shard has no header of its own: its layout comes from the
 * manifest and the sizes of the shards before it, which the caller reads
 * from the shard's folder.
 */
import type { Layout, TensorInfo } from './types.js';

/** Bytes per element, and the dtype name mvm records (as in safetensors), by TF.js dtype. */
const DTYPES: Readonly<Record<string, [bytes: number, dtype: string]>> = {
  float32: [4, 'F32'],
  int32: [4, 'I32'],
  bool: [1, 'BOOL'],
  complex64: [8, 'C64'],
};

/** Quantized weights are stored as these dtypes instead (`quantization.dtype`). */
const QUANTIZED: Readonly<Record<string, [bytes: number, dtype: string]>> = {
  uint8: [1, 'U8'],
  uint16: [2, 'U16'],
  float16: [2, 'F16'],
};

/** The manifest's usual file name, beside the shards; asked before the folder's other `.json` files. */
export const TFJS_MANIFEST = 'model.json';

/** A shard name that stays in the manifest's folder: no separators, not `.` or `..`. */
function plainName(p: unknown): string | null {
  if (typeof p !== 'string') return null;
  const name = p.startsWith('./') ? p.slice(2) : p;
  return name && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) ? name : null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The weight groups of a manifest's text: the `weightsManifest` of a
 * model.json, or the array a `*weights_manifest.json` holds; null when the
 * text is neither.
 */
export function tfjsManifestGroups(text: string): unknown[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (Array.isArray(doc)) return doc;
  return isRecord(doc) && Array.isArray(doc.weightsManifest) ? doc.weightsManifest : null;
}

/**
 * The layout of the shard `shard` from its folder's manifest (its text, or
 * its groups from tfjsManifestGroups), given the size of each file of that
 * folder (`sizeOf`, null when absent). Null when the manifest does not list
 * the shard, is malformed, or does not add up to the shards' sizes. A weight
 * of dtype `string` (variable length) ends the weights that can be placed.
 */
export function tfjsShardLayout(
  manifest: string | unknown[],
  shard: string,
  sizeOf: (name: string) => number | null,
): Layout | null {
  const groups = typeof manifest === 'string' ? tfjsManifestGroups(manifest) : manifest;
  if (!groups) return null;
  for (const group of groups) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) continue;
    const names = group.paths.map(plainName);
    const at = names.indexOf(shard);
    if (at < 0) continue;
    if (names.some((n) => n === null)) return null;
    let offset = 0;
    let total = 0;
    for (let i = 0; i < names.length; i++) {
      const size = sizeOf(names[i]!);
      if (size === null || !Number.isSafeInteger(size) || size < 0) return null;
      if (i < at) offset += size;
      total += size;
    }
    const size = sizeOf(shard)!;
    const tensors: TensorInfo[] = [];
    let pos = 0;
    for (const w of group.weights) {
      if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string')
        return null;
      if (!w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return null;
      if (w.dtype === 'string') break;
      const q = isRecord(w.quantization) ? w.quantization.dtype : undefined;
      const kind =
        q === undefined
          ? Object.hasOwn(DTYPES, w.dtype)
            ? DTYPES[w.dtype]
            : undefined
          : typeof q === 'string' && Object.hasOwn(QUANTIZED, q)
            ? QUANTIZED[q]
            : undefined;
      if (!kind) return null;
      const bytes = (w.shape as number[]).reduce((a, b) => a * b, 1) * kind[0];
      if (!Number.isSafeInteger(bytes)) return null;
      const start = Math.max(pos, offset);
      const end = Math.min(pos + bytes, offset + size);
      if (start < end || (bytes === 0 && pos >= offset && pos < offset + size)) {
        tensors.push({
          name: w.name,
          dtype: kind[1],
          shape: w.shape as number[],
          start: start - offset,
          end: Math.max(start, end) - offset,
        });
      }
      pos += bytes;
      if (pos > total) return null;
    }
    return { format: 'tfjs', tensors };
  }
  return null;
}
