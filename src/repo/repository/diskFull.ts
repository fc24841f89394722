import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../../errors.js';
import type { Repository } from './repository.js';

/** What a command that ran out of disk space left in the store: objects it stored, and temporary files removed. */
export interface DiskFullLeft {
  /** Object files and packs written since the command took the lock (a retry reuses them). */
  objects: number;
  bytes: number;
  /** This process's temporary files removed from `.mvm/tmp`. */
  removedTemp: number;
}

/**
 * Removes this process's temporary files from `.mvm/tmp` (object, pack and
 * checkout files are named `<kind>-<pid>-<random>`; another process's are
 * left alone) and returns how many it removed.
 */
export function removeOwnTemp(repo: Repository): number {
  let removed = 0;
  let names: string[] = [];
  try {
    names = readdirSync(repo.tmpDir);
  } catch {
    return 0;
  }
  const mine = `-${process.pid}-`;
  for (const name of names) {
    if (!name.includes(mine)) continue;
    try {
      rmSync(join(repo.tmpDir, name), { recursive: true, force: true });
      removed++;
    } catch {
      /* still there: the next command that takes the lock clears it */
    }
  }
  return removed;
}

/** Loose object files and packs written at or after `since` (ms): their count and bytes. */
export function storedSince(repo: Repository, since: number): { objects: number; bytes: number } {
  const out = { objects: 0, bytes: 0 };
  const tally = (dir: string, keep: (name: string) => boolean) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!keep(name)) continue;
      const st = statSync(join(dir, name), { throwIfNoEntry: false });
      if (!st?.isFile() || st.mtimeMs < since) continue;
      out.objects++;
      out.bytes += st.size;
    }
  };
  const root = join(repo.dir, 'objects');
  for (const sub of readdirSync(root)) {
    if (/^[0-9a-f]{2}$/.test(sub)) tally(join(root, sub), (n) => /^[0-9a-f]+$/.test(n));
  }
  tally(join(root, 'pack'), (n) => n.endsWith('.pack'));
  return out;
}

/** A byte count in words, as the hint says it (B, KiB, MiB, GiB). */
function bytesText(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The DISK_FULL error of a command that ran under the writer lock from
 * `since`, after its own temporary files are removed: it says how many bytes
 * of objects the command stored stay (nothing refers to them yet; a retry
 * reuses them, `mvm gc --grace 0` frees them). Objects are not removed here:
 * they are content-addressed, and a reader fetching chunks into a partial
 * store may have stored the same one meanwhile.
 */
export function explainDiskFull(repo: Repository, since: number, e: MvmError): MvmError {
  const removedTemp = removeOwnTemp(repo);
  let left = { objects: 0, bytes: 0 };
  try {
    left = storedSince(repo, since);
  } catch {
    /* the objects folder cannot be read: say nothing about it */
  }
  const kept = left.objects
    ? `${bytesText(left.bytes)} of data this command stored (${left.objects} object file(s)) stay in the store: ` +
      'a retry reuses them, `mvm gc --grace 0` frees them; '
    : 'it stored no new data (`mvm gc --grace 0` frees what earlier attempts stored); ';
  const hint = `free some disk space and run the command again; ${kept}its temporary files were removed`;
  return new MvmError('DISK_FULL', e.message, {
    ...e.data,
    hint,
    left: { objects: left.objects, bytes: left.bytes, removedTemp } satisfies DiskFullLeft,
  });
}
