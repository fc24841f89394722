import { existsSync, readFileSync } from 'node:fs';
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

/**
 * What mvm.lock holds: the version, the file object, mode and size of each tracked path, and the tracked path specs
 * (files or folders) when it was written, so that every clone tracks the same paths (older locks have none).
 */
export interface LockFile {
  format: 1;
  version: string;
  files: Record<string, FileEntry>;
  tracked?: string[];
}

/** How many tracked path specs a lock may name. */
const MAX_TRACKED = 100_000;

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
  return readLockAt(join(root, LOCK_FILE));
}

/** Reads a lock file at any path (git's merge driver gets the three sides as temporary files); see readLock. */
export function readLockAt(path: string): LockFile | null {
  const v = readJsonFile(path, () =>
    conflicted(path)
      ? new MvmError('BAD_VALUE', `${LOCK_FILE} has git conflict markers: both branches changed the model`, {
          path,
          hint:
            `keep one side (git checkout --ours ${LOCK_FILE}, or --theirs), git add it, then mvm checkout --lock; ` +
            'mvm hooks install lets git do this for you',
        })
      : new MvmError('BAD_VALUE', `${LOCK_FILE} is not valid JSON`, {
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
  const tracked = v.tracked;
  if (
    tracked !== undefined &&
    !(
      Array.isArray(tracked) &&
      tracked.length <= MAX_TRACKED &&
      tracked.every(
        (p) => typeof p === 'string' && (p === '.' || versionProblems({ files: { [p]: SPEC } }).length === 0),
      )
    )
  )
    throw new MvmError('UNSAFE_VERSION', `${LOCK_FILE} names tracked paths mvm would not write`, {
      path,
      hint: `restore it from git (git checkout -- ${LOCK_FILE})`,
    });
  return { format: 1, version: v.version, files, ...(tracked ? { tracked: [...tracked] } : {}) };
}

/** A stand-in file entry, for checking a tracked path spec as a path of a version. */
const SPEC: FileEntry = { file: '0'.repeat(64), mode: 0o644, size: 0 };

/** True when a file has the lines git writes around a conflict. */
function conflicted(path: string): boolean {
  try {
    return /^<{7} /m.test(readFileSync(path, 'utf8')) && /^>{7} /m.test(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Makes this workspace track what a lock says the workspace that wrote it tracked, besides what it tracks already
 * (a new file in a tracked folder of a teammate's is then tracked here too).
 */
export function adoptTracked(repo: Repository, lock: LockFile): void {
  if (!lock.tracked) return;
  let mine: string[] = [];
  try {
    mine = repo.tracked();
  } catch {
    // unreadable here: the lock's set is the one to go by
  }
  const all = new Set([...mine, ...lock.tracked]);
  if (all.size !== mine.length) repo.setTracked([...all]);
}

/** The text of a lock file: stable order, one path per line (git merges and diffs it line by line). */
export function lockText(lock: LockFile): string {
  const paths = Object.keys(lock.files).sort();
  const lines = paths.map(
    (p) =>
      `    ${JSON.stringify(p)}: ` +
      `${canonicalJson({ file: lock.files[p]!.file, mode: lock.files[p]!.mode, size: lock.files[p]!.size })}`,
  );
  return (
    `{\n  "format": 1,\n  "version": ${JSON.stringify(lock.version)},\n` +
    (lock.tracked ? `  "tracked": ${JSON.stringify(lock.tracked)},\n` : '') +
    `  "files": {\n${lines.join(',\n')}` +
    `${lines.length ? '\n' : ''}  }\n}\n`
  );
}

/**
 * Writes mvm.lock for a version (stable order, one path per line), when the
 * workspace is in git or already has one: the lock is for git to carry, and
 * a workspace outside git gets no file it did not ask for.
 */
export function writeLock(repo: Repository, id: string, v: Version): boolean {
  if (!inGit(repo.root) && !existsSync(join(repo.root, LOCK_FILE))) return false;
  let tracked: string[] | undefined;
  try {
    tracked = repo.tracked();
  } catch {
    // an unreadable tracked.json stops only the commands that need the tracked paths (fsck --repair rebuilds it)
  }
  const files = Object.fromEntries(
    Object.entries(v.files).map(([p, e]) => [p, { file: e.file, mode: e.mode, size: e.size }]),
  );
  const text = lockText({ format: 1, version: id, files, ...(tracked ? { tracked } : {}) });
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
