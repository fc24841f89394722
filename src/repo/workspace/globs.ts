import { lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { IgnoreTest } from './ignoreRules.js';

/** True when a path argument is a glob pattern rather than a plain path. */
export function isGlob(arg: string): boolean {
  return /[*?[\]{}]/.test(arg);
}

type Matcher = (path: string) => boolean;

/**
 * A matcher for a pathspec, as git reads `git add '*.txt'`: a pattern without
 * `/` matches file names at any depth; one with `/` matches the whole path
 * (relative to the folder it was typed in). Uses picomatch; dotfiles only
 * when the pattern names them.
 */
export function pathspecMatcher(pattern: string): Matcher {
  const p = pattern.replace(/^\.\//, '');
  return picomatch(p, { basename: !p.includes('/'), dot: false });
}

/**
 * The regular files under `base` (an absolute folder inside the workspace
 * `root`) whose path relative to `base` matches `pattern`, as workspace-relative
 * paths, sorted. Skips `.git`, `.mvm`, symlinks and what `ignored` names.
 */
export function expandGlob(root: string, base: string, pattern: string, ignored: IgnoreTest): string[] {
  const match = pathspecMatcher(pattern);
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n === '.git' || n === '.mvm') continue;
      const abs = join(dir, n);
      const rel = relative(root, abs).split(sep).join('/');
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (!ignored(`${rel}/`)) walk(abs);
      } else if (st.isFile() && !ignored(rel) && match(relative(base, abs).split(sep).join('/'))) out.push(rel);
    }
  };
  walk(base);
  return out.sort();
}
