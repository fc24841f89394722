import { openSync, readSync } from 'node:fs';

/** The file at `path` open for reading, or null when it cannot be opened (missing, unreadable). */
export function openForReading(path: string): number | null {
  try {
    return openSync(path, 'r');
  } catch {
    return null;
  }
}

/**
 * Reads `length` bytes (default all of `buf`) of the file open as `fd`,
 * from `position`, into the start of `buf`: as many reads as it takes, fewer
 * bytes only where the file ends. Returns the bytes read.
 */
export function readFully(fd: number, buf: Uint8Array, position: number, length = buf.length): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
