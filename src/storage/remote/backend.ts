import { MvmError } from '../../errors.js';
import { MAX_PACK_BYTES } from '../../core/limits.js';

/** A file read from a remote, with the tag a conditional write compares against. */
export interface RemoteFile {
  data: Buffer;
  /** Identifies this content: an ETag on S3, the content hash in a folder. */
  tag: string;
}

/** What a remote backend has done so far: requests made and bytes moved. */
export interface TransferStats {
  requests: number;
  bytesUp: number;
  bytesDown: number;
}

/**
 * RemoteBackend is a remote store of files under keys (`packs/<id>.pack`,
 * `refs/heads/main`, ...): a folder, or an S3-compatible bucket and prefix.
 * Everything read from one is untrusted; callers verify it.
 */
export interface RemoteBackend {
  /** The remote as the user named it (never with credentials). */
  readonly url: string;
  readonly stats: TransferStats;
  /**
   * A whole file with its tag, or null when it does not exist. A file larger
   * than `max` bytes (default REMOTE_LIMITS.other) is REMOTE_CORRUPT, found
   * before it is read.
   */
  read(key: string, max?: number): Promise<RemoteFile | null>;
  /**
   * `length` bytes at `offset` of a file; REMOTE_CORRUPT when the file is shorter (found before anything is allocated)
   * or the range is not one a pack can hold.
   */
  readRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** Writes a file whole: a reader sees the old content or the new one, never a part. */
  write(key: string, data: Uint8Array): Promise<void>;
  /**
   * Writes a file of `size` bytes whole from its parts, in order, holding one
   * part at a time (a multipart upload on S3); a reader never sees a part.
   */
  writeParts(key: string, size: number, parts: Iterable<Buffer>): Promise<void>;
  /**
   * Compare-and-swap: writes only when the file still has tag `expected`
   * (null: it does not exist yet). Returns false when it had moved.
   */
  swap(key: string, data: Uint8Array, expected: string | null): Promise<boolean>;
  /** Every key under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** The size in bytes of a file, or null when it does not exist (one request, no body). */
  size(key: string): Promise<number | null>;
  /** Deletes a file; nothing happens when it does not exist (fsck --remote's repair retires damaged packs). */
  remove(key: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** A new, zeroed TransferStats. */
export function newStats(): TransferStats {
  return { requests: 0, bytesUp: 0, bytesDown: 0 };
}

/**
 * Refuses, as REMOTE_CORRUPT naming the file, a byte range no pack index mvm writes could name (negative, fractional,
 * past 4 GiB).
 */
export function checkRange(key: string, url: string, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > MAX_PACK_BYTES
  ) {
    throw new MvmError(
      'REMOTE_CORRUPT',
      `remote file ${key} on ${url}: its index names bytes ${offset}+${length}, which no pack holds`,
      { url, key, hint: 'the remote is damaged; remove that pack index, then push again from a complete repository' },
    );
  }
}

/** True when a remote key is one mvm could have written: relative, no `..` or empty parts, plain characters. */
export function isSafeKey(key: string): boolean {
  return /^[A-Za-z0-9._\-/]+$/.test(key) && key.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}
