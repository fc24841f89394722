import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MvmError } from '../../errors.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import type { ExportTarget } from './envConfig.js';
import { modelFolder } from './serving.js';

/** The first line of a `models.config` mvm writes: a file without it is someone else's, never overwritten. */
const TF_MARK = '# written by mvm follow';

/**
 * Tells the server which version to serve, besides the numbered folders: Triton's `config.pbtxt` in the model's
 * folder gets a `version_policy` naming exactly that version (the rest of the file is kept); TF Serving gets
 * `DIR/models.config` (for `--model_config_file`), with the version and a label named after the env. Returns the
 * file written.
 */
export function writeServingConfig(target: ExportTarget, number: number, env: string): string {
  const modelDir = modelFolder(target);
  if (target.layout === 'triton') {
    const path = join(modelDir, 'config.pbtxt');
    const had = existsSync(path) ? readFileSync(path, 'utf8') : `name: "${target.name}"\n`;
    const kept = withoutField(had, 'version_policy').trimEnd();
    write(path, `${kept}\nversion_policy: { specific: { versions: [${number}] } }\n`);
    return path;
  }
  const path = join(resolve(target.dir), 'models.config');
  if (existsSync(path) && !readFileSync(path, 'utf8').startsWith(TF_MARK))
    throw new MvmError('EXPORT_CONFLICT', `${path} exists and mvm did not write it`, {
      path,
      hint: 'move it aside, or follow without --serving-config and keep that file yourself',
    });
  write(
    path,
    [
      `${TF_MARK}: model ${target.name} follows env ${env}`,
      'model_config_list {',
      '  config {',
      `    name: ${JSON.stringify(target.name)}`,
      `    base_path: ${JSON.stringify(modelDir)}`,
      '    model_platform: "tensorflow"',
      `    model_version_policy { specific { versions: ${number} } }`,
      `    version_labels { key: ${JSON.stringify(env)} value: ${number} }`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return path;
}

function write(path: string, text: string): void {
  writeFileAtomic(path, text, { tmpDir: dirname(path) });
}

/**
 * A protobuf text file without one top-level field (`name: value`, `name { ... }` or `name: { ... }`, braces
 * balanced, strings skipped), so that it can be written again.
 */
export function withoutField(text: string, field: string): string {
  const re = new RegExp(`(^|\\n)[ \\t]*${field}[ \\t]*:?[ \\t]*`, 'g');
  let out = text;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    const start = m.index + m[1]!.length;
    let i = m.index + m[0].length;
    if (out[i] === '{') {
      let depth = 0;
      for (; i < out.length; i++) {
        const c = out[i];
        if (c === '"') for (i++; i < out.length && out[i] !== '"'; ) i += out[i] === '\\' ? 2 : 1;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) break;
      }
      i++;
    } else {
      const nl = out.indexOf('\n', i);
      i = nl < 0 ? out.length : nl;
    }
    out = out.slice(0, start) + out.slice(i).replace(/^[ \t]*\n?/, '');
    re.lastIndex = start;
  }
  return out;
}
