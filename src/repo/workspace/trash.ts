import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setPriority } from 'node:os';
import { tempPath } from '../../storage/atomic.js';
import { faultPoint } from '../../storage/faults.js';
import type { Repository } from '../repository/index.js';

/**
 * `.mvm/trash`: old workspace files a finished checkout replaced, waiting to
 * be unlinked off the command's path. Freeing a large file is not free (about
 * 0.25-0.5 s a GiB on ext4 with discard), and nothing needs these files any
 * more once HEAD has moved, so checkout renames them here (a rename within
 * `.mvm`: instant) and a detached, low-priority process unlinks them after it
 * returns. A file is only ever put here under a name of its own, by the
 * command that replaced it, and only what is directly in this folder is ever
 * deleted (never through a link, never a folder), so nothing outside `.mvm`
 * can be reached. A command killed before the unlink leaves its file here;
 * the next checkout (or gc) empties the folder.
 */

/** Old files under this many bytes in all are unlinked at once: a background process would cost more. */
export const TRASH_MIN_BYTES = 1 << 20;

/** The trash folder of a repository. */
export function trashDir(repo: Repository): string {
  return join(repo.dir, 'trash');
}

/**
 * Moves `abs`, a hard link in `.mvm/tmp` to an old file nothing needs any
 * more, into the trash. False when it cannot (the caller deletes it at once).
 */
export function moveToTrash(repo: Repository, abs: string): boolean {
  const dir = trashDir(repo);
  const dest = tempPath(dir, 'old');
  try {
    mkdirSync(dir, { recursive: true });
    faultPoint('rename', dest);
    renameSync(abs, dest);
    return true;
  } catch {
    return false;
  }
}

/** True when the trash folder holds anything (a real folder only). */
export function trashHasFiles(repo: Repository): boolean {
  try {
    const dir = trashDir(repo);
    return lstatSync(dir).isDirectory() && readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** Empties a repository's trash now (gc); returns how many files it unlinked. */
export function emptyTrash(repo: Repository): number {
  return unlinkAllIn(trashDir(repo));
}

/**
 * Unlinks every file directly in a trash folder, now; returns how many. A
 * folder that is not a real one (a symlink) is left alone, and so is anything
 * in it that is a folder. Errors are ignored: what stays is retried later.
 */
function unlinkAllIn(dir: string): number {
  let n = 0;
  try {
    if (!lstatSync(dir).isDirectory()) return 0;
    for (const name of readdirSync(dir)) {
      const f = join(dir, name);
      try {
        if (lstatSync(f).isDirectory()) continue;
        unlinkSync(f);
        n++;
      } catch {
        /* gone already, or not ours to remove: left for the next sweep */
      }
    }
  } catch {
    /* no trash folder */
  }
  return n;
}

/** What the background process runs: emptyTrash, written out so it needs no module (argv[1] is the folder). */
const SWEEP = `const fs=require('fs'),p=require('path');const d=process.argv[1];
try{if(fs.lstatSync(d).isDirectory())for(const n of fs.readdirSync(d)){const f=p.join(d,n);
try{if(!fs.lstatSync(f).isDirectory())fs.unlinkSync(f)}catch{}}}catch{}`;

/**
 * Starts a detached process of the lowest priority that empties the trash,
 * and returns at once: the command's exit does not wait for it, nor does
 * anything reading the command's output (its stdio is closed). When it cannot
 * be started, the trash is emptied here instead.
 */
export function emptyTrashInBackground(repo: Repository): void {
  const dir = trashDir(repo);
  try {
    faultPoint('unlink', dir);
    const child = spawn(process.execPath, ['-e', SWEEP, dir], {
      detached: true,
      stdio: 'ignore',
      // ELECTRON_RUN_AS_NODE: where the library runs inside Electron, execPath is Electron's, which then acts as node
      env: { PATH: process.env.PATH ?? '', ELECTRON_RUN_AS_NODE: '1' },
    });
    child.on('error', () => unlinkAllIn(dir));
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 19);
      } catch {
        /* lower priority is a courtesy */
      }
    }
    child.unref();
  } catch {
    unlinkAllIn(dir);
  }
}
