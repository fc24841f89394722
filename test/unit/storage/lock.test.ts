import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { acquireLock, type LockOwner } from '../../../src/storage/lock.js';
import { MvmError } from '../../../src/errors.js';

let dir = '';
let path = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-lock-'));
  path = join(dir, 'lock');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function lockedError(p: Promise<unknown>): Promise<MvmError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MvmError);
    expect((e as MvmError).code).toBe('LOCKED');
    return e as MvmError;
  }
  throw new Error('expected LOCKED');
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.pid).toBeGreaterThan(0);
  return r.pid!;
}

describe('acquireLock', () => {
  it('creates the lock file naming this process', async () => {
    const lock = await acquireLock(path, 'commit', 100);
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    expect(owner.pid).toBe(process.pid);
    expect(owner.host).toBe(hostname());
    expect(owner.command).toBe('commit');
    expect(Number.isNaN(Date.parse(owner.since))).toBe(false);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('a second acquire waits, then fails with LOCKED naming the owner', async () => {
    const lock = await acquireLock(path, 'commit', 100);
    const t0 = Date.now();
    const err = await lockedError(acquireLock(path, 'deploy', 300));
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    const owner = err.data.owner as LockOwner;
    expect(owner).toBeTruthy();
    expect(owner.pid).toBe(process.pid);
    expect(owner.command).toBe('commit');
    expect(err.data.path).toBe(path);
    // the holder's lock file is untouched
    expect((JSON.parse(readFileSync(path, 'utf8')) as LockOwner).command).toBe('commit');
    lock.release();
  });

  it('with a zero timeout fails at once', async () => {
    const lock = await acquireLock(path, 'commit', 100);
    const t0 = Date.now();
    await lockedError(acquireLock(path, 'deploy', 0));
    expect(Date.now() - t0).toBeLessThan(500);
    lock.release();
  });

  it('release lets a waiting acquire through', async () => {
    const lock = await acquireLock(path, 'commit', 100);
    const waiting = acquireLock(path, 'deploy', 5000);
    setTimeout(() => lock.release(), 100);
    const second = await waiting;
    expect((JSON.parse(readFileSync(path, 'utf8')) as LockOwner).command).toBe('deploy');
    second.release();
    expect(existsSync(path)).toBe(false);
  });

  it('only one of several concurrent waiters holds the lock at a time', async () => {
    let holders = 0;
    let maxHolders = 0;
    const worker = async (i: number) => {
      const l = await acquireLock(path, `w${i}`, 10_000);
      holders++;
      maxHolders = Math.max(maxHolders, holders);
      await new Promise((r) => setTimeout(r, 15));
      holders--;
      l.release();
    };
    await Promise.all([0, 1, 2, 3, 4].map(worker));
    expect(maxHolders).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock left by a dead process on this host', async () => {
    const pid = deadPid();
    writeFileSync(path, JSON.stringify({ pid, host: hostname(), since: new Date(0).toISOString(), command: 'commit' }));
    const lock = await acquireLock(path, 'status', 200);
    expect((JSON.parse(readFileSync(path, 'utf8')) as LockOwner).pid).toBe(process.pid);
    lock.release();
  });

  it('does not take over a lock held by a process on another host', async () => {
    const pid = deadPid();
    writeFileSync(
      path,
      JSON.stringify({ pid, host: `${hostname()}-elsewhere`, since: new Date(0).toISOString(), command: 'commit' }),
    );
    const err = await lockedError(acquireLock(path, 'status', 100));
    expect((err.data.owner as LockOwner).host).toBe(`${hostname()}-elsewhere`);
    expect(existsSync(path)).toBe(true);
  });

  it('treats an unreadable lock file as held (owner null) rather than stealing it', async () => {
    writeFileSync(path, 'not json');
    const err = await lockedError(acquireLock(path, 'status', 100));
    expect(err.data.owner).toBeNull();
    expect(readFileSync(path, 'utf8')).toBe('not json');
  });

  it('release is idempotent and does not remove a lock taken by someone else afterwards', async () => {
    const first = await acquireLock(path, 'commit', 100);
    first.release();
    first.release();
    expect(existsSync(path)).toBe(false);
    const second = await acquireLock(path, 'deploy', 100);
    first.release(); // a late, repeated release of the old lock
    expect(existsSync(path)).toBe(true);
    expect((JSON.parse(readFileSync(path, 'utf8')) as LockOwner).command).toBe('deploy');
    second.release();
  });

  it('release tolerates a lock file that is already gone', async () => {
    const lock = await acquireLock(path, 'commit', 100);
    rmSync(path);
    expect(() => lock.release()).not.toThrow();
  });

  it('fails with an MvmError (not LOCKED) when the directory does not exist', async () => {
    try {
      await acquireLock(join(dir, 'missing', 'lock'), 'commit', 100);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MvmError);
      expect((e as MvmError).code).not.toBe('LOCKED');
    }
  });
});
