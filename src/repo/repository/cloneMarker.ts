import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError } from '../../errors.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { faultPoint } from '../../storage/faults.js';
import { isRecord } from '../../core/schema.js';
import { MVM_DIR } from './repository.js';

/**
 * The file in `.mvm` that marks a clone not finished: written before
 * anything else of the clone, removed after its checkout completed.
 */
export const CLONE_MARKER = 'clone-unfinished';

/** What an unfinished clone was cloning: the remote's URL (a folder made absolute) and the workspace. */
export interface UnfinishedClone {
  url: string;
  dir: string;
  /** The revision it was to check out, when one was named. */
  rev?: string;
}

/**
 * The unfinished clone whose workspace is `root`, or null: a marker that can
 * be read, in a store whose HEAD names no version yet (clone moves HEAD and
 * the branch only after the checkout; a `pull` that finished the clone did
 * too, and its marker is then ignored).
 */
export function unfinishedClone(root: string): UnfinishedClone | null {
  const dir = join(root, MVM_DIR);
  let clone: UnfinishedClone;
  try {
    const v: unknown = JSON.parse(readFileSync(join(dir, CLONE_MARKER), 'utf8'));
    if (!isRecord(v) || typeof v.url !== 'string' || typeof v.dir !== 'string') return null;
    clone = { url: v.url, dir: v.dir, ...(typeof v.rev === 'string' ? { rev: v.rev } : {}) };
  } catch {
    return null;
  }
  return headBorn(dir) ? null : clone;
}

/** True when `.mvm/HEAD` names a version: detached at one, or on a branch that exists. */
function headBorn(dir: string): boolean {
  let head: string;
  try {
    head = readFileSync(join(dir, 'HEAD'), 'utf8').trim();
  } catch {
    return false;
  }
  if (!head.startsWith('ref: ')) return /^[0-9a-f]{64}$/.test(head);
  return existsSync(join(dir, head.slice(5)));
}

/** Marks `clone.dir` as an unfinished clone: the clone's first write, into a new `.mvm`. */
export function markCloneStarted(clone: UnfinishedClone): void {
  const dir = join(clone.dir, MVM_DIR);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, dir, 'creating');
  }
  writeFileAtomic(join(dir, CLONE_MARKER), JSON.stringify(clone) + '\n', { tmpDir: dir, fsync: true });
}

/** Removes the marker once the clone's workspace is checked out: its last step (a no-op without one). */
export function markCloneFinished(root: string): void {
  const path = join(root, MVM_DIR, CLONE_MARKER);
  try {
    faultPoint('unlink', path);
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, path, 'removing');
  }
}

/** A word as a POSIX shell reads it back: bare when plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The one line that tells how to finish an interrupted clone. */
export function finishCloneAdvice(clone: UnfinishedClone): string {
  const again = `mvm clone ${shellWord(clone.url)} ${shellWord(clone.dir)}`;
  return `this clone was interrupted: run \`${again}\` again to finish it (or \`mvm pull\` in it)`;
}
