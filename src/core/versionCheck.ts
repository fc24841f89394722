import { MvmError } from '../errors.js';
import type { FileEntry, Version } from './objects.js';
import { isObjectId } from './ids.js';

/** Folder names a version may never write into, at any depth (compared case-insensitively). */
const FORBIDDEN = new Set(['.git', '.mvm']);

/**
 * The system a path is checked for: a platform a checkout writes on
 * (`process.platform`), or `any` for what a version may hold at all (commit,
 * fetch, fsck): a name with a backslash is a file like any other on Linux and
 * macOS, and only a system that reads `\` as a separator must refuse it.
 */
export type PathTarget = NodeJS.Platform | 'any';

/** Why a workspace path from a manifest is unsafe to write on `target`, or null when it is safe. */
export function pathProblem(path: string, target: PathTarget = process.platform): string | null {
  if (path === '') return 'the path is empty';
  if (path.includes('\0')) return 'the path holds a NUL byte';
  if (path.startsWith('/')) return 'the path is absolute';
  if (target === 'win32') {
    if (/^[A-Za-z]:/.test(path)) return 'the path names a drive, which Windows takes as absolute';
    if (path.includes('\\'))
      return 'the name holds a backslash, which Windows takes for a folder separator, so it cannot be written here';
  }
  for (const part of path.split('/')) {
    if (part === '' || part === '.') return "the path has an empty or '.' component";
    if (part === '..') return "the path climbs out with '..'";
    if (FORBIDDEN.has(part.toLowerCase())) return `the path goes into ${part}`;
  }
  return null;
}

/**
 * Every reason a version manifest is unsafe to check out: paths that are not
 * relative and normalised, that enter `.git` or `.mvm`, that are both a file
 * and a folder, and modes with more than permission bits. Empty when safe.
 */
export function versionProblems(v: Pick<Version, 'files'>, target: PathTarget = process.platform): string[] {
  const out: string[] = [];
  const paths = Object.keys(v.files);
  const files = new Set(paths);
  for (const p of paths) {
    const why = pathProblem(p, target);
    if (why) out.push(`${JSON.stringify(p)}: ${why}`);
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (files.has(dir)) out.push(`${JSON.stringify(dir)} is both a file and the folder of ${JSON.stringify(p)}`);
    }
    const e = v.files[p] as Partial<FileEntry> | null;
    if (!e || typeof e.file !== 'string' || !isObjectId(e.file) || !Number.isSafeInteger(e.size) || e.size! < 0) {
      out.push(`${JSON.stringify(p)}: the entry has no valid file id and size`);
      continue;
    }
    const mode = e.mode;
    if (!Number.isInteger(mode) || mode! < 0 || (mode! & ~0o777) !== 0)
      out.push(`${JSON.stringify(p)}: mode ${String(mode)} has more than permission bits`);
  }
  return out;
}

/**
 * Throws UNSAFE_VERSION (naming the version and its first problems) unless the manifest is safe to check out on
 * `target`.
 */
export function assertSafeVersion(v: Pick<Version, 'files'>, id: string, target: PathTarget = process.platform): void {
  const problems = versionProblems(v, target);
  if (!problems.length) return;
  const hostOnly = target !== 'any' && versionProblems(v, 'any').length === 0;
  throw new MvmError(
    'UNSAFE_VERSION',
    `version ${id.slice(0, 12)} cannot be written safely: ` +
      `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`,
    {
      id,
      problems,
      hint: hostOnly
        ? 'nothing was written; the version is fine where it was made, but this system cannot hold these names: ' +
          'check it out on another system, or rename the files there and commit again'
        : 'nothing was written; this version was made by hand or by a hostile copy of the repository',
    },
  );
}
