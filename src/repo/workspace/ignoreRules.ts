import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// CommonJS, bundled (scripts/bundle.mjs): it costs nothing until the first ignoreRules() call
import ignore from 'ignore';
import { fromSystemError } from '../../errors.js';

/** The file at the workspace root whose gitignore-syntax patterns keep paths out of tracked folders. */
export const IGNORE_FILE = '.mvmignore';

/** Never versioned unless `.mvmignore` says otherwise (`!.DS_Store`): operating-system and notebook droppings. */
export const DEFAULT_IGNORES = [
  '.DS_Store',
  'Thumbs.db',
  'desktop.ini',
  '.ipynb_checkpoints/',
  '__pycache__/',
  '*.pyc',
  '.*.swp',
  '*~',
];

/** Tells whether a workspace path (relative, `/`-separated; folders with a trailing `/`) is ignored. */
export type IgnoreTest = (rel: string) => boolean;

/**
 * The ignore rules of a workspace: the defaults, then `.mvmignore` at its
 * root (gitignore syntax, through the `ignore` package, so `!pattern`,
 * `dir/`, `**` and anchoring work as in git).
 */
export function ignoreRules(root: string): IgnoreTest {
  let text = '';
  try {
    text = readFileSync(join(root, IGNORE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, join(root, IGNORE_FILE), 'reading');
  }
  const ig = ignore().add(DEFAULT_IGNORES).add(text);
  return (rel) => ig.ignores(rel);
}
