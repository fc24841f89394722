import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { readFully } from '../readFully.js';
import { dirname, join, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../../errors.js';
import { blake3Hex } from '../hash.js';
import { tempPath, fsyncDir } from '../atomic.js';
import { acquireLock, isLockFileName } from '../lock.js';
import { checkRange, isSafeKey, newStats, type RemoteBackend, type RemoteFile } from './backend.js';
import { tooLargeMessage } from './limits.js';
import { REMOTE_LIMITS } from '../../core/limits.js';

const LOCK_WAIT_MS = 10_000;
/** The top-level names of a folder remote (see docs/FORMAT.md, Remotes). */
const REMOTE_ENTRIES = new Set([
  '.tmp',
  'mvm-remote.json',
  'packs',
  'refs',
  'numbers',
  'signatures',
  'annotations',
  'envs',
]);

function remoteError(e: unknown, path: string, doing: string): MvmError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new MvmError('REMOTE_DENIED', `permission denied while ${doing} ${path}`, {
      path,
      hint: 'check that you may write to the remote folder',
    });
  }
  return fromSystemError(e, path, doing);
}

/**
 * FolderBackend keeps a remote in a folder (a shared mount, another disk).
 * Writes are temp-file-then-rename inside the folder; compare-and-swap holds
 * a lock file beside the key (created whole with link(), taken over when its
 * process is gone), so two pushes on one host or one NFS share cannot both win.
 */
export class FolderBackend implements RemoteBackend {
  readonly stats = newStats();
  private readonly tmp: string;

  constructor(
    readonly url: string,
    readonly root: string,
  ) {
    this.root = resolve(root);
    this.tmp = join(this.root, '.tmp');
  }

  /** Makes sure the folder exists (its parent must), for a first push. */
  ensure(): void {
    try {
      if (!statSync(dirname(this.root)).isDirectory()) throw new Error('not a folder');
      mkdirSync(this.tmp, { recursive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as Error).message === 'not a folder') {
        throw new MvmError(
          'REMOTE_NOT_FOUND',
          `remote folder ${this.root} cannot be created: its parent does not exist`,
          { url: this.url, hint: 'create the parent folder or mount the share first' },
        );
      }
      throw remoteError(e, this.root, 'creating');
    }
  }

  /**
   * What the folder holds besides what mvm writes there (a concurrent first push may be writing it): files of something
   * else.
   */
  foreignEntries(): string[] {
    try {
      return readdirSync(this.root).filter((n) => !REMOTE_ENTRIES.has(n) && !isLockFileName(n));
    } catch {
      return [];
    }
  }

  private path(key: string): string {
    if (!isSafeKey(key))
      throw new MvmError('REMOTE_CORRUPT', `remote key '${key}' is not a key mvm writes`, { url: this.url, key });
    return join(this.root, ...key.split('/'));
  }

  async read(key: string, max: number = REMOTE_LIMITS.other): Promise<RemoteFile | null> {
    this.stats.requests++;
    const p = this.path(key);
    let data: Buffer;
    let fd = -1;
    try {
      fd = openSync(p, 'r');
      // the size first: a huge or sparse file is refused before a byte is read
      const st = fstatSync(fd);
      if (!st.isFile())
        throw new MvmError('REMOTE_CORRUPT', `remote key ${key} on ${this.url} is not a file`, {
          url: this.url,
          key,
          hint: 'the remote is damaged; remove it from the remote folder',
        });
      if (st.size > max)
        throw new MvmError('REMOTE_CORRUPT', tooLargeMessage(key, this.url, st.size, max), {
          url: this.url,
          key,
          size: st.size,
          max,
          hint: 'the remote is damaged; remove or repair that file',
        });
      data = Buffer.allocUnsafe(st.size);
      const got = readFully(fd, data, 0);
      if (got !== st.size)
        throw new MvmError('IO_ERROR', `remote file ${key} changed size while it was read`, {
          url: this.url,
          key,
          hint: 'run the command again',
        });
    } catch (e) {
      if (e instanceof MvmError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        return null;
      throw remoteError(e, p, 'reading');
    } finally {
      if (fd >= 0) closeSync(fd);
    }
    this.stats.bytesDown += data.length;
    return { data, tag: blake3Hex(data) };
  }

  async readRange(key: string, offset: number, length: number): Promise<Buffer> {
    this.stats.requests++;
    const p = this.path(key);
    checkRange(key, this.url, offset, length);
    let fd = -1;
    try {
      fd = openSync(p, 'r');
      // a lying index gets no allocation of the length it claims
      if (offset + length > fstatSync(fd).size)
        throw new MvmError('REMOTE_CORRUPT', `remote file ${key} is shorter than its index says`, {
          url: this.url,
          key,
          hint: 'the remote is damaged; push again from a complete repository',
        });
      const buf = Buffer.allocUnsafe(length);
      const got = readFully(fd, buf, offset);
      this.stats.bytesDown += got;
      if (got < length)
        throw new MvmError('REMOTE_CORRUPT', `remote file ${key} is shorter than its index says`, {
          url: this.url,
          key,
          hint: 'the remote is damaged; push again from a complete repository',
        });
      return buf;
    } catch (e) {
      if (e instanceof MvmError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new MvmError('REMOTE_CORRUPT', `remote file ${key} is missing`, {
          url: this.url,
          key,
          hint: 'the remote is damaged; push again from a complete repository',
        });
      throw remoteError(e, p, 'reading');
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    await this.writeParts(key, data.length, [Buffer.from(data.buffer, data.byteOffset, data.length)]);
  }

  async writeParts(key: string, size: number, parts: Iterable<Buffer>): Promise<void> {
    this.stats.requests++;
    const p = this.path(key);
    const tmp = tempPath(this.tmp, 'w');
    let fd = -1;
    let written = 0;
    try {
      mkdirSync(this.tmp, { recursive: true });
      mkdirSync(dirname(p), { recursive: true });
      fd = openSync(tmp, 'wx');
      for (const part of parts) {
        for (let off = 0; off < part.length; ) off += writeSync(fd, part, off, part.length - off);
        written += part.length;
      }
      closeSync(fd);
      fd = -1;
      if (written !== size)
        throw new MvmError('IO_ERROR', `${key}: wrote ${written} bytes where ${size} were planned`, {
          url: this.url,
          key,
        });
      renameSync(tmp, p);
      fsyncDir(dirname(p));
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        /* not created */
      }
      throw e instanceof MvmError ? e : remoteError(e, p, 'writing');
    }
    this.stats.bytesUp += written;
  }

  async swap(key: string, data: Uint8Array, expected: string | null): Promise<boolean> {
    const p = this.path(key);
    try {
      mkdirSync(dirname(p), { recursive: true });
    } catch (e) {
      throw remoteError(e, p, 'writing');
    }
    const lock = await acquireLock(`${p}.lock`, 'push', LOCK_WAIT_MS);
    try {
      const cur = await this.read(key);
      if ((cur?.tag ?? null) !== expected) return false;
      await this.write(key, data);
      return true;
    } finally {
      lock.release();
    }
  }

  async list(prefix: string): Promise<string[]> {
    this.stats.requests++;
    const out: string[] = [];
    const walk = (rel: string) => {
      let names: string[];
      try {
        names = readdirSync(join(this.root, ...rel.split('/').filter(Boolean)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw remoteError(e, join(this.root, rel), 'listing');
      }
      for (const n of names) {
        const key = rel ? `${rel}/${n}` : n;
        if (statSync(join(this.root, ...key.split('/'))).isDirectory()) walk(key);
        // a lock beside a key, and the owner file of a process waiting for it, are the backend's own
        else if (isSafeKey(key) && !isLockFileName(n)) out.push(key);
      }
    };
    walk(prefix.replace(/\/$/, ''));
    return out.sort();
  }

  async size(key: string): Promise<number | null> {
    this.stats.requests++;
    const p = this.path(key);
    try {
      return statSync(p).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        return null;
      throw remoteError(e, p, 'reading');
    }
  }

  async remove(key: string): Promise<void> {
    this.stats.requests++;
    const p = this.path(key);
    try {
      unlinkSync(p);
      fsyncDir(dirname(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw remoteError(e, p, 'deleting');
    }
  }

  async close(): Promise<void> {
    /* nothing held */
  }
}
