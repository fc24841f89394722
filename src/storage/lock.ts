import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { MvmError, fromSystemError } from '../errors.js';

/** Who holds the repository lock, as written in the lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  command: string;
}

/** A held repository lock; release it exactly once. */
export interface Lock {
  release(): void;
}

/** A lock file nobody can read the owner of (left by an older writer) is stale after this long. */
const OWNERLESS_STALE_MS = 60_000;

/** True when process `pid` exists on this host (EPERM: it does, as another user's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof o?.pid === 'number' ? o : null;
  } catch {
    return null;
  }
}

function sameOwner(a: LockOwner | null, b: LockOwner | null): boolean {
  return !!a && !!b && a.pid === b.pid && a.host === b.host && a.since === b.since;
}

/** True when the lock at `path` is left by a process that is gone: a dead pid on this host, or unreadable and old. */
function isStale(path: string, owner: LockOwner | null): boolean {
  if (owner) return owner.host === hostname() && !alive(owner.pid);
  try {
    return Date.now() - statSync(path).mtimeMs > OWNERLESS_STALE_MS;
  } catch {
    return false;
  }
}

/**
 * Removes a stale lock without racing another taker: the lock is renamed
 * aside (only one process can move it), and if what was moved is not the
 * stale lock we judged (someone took it over meanwhile), it is put back.
 */
function breakStale(path: string, seen: LockOwner | null): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readOwner(aside);
  if (seen && !sameOwner(moved, seen)) {
    try {
      linkSync(aside, path);
    } catch {
      /* a new lock is already in place */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* gone */
  }
}

/**
 * Whether a file name is one a lock makes beside what it guards: the lock itself (`*.lock`, taken by a hard link)
 * or the owner file it links from, `lock.PID-HEX`, which lives in the same folder while its process waits for the
 * lock. A listing of that folder must pass over both, or a reader of it sees a file of another kind come and go.
 */
export function isLockFileName(name: string): boolean {
  return name.endsWith('.lock') || /^lock\.\d+-[0-9a-f]{8}$/.test(name);
}

/**
 * Takes the one-writer lock at `path`, waiting up to `timeoutMs`. The lock
 * file is created complete: its content is written to a temporary file that
 * is then hard-linked into place, so a lock never exists without its owner.
 * A lock left by a dead process on this host is taken over.
 */
export async function acquireLock(path: string, command: string, timeoutMs: number): Promise<Lock> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
  const tmp = join(dirname(path), `lock.${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, JSON.stringify(owner));
  } catch (e) {
    throw fromSystemError(e, tmp, 'locking');
  }
  try {
    for (;;) {
      try {
        linkSync(tmp, path);
        let released = false;
        return {
          release() {
            if (released) return;
            released = true;
            try {
              unlinkSync(path);
            } catch {
              /* already gone */
            }
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(e, path, 'locking');
      }
      const current = readOwner(path);
      if (isStale(path, current)) {
        breakStale(path, current);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = current
          ? `'mvm ${current.command}' (pid ${current.pid} on ${current.host}, since ${current.since})`
          : 'another process';
        throw new MvmError('LOCKED', `the repository is locked by ${who}`, {
          path,
          owner: current,
          hint: `wait for it to finish, or remove ${path} if that process is gone`,
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
      delay = Math.min(delay * 2, 250);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}
