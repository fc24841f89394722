import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { blake3Hex } from './hash.js';
import { encodeObject, decodeObject } from './codec.js';
import type { GroupKind } from './bytegroup.js';
import type { PoolResult } from './workerPool.js';
import { MvmError } from '../errors.js';

/** Reads, decodes and verifies one object, then writes its content into `fd` at `offset`. */
export interface RestoreTask {
  op: 'restore';
  id: string;
  size: number;
  objectsDir: string;
  fd: number;
  offset: number;
}
/**
 * Makes `size` bytes at `offset` of `fd` hold chunk `id`: they are read and
 * hashed first, and only when they differ is the chunk decoded from the store
 * and written. Used when a file is rebuilt from a copy of an older version.
 */
export interface PatchTask {
  op: 'patch';
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
/** One chunk of a RangeTask: a byte range of the file and the byte grouping to try. */
export interface RangeSpan {
  start: number;
  end: number;
  group: GroupKind | null;
}
/**
 * Reads a run of chunks of a file itself, hashes them, and with `store`
 * compresses and writes those not stored yet. Workers each take a range, so
 * reading and hashing scale across cores with no buffers crossing threads.
 */
export interface RangeTask {
  op: 'range';
  path: string;
  spans: RangeSpan[];
  store: boolean;
  objectsDir: string;
  tmpDir: string;
  level: number;
  fsync: boolean;
}
/** Work that the chunk worker pool runs. */
export type ChunkTask = RestoreTask | VerifyTask | RangeTask | PatchTask;

/** One chunk's outcome in a RangeTask. */
export interface RangeChunk {
  id: string;
  size: number;
  isNew: boolean;
  storedBytes: number;
}

/** What a task returns: the chunk id, its size, and whether it was new and its stored size. */
export interface ChunkResult extends PoolResult {
  id: string;
  size: number;
  isNew: boolean;
  storedBytes: number;
  /** Per-chunk outcomes of a RangeTask. */
  chunks?: RangeChunk[];
  /** For a PatchTask: true when the bytes already held the chunk and nothing was written. */
  kept?: boolean;
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

function writeObjectFile(task: Pick<RangeTask, 'objectsDir' | 'tmpDir' | 'fsync'>, id: string, bytes: Uint8Array): void {
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

/**
 * Reads, decodes and verifies one stored object. Throws MvmError
 * OBJECT_MISSING or OBJECT_CORRUPT. With `reuse`, the content lives in a
 * per-thread scratch buffer valid until the next load.
 */
export function loadChunk(objectsDir: string, id: string, reuse: boolean): { content: Buffer; storedBytes: number } {
  let stored: Buffer;
  try {
    stored = readObjectFile(objectPath(objectsDir, id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MvmError('OBJECT_MISSING', `object ${id} is missing`, { id });
    throw e;
  }
  const storedBytes = stored.length;
  const content = decodeObject(stored, id, reuse);
  if (blake3Hex(content) !== id) throw new MvmError('OBJECT_CORRUPT', `object ${id} is corrupt (hash mismatch)`, { id });
  return { content, storedBytes };
}

let rangeScratch = Buffer.alloc(0);

function runRange(task: RangeTask): RangeChunk[] {
  const fd = openSync(task.path, 'r');
  try {
    return task.spans.map((span) => {
      const len = span.end - span.start;
      if (rangeScratch.length < len) rangeScratch = Buffer.alloc(Math.max(len, 1 << 20));
      const data = rangeScratch.subarray(0, len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, data, got, len - got, span.start + got);
        if (n === 0) throw new MvmError('IO_ERROR', `${task.path} shrank while it was being read`, { path: task.path, hint: 'wait until the file is fully written and run the command again' });
        got += n;
      }
      const id = blake3Hex(data);
      if (!task.store || existsSync(objectPath(task.objectsDir, id))) return { id, size: len, isNew: false, storedBytes: 0 };
      const enc = encodeObject(data, { level: task.level, group: span.group }, true);
      writeObjectFile(task, id, enc.bytes);
      return { id, size: len, isNew: true, storedBytes: enc.bytes.length };
    });
  } finally {
    closeSync(fd);
  }
}

/** Runs one task in the current thread; the worker entry point and the inline pool both call this. */
export function runChunkTask(task: ChunkTask): ChunkResult {
  try {
    switch (task.op) {
      case 'range': {
        const chunks = runRange(task);
        return { id: '', size: chunks.reduce((n, c) => n + c.size, 0), isNew: false, storedBytes: 0, chunks };
      }
      case 'patch': {
        if (rangeScratch.length < task.size) rangeScratch = Buffer.alloc(Math.max(task.size, 1 << 20));
        const have = rangeScratch.subarray(0, task.size);
        let got = 0;
        while (got < task.size) {
          const n = readSync(task.fd, have, got, task.size - got, task.offset + got);
          if (n === 0) break;
          got += n;
        }
        if (got === task.size && blake3Hex(have) === task.id) return { id: task.id, size: task.size, isNew: false, storedBytes: 0, kept: true };
        const { content, storedBytes } = loadChunk(task.objectsDir, task.id, true);
        let off = 0;
        while (off < content.length) off += writeSync(task.fd, content, off, content.length - off, task.offset + off);
        return { id: task.id, size: content.length, isNew: false, storedBytes, kept: false };
      }
      case 'verify':
      case 'restore': {
        const { content, storedBytes } = loadChunk(task.objectsDir, task.id, true);
        if (task.op === 'restore' && content.length !== task.size) {
          return { id: task.id, size: 0, isNew: false, storedBytes: 0, error: { code: 'OBJECT_CORRUPT', message: `object ${task.id} is corrupt (wrong size)`, id: task.id } };
        }
        if (task.op === 'restore') {
          let off = 0;
          while (off < content.length) off += writeSync(task.fd, content, off, content.length - off, task.offset + off);
        }
        return { id: task.id, size: content.length, isNew: false, storedBytes };
      }
    }
  } catch (e) {
    const id = task.op === 'restore' || task.op === 'verify' || task.op === 'patch' ? task.id : undefined;
    return { id: id ?? '', size: 0, isNew: false, storedBytes: 0, error: taskError(e, id) };
  }
}

/** A thrown error as data that can cross a thread boundary (MvmError code, or the errno). */
export function taskError(e: unknown, id?: string): NonNullable<PoolResult['error']> {
  if (e instanceof MvmError) return { code: e.code, message: e.message, id: (e.data.id as string | undefined) ?? id };
  const err = e as NodeJS.ErrnoException;
  return { code: 'IO_ERROR', message: err?.message ?? String(e), id, errno: typeof err?.code === 'string' ? err.code : undefined };
}
