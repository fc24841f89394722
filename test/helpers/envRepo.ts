/**
 * Deploy fixtures (commands/deploy, commands/deploy-export): a repository with three versions of a
 * SavedModel-like folder, and the files of a served version folder.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from './cli.js';
import { json, ok, write } from './assertions.js';

/** A repository with three versions of a SavedModel-like folder, each with accuracy and f1. */
export function repo() {
  const t = testdir();
  const run = (args: string[], env?: Record<string, string>) => mvm(args, { cwd: t.dir, env });
  const contents: Record<number, Record<string, Buffer>> = {};
  ok(run(['init']));
  const metrics: [number, number][] = [
    [0.91, 0.8],
    [0.93, 0.85],
    [0.88, 0.9],
  ];
  const ids: string[] = [''];
  metrics.forEach(([acc, f1], i) => {
    const n = i + 1;
    contents[n] = {
      'saved_model.pb': Buffer.from(`graph ${n}\n`),
      'variables/variables.data-00000-of-00001': randomBytes(300_000 + n * 1000, n),
    };
    for (const [p, b] of Object.entries(contents[n]!)) write(t.path(`model/${p}`), b);
    if (n === 1) ok(run(['add', 'model']));
    ids.push(
      json<{ id: string }>(
        run(['commit', '-m', `v${n}`, '--metric', `accuracy=${acc}`, '--metric', `f1=${f1}`, '--json']),
      ).id,
    );
  });
  return { t, run, ids, contents };
}

/** The files of a served version folder, relative paths to bytes (the export marker left out). */
export function served(folder: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.mvm-export.json') continue;
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = readFileSync(join(d, e.name));
    }
  };
  walk(folder, '');
  return out;
}

/** The flags that keep a serving folder: `--export DIR --layout L --name N --path P` (deploy, export and env). */
export function servingFlags(dir: string, layout: 'tf-serving' | 'triton', name: string, path: string): string[] {
  return ['--export', dir, '--layout', layout, '--name', name, '--path', path];
}
