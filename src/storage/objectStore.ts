import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { blake3Hex } from './hash.js';
import { encodeObject, decodeObject, encodingOf, HEADER_SIZE } from './codec.js';
import { writeFileAtomic } from './atomic.js';
import { objectPath } from './chunkTasks.js';

/** ObjectStore holds immutable objects named by the BLAKE3 hash of their content. */
export interface ObjectStore {
  /** True when the object is present (not checked for corruption). */
  has(id: string): boolean;
  /** The verified content of an object; throws OBJECT_MISSING or OBJECT_CORRUPT. */
  get(id: string): Buffer;
  /** Stores content and returns its id; a no-op when it is already present. */
  put(content: Uint8Array): string;
  /** Size of the object as stored (compressed), or -1 when absent. */
  storedSize(id: string): number;
  /** Every object id present, in no particular order. */
  list(): Iterable<string>;
}

/** Options of the filesystem object store. */
export interface FsObjectStoreOptions {
  level: number;
  fsync: boolean;
}

/** An ObjectStore in `.mvm/objects`, one file per object under `<2 hex>/<rest>`. */
export class FsObjectStore implements ObjectStore {
  constructor(readonly dir: string, readonly tmpDir: string, private readonly opts: FsObjectStoreOptions) {}

  /** The file that holds object `id`. */
  path(id: string): string {
    return objectPath(this.dir, id);
  }

  has(id: string): boolean {
    return existsSync(this.path(id));
  }

  get(id: string): Buffer {
    let stored: Buffer;
    try {
      stored = readFileSync(this.path(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new MvmError('OBJECT_MISSING', `object ${id} is missing`, { id, hint: "run 'mvm fsck' to see what else is affected" });
      }
      throw fromSystemError(e, this.path(id), 'reading');
    }
    const content = decodeObject(stored, id);
    if (blake3Hex(content) !== id) {
      throw new MvmError('OBJECT_CORRUPT', `object ${id} is corrupt (hash mismatch)`, { id, hint: "run 'mvm fsck' to list every damaged object" });
    }
    return content;
  }

  put(content: Uint8Array): string {
    const id = blake3Hex(content);
    if (this.has(id)) return id;
    const enc = encodeObject(content, { level: this.opts.level });
    mkdirSync(join(this.dir, id.slice(0, 2)), { recursive: true });
    writeFileAtomic(this.path(id), enc.bytes, { tmpDir: this.tmpDir, fsync: this.opts.fsync, mode: 0o444 });
    return id;
  }

  storedSize(id: string): number {
    try {
      return statSync(this.path(id)).size;
    } catch {
      return -1;
    }
  }

  /** The encoding byte of a stored object (see codec.ts), or -1 when unreadable. */
  encoding(id: string): number {
    let fd = -1;
    try {
      fd = openSync(this.path(id), 'r');
      const head = Buffer.alloc(HEADER_SIZE);
      return encodingOf(head.subarray(0, readSync(fd, head, 0, HEADER_SIZE, 0)));
    } catch {
      return -1;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  *list(): Iterable<string> {
    let fans: string[];
    try {
      fans = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const fan of fans) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const rest of readdirSync(join(this.dir, fan))) {
        if (/^[0-9a-f]{62}$/.test(rest)) yield fan + rest;
      }
    }
  }
}
