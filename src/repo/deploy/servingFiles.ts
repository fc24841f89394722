import { existsSync } from 'node:fs';
import { basename, extname, join, posix } from 'node:path';
import { MvmError } from '../../errors.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import type { FileEntry } from '../../core/objects.js';
import type { ExportTarget } from './envConfig.js';

/** The backend Triton runs a model file with, by the name it expects in a version folder (`model.<ext>`). */
const TRITON_BACKENDS: Record<string, string> = {
  '.onnx': 'onnxruntime',
  '.pt': 'pytorch',
  '.plan': 'tensorrt',
  '.graphdef': 'tensorflow',
};

/** One file of a version as an export writes it: its path in the version, its path in the version folder. */
export interface ServedFile {
  path: string;
  rel: string;
  entry: FileEntry;
}

/**
 * The files of a version an export writes, and where in the version folder. `path` names a folder (its files,
 * relative to it) or one file (written under its own name). For Triton without `path`, a version whose one model
 * file (.onnx, .pt, .plan, .graphdef) is not `model.<ext>` at its top is served from that file's folder, the file
 * named `model.<ext>`, which is where Triton looks.
 */
export function servedFiles(files: Record<string, FileEntry>, target: ExportTarget, id: string): ServedFile[] {
  const all = Object.entries(files);
  if (target.path && Object.hasOwn(files, target.path.replace(/\/+$/, ''))) {
    const path = target.path.replace(/\/+$/, '');
    return [{ path, rel: posix.basename(path), entry: files[path]! }];
  }
  let prefix = target.path ? target.path.replace(/\/+$/, '') + '/' : '';
  let model: string | null = null;
  if (target.layout === 'triton' && !target.path) {
    const models = all.map(([p]) => p).filter((p) => Object.hasOwn(TRITON_BACKENDS, extname(p)));
    const atTop = models.some((p) => p === `model${extname(p)}`);
    if (models.length === 1 && !atTop) {
      model = models[0]!;
      const dir = posix.dirname(model);
      prefix = dir === '.' ? '' : `${dir}/`;
    }
  }
  const out = all
    .filter(([p]) => !prefix || p.startsWith(prefix))
    .map(([path, entry]) => ({
      path,
      rel: path === model ? `model${extname(path)}` : path.slice(prefix.length),
      entry,
    }));
  if (!out.length) {
    throw new MvmError(
      'PATH_NOT_FOUND',
      `version ${id.slice(0, 12)} has no files${prefix ? ` under ${prefix}` : ''} to export`,
      { id, path: target.path ?? null },
    );
  }
  const renamed = model ? out.filter((f) => f.rel === `model${extname(model!)}`) : [];
  if (renamed.length > 1)
    throw new MvmError(
      'EXPORT_CONFLICT',
      `${model} would be served as ${renamed[0]!.rel}, which its folder holds too`,
      {
        id,
        hint: 'name the folder or file to serve with --path',
      },
    );
  return out;
}

/**
 * Triton needs a `config.pbtxt` in the model's folder unless it can build one: a model folder without one gets the
 * model's name and the backend of its model file (never replacing one that is there). Returns the file written.
 */
export function tritonConfig(modelDir: string, name: string, served: ServedFile[]): string | null {
  const path = join(modelDir, 'config.pbtxt');
  if (existsSync(path)) return null;
  const model = served.find((f) => basename(f.rel) === f.rel && f.rel.startsWith('model.'));
  const backend = model ? TRITON_BACKENDS[extname(model.rel)] : undefined;
  if (!backend) return null;
  writeFileAtomic(path, `name: ${JSON.stringify(name)}\nbackend: ${JSON.stringify(backend)}\n`, { tmpDir: modelDir });
  return path;
}
