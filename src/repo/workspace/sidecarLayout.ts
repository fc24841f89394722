import { closeSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { validateLayout } from '../../core/formats/detect.js';
import { TFJS_MANIFEST, tfjsManifestGroups, tfjsShardLayout } from '../../core/formats/tfjs.js';
import { bundleIndexFor, bundleShardLayout } from '../../core/formats/tfBundle.js';
import { BUNDLE_INDEX_MAX_BYTES, ONNX_MAX_BYTES, TFJS_MANIFEST_MAX_BYTES } from '../../core/limits.js';
import { onnxExternalData, type ExternalTensor } from '../../core/formats/onnx.js';
import type { Layout } from '../../core/formats/types.js';
import { fdSource } from './fileSource.js';

/**
 * Layouts of weight files that have no header of their own and are described
 * by a file beside them: TensorFlow.js shards (by a weights manifest: the
 * `weightsManifest` of `model.json` or another `.json` file, or a
 * `*weights_manifest.json` array), the data files of TensorFlow checkpoints
 * and SavedModel variables (by `<prefix>.index`), and ONNX external-data
 * files (by a `.onnx` model that names them). The describing file must be a
 * regular file (not a link) of bounded size; anything odd gives no layout
 * (plain chunking).
 */
export async function sidecarLayout(abs: string, size: number): Promise<Layout | null> {
  const dir = dirname(abs);
  const name = basename(abs);
  const bundle = bundleIndexFor(name);
  if (bundle) {
    const index = readSmall(join(dir, bundle.index), BUNDLE_INDEX_MAX_BYTES);
    const layout = index && bundleShardLayout(index, bundle.shard, size);
    return layout && validateLayout(layout, size);
  }
  const lower = name.toLowerCase();
  if (lower.endsWith('.json') || lower.endsWith('.onnx')) return null;
  return tfjsLayout(dir, name, size) ?? onnxExternalLayout(dir, name, size);
}

/** At most this many `.json` files of a folder are asked whether they list a shard (`model.json` first). */
const MAX_MANIFESTS = 16;

/** The layout the first weights manifest of the folder that lists the file gives it. */
function tfjsLayout(dir: string, name: string, size: number): Layout | null {
  const sizeOf = (n: string): number | null => {
    if (n === name) return size;
    try {
      const st = lstatSync(join(dir, n));
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  };
  const manifests = filesIn(dir, '.json').sort((a, b) => Number(b === TFJS_MANIFEST) - Number(a === TFJS_MANIFEST));
  for (const m of manifests.slice(0, MAX_MANIFESTS)) {
    const groups = manifestGroupsOf(join(dir, m));
    const layout = groups && tfjsShardLayout(groups, name, sizeOf);
    const valid = layout && validateLayout(layout, size);
    if (valid) return valid;
  }
  return null;
}

/** Weight groups of the manifests read by this process, by path, while their size and mtime stay the same. */
const manifestCache = new Map<string, { stamp: string; groups: unknown[] | null }>();

/** A `.json` file's weight groups; null when it is not a manifest (one without `"paths"` is not parsed). */
function manifestGroupsOf(path: string): unknown[] | null {
  let stamp: string;
  try {
    const st = lstatSync(path);
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch {
    return null;
  }
  const hit = manifestCache.get(path);
  if (hit?.stamp === stamp) return hit.groups;
  const text = readSmall(path, TFJS_MANIFEST_MAX_BYTES);
  const groups = text?.includes('"paths"') ? tfjsManifestGroups(text.toString('utf8')) : null;
  if (manifestCache.size >= MAX_MANIFESTS) manifestCache.clear();
  manifestCache.set(path, { stamp, groups });
  return groups;
}

/** At most this many `.onnx` files of a folder are asked whether they keep tensors in a file (in name order). */
const MAX_ONNX_MODELS = 16;

/** The tensors an ONNX model beside the file keeps in it (its external data), as that file's layout. */
async function onnxExternalLayout(dir: string, name: string, size: number): Promise<Layout | null> {
  // a file this small is one chunk either way: not worth asking the models
  if (size < MIN_EXTERNAL_BYTES) return null;
  for (const m of filesIn(dir, '.onnx').slice(0, MAX_ONNX_MODELS)) {
    const mine = (await externalTensorsOf(join(dir, m)))?.filter(
      (e) => (e.location.startsWith('./') ? e.location.slice(2) : e.location) === name,
    );
    if (!mine?.length) continue;
    return validateLayout(
      {
        format: 'onnx',
        tensors: mine.map((e) => ({
          name: e.name,
          dtype: e.dtype,
          shape: e.shape,
          start: e.offset,
          end: e.offset + e.length,
        })),
      },
      size,
    );
  }
  return null;
}

/** Below this size a file is not matched with the ONNX models beside it. */
const MIN_EXTERNAL_BYTES = 4096;

/**
 * The files of a folder whose names end in `ext` (any case), in name order,
 * as listed by this process while the folder's mtime stays the same (a
 * folder of many files is listed once per extension).
 */
const listCache = new Map<string, { stamp: number; names: string[] }>();

function filesIn(dir: string, ext: string): string[] {
  try {
    const stamp = lstatSync(dir).mtimeMs;
    const key = `${ext}\0${dir}`;
    const hit = listCache.get(key);
    if (hit?.stamp === stamp) return [...hit.names];
    const names = readdirSync(dir)
      .filter((n) => n.toLowerCase().endsWith(ext))
      .sort();
    if (listCache.size >= 64) listCache.clear();
    listCache.set(key, { stamp, names });
    return [...names];
  } catch {
    return [];
  }
}

/** External tensors of the .onnx models read by this process, by path, while their size and mtime stay the same. */
const externalCache = new Map<string, { stamp: string; tensors: ExternalTensor[] | null }>();

async function externalTensorsOf(path: string): Promise<ExternalTensor[] | null> {
  let stamp: string;
  let size: number;
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > ONNX_MAX_BYTES) return null;
    stamp = `${st.size}:${st.mtimeMs}`;
    size = st.size;
  } catch {
    return null;
  }
  const hit = externalCache.get(path);
  if (hit?.stamp === stamp) return hit.tensors;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const tensors = await onnxExternalData(fdSource(fd, size));
    if (externalCache.size >= 64) externalCache.clear();
    externalCache.set(path, { stamp, tensors });
    return tensors;
  } finally {
    closeSync(fd);
  }
}

/** A regular file's bytes when it exists and is at most `max` bytes; null otherwise. */
function readSmall(path: string, max: number): Buffer | null {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > max) return null;
    return readFileSync(path);
  } catch {
    return null;
  }
}
