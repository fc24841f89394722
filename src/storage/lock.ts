import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

/**
 * Takes the one-writer lock at `path` (created with O_EXCL), waiting up to
 * `timeoutMs`. A lock left by a dead process on this host is taken over.
 */
export async function acquireLock(path: string, command: string, timeoutMs: number): Promise<Lock> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try { unlinkSync(path); } catch { /* already gone */ }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(e, path, 'locking');
    }
    const owner = readOwner(path);
    if (owner && owner.host === hostname() && !alive(owner.pid)) {
      try { unlinkSync(path); } catch { /* raced with another taker */ }
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner ? `'mvm ${owner.command}' (pid ${owner.pid} on ${owner.host}, since ${owner.since})` : 'another process';
      throw new MvmError('LOCKED', `the repository is locked by ${who}`, {
        path,
        owner,
        hint: `wait for it to finish, or remove ${path} if that process is gone`,
      });
    }
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 250);
  }
}
