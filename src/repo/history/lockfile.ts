import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MvmError } from '../../errors.js';
import { canonicalJson } from '../../core/canonical.js';
import { isObjectId } from '../../core/ids.js';
import type { FileEntry, Version } from '../../core/objects.js';
import { versionProblems } from '../../core/versionCheck.js';
import { isRecord, toNameMap } from '../../core/schema.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { readJsonFile } from '../../storage/jsonFile.js';
import type { Repository } from '../repository/index.js';

/** The file at the workspace root, meant for git, that names the model of each git commit. */
export const LOCK_FILE = 'mvm.lock';

/** What mvm.lock holds: the version, and the file object, mode and size of each tracked path. */
export interface LockFile {
  format: 1;
  version: string;
  files: Record<string, FileEntry>;
}

/** True when a git repository encloses the workspace (a `.git` folder or file at or above the root). */
export function inGit(root: string): boolean {
  for (let d = root; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * Reads mvm.lock; null when absent. It is untrusted (git brings it): malformed or unsafe content is BAD_VALUE /
 * UNSAFE_VERSION.
 */
export function readLock(root: string): LockFile | null {
  const path = join(root, LOCK_FILE);
  const v = readJsonFile(
    path,
    () =>
      new MvmError('BAD_VALUE', `${LOCK_FILE} is not valid JSON`, {
        path,
        hint: `restore it from git (git checkout -- ${LOCK_FILE})`,
      }),
  ) as Partial<LockFile> | null;
  if (v === null) return null;
  if (v?.format !== 1 || typeof v.version !== 'string' || !isObjectId(v.version) || !isRecord(v.files)) {
    throw new MvmError('BAD_VALUE', `${LOCK_FILE} is not an mvm lock file`, {
      path,
      hint: `restore it from git (git checkout -- ${LOCK_FILE})`,
    });
  }
  // paths are names like any other: `__proto__` is read as a key, never as the map's prototype
  const files = toNameMap(v.files as Record<string, FileEntry>);
  const problems = versionProblems({ files });
  if (problems.length)
    throw new MvmError('UNSAFE_VERSION', `${LOCK_FILE} names unsafe paths: ${problems.slice(0, 3).join('; ')}`, {
      path,
      problems,
    });
  return { format: 1, version: v.version, files };
}

/**
 * Writes mvm.lock for a version (stable order, one path per line), when the
 * workspace is in git or already has one: the lock is for git to carry, and
 * a workspace outside git gets no file it did not ask for.
 */
export function writeLock(repo: Repository, id: string, v: Version): boolean {
  if (!inGit(repo.root) && !existsSync(join(repo.root, LOCK_FILE))) return false;
  const paths = Object.keys(v.files).sort();
  const lines = paths.map(
    (p) =>
      `    ${JSON.stringify(p)}: ` +
      `${canonicalJson({ file: v.files[p]!.file, mode: v.files[p]!.mode, size: v.files[p]!.size })}`,
  );
  const text =
    `{\n  "format": 1,\n  "version": ${JSON.stringify(id)},\n  "files": {\n${lines.join(',\n')}` +
    `${lines.length ? '\n' : ''}  }\n}\n`;
  writeFileAtomic(join(repo.root, LOCK_FILE), text, { tmpDir: repo.root });
  return true;
}

/**
 * The answer when mvm.lock names a version the remote does not hold: the
 * remote is not damaged; whoever committed mvm.lock did not push the version.
 */
export function lockNotPushed(version: string, remote: string, url: string): MvmError {
  return new MvmError(
    'UNKNOWN_REVISION',
    `${LOCK_FILE} asks for version ${version.slice(0, 12)}, which ${remote} (${url}) does not hold: it was ` +
      `committed but never pushed`,
    {
      revision: version,
      remote,
      url,
      path: LOCK_FILE,
      hint:
        `the remote is fine; whoever committed this ${LOCK_FILE} has to run 'mvm push' from their clone (git ` +
        `log -1 -- ${LOCK_FILE} says who)`,
    },
  );
}
