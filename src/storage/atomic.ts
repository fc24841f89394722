import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fromSystemError } from '../errors.js';
import { faultPoint } from './faults.js';

/** A unique name for a temporary file inside `dir`. */
export function tempPath(dir: string, hint = 'tmp'): string {
  return join(dir, `${hint}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in
 * `tmpDir` (same filesystem), are optionally fsynced, and the file is renamed
 * over `path`. A crash at any point leaves either the old file or the new one.
 * `faults: false` leaves the write out of fault injection (storage/faults.ts):
 * for derived files written best effort, whether a write happens depends on
 * what earlier commands left, which would make fault points vary between runs.
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { tmpDir: string; fsync?: boolean; mode?: number; faults?: boolean },
): void {
  const fault = opts.faults === false ? () => undefined : faultPoint;
  const tmp = tempPath(opts.tmpDir, 'w');
  let fd = -1;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fault('write', path);
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (opts.fsync) {
      fault('fsync', path);
      fsyncSync(fd);
    }
    closeSync(fd);
    fd = -1;
    fault('rename', path);
    renameSync(tmp, path);
    if (opts.fsync) fsyncDir(dirname(path));
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw fromSystemError(e, path, 'writing');
  }
}

/** fsyncs a directory so a rename inside it survives power loss. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
