import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The layering and size rules of docs/ARCHITECTURE.md, checked on the sources.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [relative(SRC, p).split('\\').join('/')] : [];
  });
}

const FILES = sources(SRC);
const layerOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : file);

/** Internal imports of a source file, as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)|new URL\('(\.[^']+)'/g,
  )) {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    out.push(posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/**
 * The layers each layer may import (besides itself). settings.ts, the one reader of MVM_* variables, is a leaf
 * like errors.ts under every layer but core/, which reads no environment (its limits are constants in core/limits.ts).
 */
const ALLOWED: Record<string, string[]> = {
  'errors.ts': [],
  'settings.ts': [],
  core: ['errors.ts'],
  storage: ['core', 'errors.ts', 'settings.ts'],
  repo: ['storage', 'core', 'errors.ts', 'settings.ts'],
  ops: ['repo', 'storage', 'core', 'errors.ts', 'settings.ts'],
  cli: ['ops', 'repo', 'storage', 'core', 'errors.ts', 'settings.ts'],
  'index.ts': ['ops', 'repo', 'storage', 'core', 'errors.ts', 'settings.ts'],
};

describe('architecture', () => {
  it('every import points at a file that exists', () => {
    for (const f of FILES) for (const i of importsOf(f)) expect(FILES, `${f} imports ${i}`).toContain(i);
  });

  it('each layer imports only itself and the layers below it', () => {
    const bad: string[] = [];
    for (const f of FILES) {
      const layer = layerOf(f);
      expect(ALLOWED, f).toHaveProperty([layer]);
      for (const i of importsOf(f)) {
        const target = layerOf(i);
        if (target !== layer && !ALLOWED[layer]!.includes(target)) bad.push(`${f} -> ${i}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('no command module in ops/ imports another one', () => {
    const bad = FILES.filter((f) => f.startsWith('ops/')).flatMap((f) =>
      importsOf(f)
        .filter((i) => i.startsWith('ops/'))
        .map((i) => `${f} -> ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('core/ does no I/O: it imports no node: module', () => {
    const bad = FILES.filter((f) => f.startsWith('core/') && /from 'node:/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('core/ reads no environment variable', () => {
    const bad = FILES.filter((f) => f.startsWith('core/') && /process\.env/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('only settings.ts reads MVM_* variables', () => {
    const bad = FILES.filter(
      (f) => f !== 'settings.ts' && /process\.env(?:\.MVM_|\[)/.test(readFileSync(join(SRC, f), 'utf8')),
    );
    expect(bad).toEqual([]);
  });

  it('only cli/ prints or exits', () => {
    const bad = FILES.filter(
      (f) =>
        !f.startsWith('cli/') &&
        /console\.|process\.(stdout|stderr)|process\.exit/.test(readFileSync(join(SRC, f), 'utf8')),
    );
    expect(bad).toEqual([]);
  });

  it('no module awaits at its top level (Node 20 can crash evaluating a graph of asynchronously evaluated modules)', () => {
    // statements at column 0 are top-level in this codebase's formatting
    const bad = FILES.filter((f) =>
      /^(?:export )?(?:const|let|var) [^=\n]+=[^\n;]*\bawait\b|^await\b|^for await\b/m.test(
        readFileSync(join(SRC, f), 'utf8'),
      ),
    );
    expect(bad).toEqual([]);
  });

  it('no source file is longer than 500 lines', () => {
    const long = FILES.map((f) => [f, readFileSync(join(SRC, f), 'utf8').split('\n').length] as const).filter(
      ([, n]) => n > 500,
    );
    expect(long).toEqual([]);
  });

  it('docs/ARCHITECTURE.md names every module under the section of its layer', () => {
    const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const section = (layer: string) => {
      const start = doc.indexOf(`### \`src/${layer}/\``);
      if (start < 0) return '';
      const next = doc.indexOf('\n### ', start + 1);
      return doc.slice(start, next < 0 ? undefined : next);
    };
    const missing = FILES.filter((f) => {
      if (!f.includes('/')) return !doc.includes(`\`src/${f}\``);
      return (
        !section(layerOf(f)).includes(`\`${posix.basename(f)}\``) &&
        !section(layerOf(f)).includes(`\`${f.slice(f.indexOf('/') + 1)}\``)
      );
    });
    expect(missing).toEqual([]);
  });
});
