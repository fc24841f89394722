import { dirname } from 'node:path';
import {
  constants as fsConstants,
  copyFileSync,
  rmSync,
  chmodSync,
  closeSync,
  ftruncateSync,
  openSync,
  renameSync,
  unlinkSync,
  fsyncSync,
  statSync,
  type BigIntStats,
} from 'node:fs';
import { fromSystemError, isMvmError, MvmError } from '../../errors.js';
import type { ChunkPool } from '../../storage/chunkPool.js';
import { tempPath } from '../../storage/atomic.js';
import type { ChunkRef, FileObject } from '../../core/objects.js';
import { type Repository, bounded, partialRemote } from '../repository/index.js';
import type { StagedFile } from './staging.js';
import { faultPoint } from '../../storage/faults.js';

/** Reports bytes processed, for progress bars. */
export type OnBytes = (n: number) => void;

/**
 * Assembles a file's exact bytes in a new temporary file in `tmpDir`: chunks
 * are read, verified and written at their offsets by the pool. Returns the
 * temporary path, with the file's mode set; on any failure (a missing or
 * corrupt chunk) the temporary file is removed and nothing else was touched.
 * With `staged`, that file (built while the chunks downloaded) is completed
 * instead: only the chunks not already in it are restored.
 */
export async function assembleFile(
  repo: Repository,
  pool: ChunkPool,
  file: FileObject,
  mode: number,
  opts: {
    onBytes?: OnBytes;
    path?: string;
    tmpDir?: string;
    base?: { path: string; file: FileObject };
    staged?: StagedFile;
  } = {},
): Promise<string> {
  const tmp = opts.staged?.tmp ?? tempPath(opts.tmpDir ?? repo.tmpDir, 'co');
  const filled = opts.staged?.filled ?? new Set<number>();
  let fd = -1;
  try {
    // Rebuilding from the file the workspace already holds (another version of it): copy it in
    // the kernel, then fix only the chunks that differ. Every chunk taken from the copy is still
    // hashed and replaced from the store if it does not match, so a file changed behind our back
    // cannot leak into the result.
    const baseAt = new Map<number, string>();
    if (opts.base && !opts.staged) {
      try {
        copyFileSync(opts.base.path, tmp, fsConstants.COPYFILE_EXCL);
        for (const [off, id] of chunkOffsets(opts.base.file)) baseAt.set(off, id);
      } catch {
        rmSync(tmp, { force: true });
        baseAt.clear();
      }
    }
    faultPoint('write', opts.path ?? tmp);
    fd = openSync(tmp, baseAt.size || opts.staged ? 'r+' : 'wx', 0o600);
    ftruncateSync(fd, file.size);
    const offsets: number[] = [];
    let offset = 0;
    for (const c of file.chunks) {
      offsets.push(offset);
      offset += c.size;
    }
    const out = fd;
    // a partial store fetches the chunks this file reads from the store first
    await repo.chunks.ensure(readsOf(file, baseAt, filled));
    await bounded(file.chunks.length, pool.capacity, async (i) => {
      const c = file.chunks[i]!;
      const at = offsets[i]!;
      // a staged file already holds this chunk here, verified when it was downloaded
      if (filled.has(at)) return opts.onBytes?.(c.size);
      const op = baseAt.get(at) === c.id ? ('patch' as const) : ('restore' as const);
      const task = { id: c.id, size: c.size, store: repo.objects.workerHandle(), fd: out, offset: at };
      let r;
      try {
        r = await pool.submit({ op, ...task });
      } catch (e) {
        // the copy differed from its version after all, and a partial store lacks the chunk: fetch it
        if (op !== 'patch' || !isMvmError(e, 'OBJECT_MISSING') || !partialRemote(repo)) throw e;
        await repo.chunks.ensure([c]);
        r = await pool.submit({ op: 'restore', ...task });
      }
      opts.onBytes?.(r.size);
    });
    if (repo.fsyncObjects) {
      faultPoint('fsync', opts.path ?? tmp);
      fsyncSync(fd);
    }
    closeSync(fd);
    fd = -1;
    chmodSync(tmp, mode & 0o7777);
    return tmp;
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    if (e instanceof MvmError && opts.path) e.data.path ??= opts.path;
    throw e instanceof MvmError ? e : fromSystemError(e, tmp, 'writing');
  }
}

/**
 * The chunks assembling `file` reads from the store: those neither `filled`
 * (staged) nor at the same offset of `base`, the file it is rebuilt from
 * (offset -> chunk id; those are kept when their bytes still match).
 */
export function readsOf(file: FileObject, base: Map<number, string>, filled?: Set<number>): ChunkRef[] {
  const out: ChunkRef[] = [];
  let at = 0;
  for (const c of file.chunks) {
    if (!filled?.has(at) && base.get(at) !== c.id) out.push(c);
    at += c.size;
  }
  return out;
}

/** Offset -> chunk id of a stored file. */
export function chunkOffsets(file: FileObject): Map<number, string> {
  const m = new Map<number, string>();
  let at = 0;
  for (const c of file.chunks) {
    m.set(at, c.id);
    at += c.size;
  }
  return m;
}

/** Moves an assembled file over `dest` (one atomic rename) and returns the new file's stat. */
export function installFile(tmp: string, dest: string): BigIntStats {
  try {
    try {
      faultPoint('rename', dest);
      renameSync(tmp, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      // .mvm on another filesystem than this file: copy next to it, then rename there
      const near = tempPath(dirname(dest), '.mvm-co');
      try {
        copyFileSync(tmp, near);
        chmodSync(near, statSync(tmp).mode & 0o7777);
        renameSync(near, dest);
      } catch (err) {
        rmSync(near, { force: true });
        throw err;
      }
      unlinkSync(tmp);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
    throw fromSystemError(e, dest, 'writing');
  }
  return statSync(dest, { bigint: true });
}

/**
 * Writes a file's exact bytes to `dest`: assembled and verified in a
 * temporary file (in `tmpDir`, which must be on dest's filesystem), then
 * renamed over `dest`. A corrupt or missing chunk leaves `dest` untouched.
 */
export async function restoreFile(
  repo: Repository,
  pool: ChunkPool,
  file: FileObject,
  dest: string,
  mode: number,
  opts: { onBytes?: OnBytes; path?: string; tmpDir?: string } = {},
): Promise<BigIntStats> {
  return installFile(await assembleFile(repo, pool, file, mode, opts), dest);
}
