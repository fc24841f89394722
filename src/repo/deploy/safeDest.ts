import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError, fromSystemError } from '../../errors.js';
import { pathProblem } from '../../core/versionCheck.js';

/** lstat, or null when nothing is there. */
function lstatOrNull(abs: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(e, abs, 'reading');
  }
}

/**
 * The absolute path a version's file `rel` is written to under `root` (a
 * temporary or staging folder mvm made), its folders made one at a time:
 * the path must pass the checkout check (no `..`, no absolute path, no
 * `.git`/`.mvm`) and no folder on the way may be a symlink or a file, so
 * nothing is ever written outside `root`. The caller checks the whole
 * manifest first (assertSafeVersion); this is the guard at each write.
 */
export function safeDestination(root: string, rel: string): string {
  const why = pathProblem(rel);
  if (why)
    throw new MvmError('UNSAFE_VERSION', `${JSON.stringify(rel)} cannot be written safely: ${why}`, {
      path: rel,
      hint:
        'nothing was written outside the folder; this version was made by hand or by a hostile copy of the ' +
        'repository',
    });
  const parts = rel.split('/');
  let at = root;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    let st = lstatOrNull(at);
    if (!st) {
      try {
        mkdirSync(at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(e, at, 'writing');
      }
      st = lstatOrNull(at);
    }
    if (!st?.isDirectory()) {
      throw new MvmError(
        'SYMLINK_IN_PATH',
        `${at} is ${st?.isSymbolicLink() ? 'a symlink' : 'not a folder'}; mvm does not write ${rel} through it`,
        { paths: [at], path: rel, hint: 'mvm writes a version only into real folders it made' },
      );
    }
  }
  return join(at, parts[parts.length - 1]!);
}
