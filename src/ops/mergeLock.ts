import { writeFileSync } from 'node:fs';
import { fromSystemError } from '../errors.js';
import { lockText, readLockAt, type LockFile } from '../repo/history/index.js';

/** What git's merge driver for mvm.lock decided. */
export interface LockMerge {
  /** merged: one side changed the model (or both the same way), written; conflict: both changed it, ours kept. */
  outcome: 'merged' | 'conflict';
  ours: string;
  theirs: string;
  /** The version the merged lock names. */
  version: string;
}

/**
 * git's merge driver for mvm.lock (`mvm hooks install` registers it): BASE, OURS and THEIRS are the three sides,
 * and the result goes into OURS. A model cannot be merged line by line, so when only one side changed the model its
 * lock wins whole; when both changed it to different versions, ours is kept as a valid lock (never conflict markers)
 * and the merge is a conflict for the user to decide. The tracked paths of both sides are kept.
 */
export function mergeLocks(basePath: string, oursPath: string, theirsPath: string): LockMerge {
  const base = readLockAt(basePath);
  const ours = readLockAt(oursPath);
  const theirs = readLockAt(theirsPath);
  if (!ours || !theirs) {
    // one side deleted the lock: keep what the other has, as git would for a file only one side changed
    const kept = (ours ?? theirs)!;
    if (kept) write(oursPath, kept);
    const v = kept?.version ?? '';
    return { outcome: 'merged', ours: ours?.version ?? '', theirs: theirs?.version ?? '', version: v };
  }
  const tracked = [...new Set([...(ours.tracked ?? []), ...(theirs.tracked ?? [])])].sort();
  const withTracked = (l: LockFile): LockFile => (tracked.length ? { ...l, tracked } : l);
  const result = { ours: ours.version, theirs: theirs.version };
  if (ours.version === theirs.version || theirs.version === base?.version) {
    write(oursPath, withTracked(ours));
    return { outcome: 'merged', ...result, version: ours.version };
  }
  if (ours.version === base?.version) {
    write(oursPath, withTracked(theirs));
    return { outcome: 'merged', ...result, version: theirs.version };
  }
  write(oursPath, withTracked(ours));
  return { outcome: 'conflict', ...result, version: ours.version };
}

function write(path: string, lock: LockFile): void {
  try {
    writeFileSync(path, lockText(lock));
  } catch (e) {
    throw fromSystemError(e, path, 'writing');
  }
}
