import { closeSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { validateLayout } from '../../core/formats/detect.js';
import { TFJS_MANIFEST, tfjsShardLayout } from '../../core/formats/tfjs.js';
import { bundleIndexFor, bundleShardLayout } from '../../core/formats/tfBundle.js';
import { BUNDLE_INDEX_MAX_BYTES, ONNX_MAX_BYTES, TFJS_MANIFEST_MAX_BYTES } from '../../core/limits.js';
import { onnxExternalData, type ExternalTensor } from '../../core/formats/onnx.js';
import type { Layout } from '../../core/formats/types.js';
import { fdSource } from './fileSource.js';

/**
 * Layouts of weight files that have no header of their own and are described
 * by a file beside them: TensorFlow.js shards (by `model.json`), the data
 * files of TensorFlow checkpoints and SavedModel variables (by
 * `<prefix>.index`), and ONNX external-data files (by a `.onnx` model that
 * names them). The describing file must be a regular file (not a link) of
 * bounded size; anything odd gives no layout (plain chunking).
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
  if (name === TFJS_MANIFEST || name.toLowerCase().endsWith('.onnx')) return null;
  const manifest = readSmall(join(dir, TFJS_MANIFEST), TFJS_MANIFEST_MAX_BYTES);
  if (!manifest) return onnxExternalLayout(dir, name, size);
  const sizeOf = (n: string): number | null => {
    if (n === name) return size;
    try {
      const st = lstatSync(join(dir, n));
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  };
  const layout = tfjsShardLayout(manifest.toString('utf8'), name, sizeOf);
  return (layout && validateLayout(layout, size)) ?? onnxExternalLayout(dir, name, size);
}

/** At most this many `.onnx` files of a folder are asked whether they keep tensors in a file (in name order). */
const MAX_ONNX_MODELS = 16;

/** The tensors an ONNX model beside the file keeps in it (its external data), as that file's layout. */
async function onnxExternalLayout(dir: string, name: string, size: number): Promise<Layout | null> {
  // a file this small is one chunk either way: not worth asking the models
  if (size < MIN_EXTERNAL_BYTES) return null;
  for (const m of onnxModelsIn(dir)) {
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
 * The .onnx files of folders listed by this process, while the folder's mtime stays the same (a folder of many files is
 * listed once).
 */
const modelsCache = new Map<string, { stamp: number; models: string[] }>();

function onnxModelsIn(dir: string): string[] {
  try {
    const stamp = lstatSync(dir).mtimeMs;
    const hit = modelsCache.get(dir);
    if (hit?.stamp === stamp) return hit.models;
    const models = readdirSync(dir)
      .filter((n) => n.toLowerCase().endsWith('.onnx'))
      .sort()
      .slice(0, MAX_ONNX_MODELS);
    if (modelsCache.size >= 64) modelsCache.clear();
    modelsCache.set(dir, { stamp, models });
    return models;
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
