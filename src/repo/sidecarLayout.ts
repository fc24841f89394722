import { lstatSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { validateLayout } from '../core/formats/detect.js';
import { TFJS_MANIFEST, TFJS_MANIFEST_MAX_BYTES, tfjsShardLayout } from '../core/formats/tfjs.js';
import { BUNDLE_INDEX_MAX_BYTES, bundleIndexFor, bundleShardLayout } from '../core/formats/tfBundle.js';
import type { Layout } from '../core/formats/types.js';

/**
 * Layouts of weight files that have no header of their own and are described
 * by a file beside them: TensorFlow.js shards (by `model.json`) and the data
 * files of TensorFlow checkpoints and SavedModel variables (by
 * `<prefix>.index`). The describing file must be a regular file (not a link)
 * of bounded size; anything odd gives no layout (plain chunking).
 */
export function sidecarLayout(abs: string, size: number): Layout | null {
  const dir = dirname(abs);
  const name = basename(abs);
  const bundle = bundleIndexFor(name);
  if (bundle) {
    const index = readSmall(join(dir, bundle.index), BUNDLE_INDEX_MAX_BYTES);
    const layout = index && bundleShardLayout(index, bundle.shard, size);
    return layout && validateLayout(layout, size);
  }
  if (name === TFJS_MANIFEST) return null;
  const manifest = readSmall(join(dir, TFJS_MANIFEST), TFJS_MANIFEST_MAX_BYTES);
  if (!manifest) return null;
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
  return layout && validateLayout(layout, size);
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
