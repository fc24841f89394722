import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError } from '../../errors.js';
import { writeFileAtomic } from '../../storage/atomic.js';

const MARK = '# managed by mvm';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw fromSystemError(e, path, 'reading');
  }
}

/** The .gitignore line for a workspace-relative path: anchored at the root. */
export function ignoreLine(rel: string, isDir: boolean): string {
  return `/${literal(rel)}${isDir ? '/' : ''}`;
}

/**
 * A path as a gitignore pattern matching it alone: git reads `\`, `*`, `?`,
 * `[`, a leading `!` or `#` and trailing spaces as syntax, so they are escaped
 * (a file named `a\b` is otherwise ignored as `ab`). A line break cannot be
 * written in a pattern at all: `?` stands for it.
 */
function literal(rel: string): string {
  return rel
    .replace(/[\\*?[\]!#]/g, (c) => `\\${c}`)
    .replace(/ +$/, (s) => s.replace(/ /g, '\\ '))
    .replace(/[\r\n]/g, '?');
}

/** Adds lines to the workspace's .gitignore (once each), under a comment naming mvm. Returns the lines added. */
export function addIgnores(root: string, lines: string[]): string[] {
  const path = join(root, '.gitignore');
  const text = read(path);
  const have = new Set(text.split('\n').map((l) => l.trim()));
  const add = lines.filter((l) => !have.has(l));
  if (!add.length) return [];
  let next = text && !text.endsWith('\n') ? `${text}\n` : text;
  if (!have.has(MARK)) next += `${MARK}\n`;
  next += add.map((l) => `${l}\n`).join('');
  // the temporary file sits beside .gitignore: .mvm may be on another filesystem
  writeFileAtomic(path, next, { tmpDir: root });
  return add;
}

/** Removes lines that mvm added to .gitignore. Returns the lines removed. */
export function removeIgnores(root: string, lines: string[]): string[] {
  const path = join(root, '.gitignore');
  const text = read(path);
  if (!text) return [];
  const drop = new Set(lines);
  const kept = text.split('\n').filter((l) => !drop.has(l.trim()));
  const removed = lines.filter((l) => text.split('\n').some((t) => t.trim() === l));
  if (removed.length) writeFileAtomic(path, kept.join('\n'), { tmpDir: root });
  return removed;
}
