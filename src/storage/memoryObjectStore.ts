import { blake3Hex } from './hash.js';
import { encodeObject } from './codec.js';
import { decodeVerified, objectMissing, rangeBounds, type ByteRange } from './objectFile.js';
import type { ObjectStore } from './objectStore.js';

/** Options of the in-memory object store. */
export interface MemoryObjectStoreOptions {
  /** zstd level for `put` (default 3; 0 stores raw). */
  level?: number;
  /** The map of stored bytes by id to keep objects in: pass one to share it, or to damage objects in a test. */
  objects?: Map<string, Buffer>;
}

/**
 * An ObjectStore held in memory, for tests: it keeps each object's encoded
 * bytes exactly as FsObjectStore's files hold them, and verifies as it does.
 */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects: Map<string, Buffer>;
  private readonly level: number;

  constructor(opts: MemoryObjectStoreOptions = {}) {
    this.objects = opts.objects ?? new Map();
    this.level = opts.level ?? 3;
  }

  has(id: string): boolean {
    return this.objects.has(id);
  }

  get(id: string): Buffer {
    return decodeVerified(this.readStored(id), id);
  }

  put(content: Uint8Array): string {
    const id = blake3Hex(content);
    if (!this.has(id)) this.objects.set(id, encodeObject(content, { level: this.level }).bytes);
    return id;
  }

  storedSize(id: string): number {
    return this.objects.get(id)?.length ?? -1;
  }

  storedTotal(ids: Iterable<string>): number {
    let total = 0;
    for (const id of ids) total += this.objects.get(id)?.length ?? 0;
    return total;
  }

  list(): Iterable<string> {
    return [...this.objects.keys()];
  }

  readStored(id: string, range?: ByteRange): Buffer {
    const stored = this.objects.get(id);
    if (!stored) throw objectMissing(id);
    const [start, end] = rangeBounds(stored.length, range);
    return Buffer.from(stored.subarray(start, end));
  }

  putStored(id: string, stored: Uint8Array): void {
    decodeVerified(stored, id, { scratch: true });
    if (!this.has(id)) this.objects.set(id, Buffer.from(stored));
  }

  remove(id: string): number {
    const stored = this.objects.get(id);
    this.objects.delete(id);
    return stored ? stored.length : -1;
  }
}
