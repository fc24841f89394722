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

/** An internal import: the file it names (relative to src/), and whether only types cross it. */
interface Edge {
  to: string;
  typeOnly: boolean;
}

/** Internal imports of a source file (static, dynamic, worker URLs), with whether each is type-only. */
function edgesOf(file: string): Edge[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: Edge[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s([^;]*?)from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)|new URL\('(\.[^']+)'/g,
  )) {
    const spec = (m[2] ?? m[3] ?? m[4])!;
    const to = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ to, typeOnly: m[1] !== undefined && /^type\s/.test(m[1]) });
  }
  return out;
}

/** Internal imports of a source file, as paths relative to src/. */
const importsOf = (file: string): string[] => edgesOf(file).map((e) => e.to);

/** The wing a file of repo/ belongs to (`repo/history/summaries.ts` -> `repo/history`), else null. */
const wingOf = (file: string) => /^repo\/[^/]+\//.exec(file)?.[0].slice(0, -1) ?? null;

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

  it(
    'no module awaits at its top level (Node 20 can crash evaluating a graph of asynchronously evaluated ' + 'modules)',
    () => {
      // statements at column 0 are top-level in this codebase's formatting
      const bad = FILES.filter((f) =>
        /^(?:export )?(?:const|let|var) [^=\n]+=[^\n;]*\bawait\b|^await\b|^for await\b/m.test(
          readFileSync(join(SRC, f), 'utf8'),
        ),
      );
      expect(bad).toEqual([]);
    },
  );

  it('no source file is longer than 400 lines', () => {
    const long = FILES.map(
      (f) => [f, readFileSync(join(SRC, f), 'utf8').replace(/\n$/, '').split('\n').length] as const,
    ).filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });

  it('src/ has no import cycle', () => {
    // `import type` edges are left out: TypeScript erases them, so they order no module evaluation
    // (a class and the interface its collaborator implements may name each other); every edge that
    // runs code, static or dynamic, counts
    const graph = new Map(
      FILES.map((f) => [
        f,
        edgesOf(f)
          .filter((e) => !e.typeOnly)
          .map((e) => e.to),
      ]),
    );
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const cycles: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      path.push(f);
      for (const to of graph.get(f) ?? []) {
        if (!graph.has(to)) continue;
        if (state.get(to) === 'open') cycles.push([...path.slice(path.indexOf(to)), to].join(' -> '));
        else if (!state.has(to)) visit(to);
      }
      path.pop();
      state.set(f, 'done');
    };
    for (const f of FILES) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('every folder directly under src/repo/ is a wing with a face, index.ts', () => {
    const wings = readdirSync(join(SRC, 'repo'), { withFileTypes: true });
    expect(wings.filter((e) => !e.isDirectory()).map((e) => e.name)).toEqual([]);
    expect(wings.filter((e) => !FILES.includes(`repo/${e.name}/index.ts`)).map((e) => e.name)).toEqual([]);
  });

  it("a file outside a wing imports only the wing's face; the faces form no cycle between wings", () => {
    const bad: string[] = [];
    const wingEdges = new Set<string>();
    for (const f of FILES) {
      for (const i of importsOf(f)) {
        const wing = wingOf(i);
        if (!wing || wingOf(f) === wing) continue;
        if (i !== `${wing}/index.ts`) bad.push(`${f} -> ${i}`);
        if (wingOf(f)) wingEdges.add(`${wingOf(f)} -> ${wing}`);
      }
    }
    expect(bad).toEqual([]);
    // wings import each other in one direction only (a cycle of faces would be an import cycle anyway)
    const mutual = [...wingEdges].filter((e) => wingEdges.has(e.split(' -> ').reverse().join(' -> ')));
    expect(mutual).toEqual([]);
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

  it('no line of code is longer than 120 characters (generated files aside)', () => {
    const code = /\.(ts|mjs|js|py|sh|css|wat)$/;
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const p = `${dir}/${e.name}`;
        if (e.isDirectory()) return e.name === '__pycache__' || e.name === 'results' ? [] : walk(p);
        return code.test(e.name) ? [p] : [];
      });
    const long = ['src', 'test', 'bench', 'scripts', 'python', 'assets', '.ci'].flatMap(walk).flatMap((f) => {
      const text = readFileSync(join(ROOT, f), 'utf8');
      if (/^\/\/ Generated by .*do not edit/.test(text)) return [];
      return text.split('\n').flatMap((line, i) => (line.length > 120 ? [`${f}:${i + 1}`] : []));
    });
    expect(long).toEqual([]);
  });
});
