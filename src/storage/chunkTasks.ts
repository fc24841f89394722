import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { blake3Hex } from './hash.js';
import { encodeObject, decodeObject } from './codec.js';
import type { GroupKind } from './bytegroup.js';

/** Stores one chunk: hash it, and unless the object exists, encode and write it atomically. */
export interface StoreTask {
  op: 'store';
  data: Uint8Array;
  objectsDir: string;
  tmpDir: string;
  level: number;
  group: GroupKind | null;
  fsync: boolean;
}
/** Hashes one chunk without storing it. */
export interface HashTask {
  op: 'hash';
  data: Uint8Array;
}
/** Reads, decodes and verifies one object, then writes its content into `fd` at `offset`. */
export interface RestoreTask {
  op: 'restore';
  id: string;
  size: number;
  objectsDir: string;
  fd: number;
  offset: number;
}
/** Reads, decodes and verifies one stored object without writing anything. */
export interface VerifyTask {
  op: 'verify';
  id: string;
  objectsDir: string;
}
/** Work that the chunk worker pool runs. */
export type ChunkTask = StoreTask | HashTask | RestoreTask | VerifyTask;

/** What a task returns: the chunk id, its size, and for stores whether it was new and its stored size. */
export interface ChunkResult {
  id: string;
  size: number;
  isNew: boolean;
  storedBytes: number;
  /** The task's chunk buffer, handed back by a worker for reuse. */
  buffer?: ArrayBuffer;
  /** Set when the task failed; errors cross the thread boundary as data. */
  error?: { code: string; message: string; id?: string; errno?: string };
}

/** The path of an object inside an objects directory: `<2 hex>/<rest>`. */
export function objectPath(objectsDir: string, id: string): string {
  return join(objectsDir, id.slice(0, 2), id.slice(2));
}

const madeDirs = new Set<string>();
let readScratch = Buffer.alloc(0);

/** Reads an object file into a per-thread buffer reused across tasks (valid until the next call). */
function readObjectFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (readScratch.length < size) readScratch = Buffer.alloc(Math.max(size, 1 << 20));
    let got = 0;
    while (got < size) {
      const n = readSync(fd, readScratch, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return readScratch.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function writeObjectFile(task: StoreTask, id: string, bytes: Uint8Array): void {
  const dest = objectPath(task.objectsDir, id);
  const dir = dirname(dest);
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const tmp = join(task.tmpDir, `o-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o444);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    if (task.fsync) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, dest);
}

/** Runs one task in the current thread; the worker entry point and the inline pool both call this. */
export function runChunkTask(task: ChunkTask): ChunkResult {
  try {
    switch (task.op) {
      case 'hash':
        return { id: blake3Hex(task.data), size: task.data.length, isNew: false, storedBytes: 0 };
      case 'store': {
        const id = blake3Hex(task.data);
        if (existsSync(objectPath(task.objectsDir, id))) return { id, size: task.data.length, isNew: false, storedBytes: 0 };
        const enc = encodeObject(task.data, { level: task.level, group: task.group }, true);
        writeObjectFile(task, id, enc.bytes);
        return { id, size: task.data.length, isNew: true, storedBytes: enc.bytes.length };
      }
      case 'verify':
      case 'restore': {
        let stored: Buffer;
        try {
          stored = readObjectFile(objectPath(task.objectsDir, task.id));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
            return { id: task.id, size: 0, isNew: false, storedBytes: 0, error: { code: 'OBJECT_MISSING', message: `object ${task.id} is missing`, id: task.id } };
          }
          throw e;
        }
        const content = decodeObject(stored, task.id, true);
        if ((task.op === 'restore' && content.length !== task.size) || blake3Hex(content) !== task.id) {
          return { id: task.id, size: 0, isNew: false, storedBytes: 0, error: { code: 'OBJECT_CORRUPT', message: `object ${task.id} is corrupt (hash mismatch)`, id: task.id } };
        }
        if (task.op === 'verify') return { id: task.id, size: content.length, isNew: false, storedBytes: stored.length };
        let off = 0;
        while (off < content.length) off += writeSync(task.fd, content, off, content.length - off, task.offset + off);
        return { id: task.id, size: content.length, isNew: false, storedBytes: stored.length };
      }
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { code?: string };
    const id = task.op === 'restore' || task.op === 'verify' ? task.id : undefined;
    return { id: id ?? '', size: 0, isNew: false, storedBytes: 0, error: { code: err.code && /^[A-Z_]+$/.test(err.code) && !err.errno ? err.code : 'IO_ERROR', message: err.message, id, errno: err.errno !== undefined ? err.code : undefined } };
  }
}
