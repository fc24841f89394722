import { dirname } from 'node:path';
import { copyFile } from 'node:fs/promises';
import {
  constants as fsConstants,
  copyFileSync,
  lstatSync,
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
import { nowNs, RACY_NS } from './workspace.js';

/** Reports bytes processed, for progress bars. */
export type OnBytes = (n: number) => void;

/** Where an assembled file's bytes came from (bytes of the new file; updated as it is built). */
export interface AssemblyTally {
  /** Taken from the in-kernel copy of the old file (reflink or `copy_file_range`), never read again. */
  copied: number;
  /** Taken from that copy after being read back and hashed (the old file was not known unchanged). */
  checked: number;
  /** Decoded from the store and written. */
  decoded: number;
}

/** The old file a new one is built from: its path, its file object and, when known, its stat when identified. */
export interface AssemblyBase {
  path: string;
  file: FileObject;
  /**
   * The file's stat when its content was identified (stat cache or a fresh read). When the file still has exactly
   * this stat after the copy, and was not written within RACY_NS before it, the copied chunks are trusted.
   */
  seen?: BigIntStats;
}

/**
 * Assembles a file's exact bytes in a new temporary file in `tmpDir`: chunks
 * are read, verified and written at their offsets by the pool. Returns the
 * temporary path, with the file's mode set; on any failure (a missing or
 * corrupt chunk) the temporary file is removed and nothing else was touched.
 * With `staged`, that file (built while the chunks downloaded) is completed
 * instead: only the chunks not already in it are restored. With `base` (the
 * workspace's other version of the file), see copyBase.
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
    base?: AssemblyBase;
    staged?: StagedFile;
    tally?: AssemblyTally;
  } = {},
): Promise<string> {
  const tmp = opts.staged?.tmp ?? tempPath(opts.tmpDir ?? repo.tmpDir, 'co');
  const filled = opts.staged?.filled ?? new Set<number>();
  const tally = opts.tally ?? { copied: 0, checked: 0, decoded: 0 };
  let fd = -1;
  try {
    faultPoint('write', opts.path ?? tmp);
    const { baseAt, trusted } =
      opts.base && !opts.staged ? await copyBase(repo, file, opts.base, tmp) : { baseAt: new Map(), trusted: false };
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
      const same = baseAt.get(at) === c.id;
      // the copy of a file known unchanged since it was identified holds this chunk here already
      if (same && trusted) {
        tally.copied += c.size;
        return opts.onBytes?.(c.size);
      }
      const op = same ? ('patch' as const) : ('restore' as const);
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
      if (r.op === 'patch' && r.kept) tally.checked += r.size;
      else tally.decoded += r.size;
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
 * Starts a new file as a copy of the old one, made in the kernel: a reflink
 * where the filesystem shares extents (btrfs, xfs), else `copy_file_range`
 * (libuv's copyfile), so no byte crosses into user space. Returns the old
 * file's chunks by offset, and whether they can be trusted without reading
 * them back: only when the file was identified with `seen` and still has that
 * stat (size, mtime, ctime, inode) after the copy, with an mtime older than
 * RACY_NS before the copy began, so no write can have slipped in unseen.
 * Otherwise every chunk taken from the copy is hashed and replaced from the
 * store if it does not match, so a file changed behind our back cannot leak
 * into the result. Nothing is copied (an empty map) when under half of the
 * new file lines up with the old one (tensors resized shift the offsets): the
 * copy would cost more than decoding, unless a partial store would have to
 * fetch what the copy holds. A copy that fails is no copy.
 */
async function copyBase(
  repo: Repository,
  file: FileObject,
  base: AssemblyBase,
  tmp: string,
): Promise<{ baseAt: Map<number, string>; trusted: boolean }> {
  const at = chunkOffsets(base.file);
  let shared = 0;
  let offset = 0;
  for (const c of file.chunks) {
    if (at.get(offset) === c.id) shared += c.size;
    offset += c.size;
  }
  if (shared === 0 || (shared * 2 < file.size && !partialRemote(repo))) return { baseAt: new Map(), trusted: false };
  const started = nowNs();
  try {
    await copyFile(base.path, tmp, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
  } catch {
    rmSync(tmp, { force: true });
    return { baseAt: new Map(), trusted: false };
  }
  const seen = base.seen;
  let trusted = false;
  if (seen && seen.mtimeNs + RACY_NS < started) {
    const now = lstatSync(base.path, { bigint: true, throwIfNoEntry: false });
    trusted =
      !!now &&
      now.size === seen.size &&
      now.mtimeNs === seen.mtimeNs &&
      now.ctimeNs === seen.ctimeNs &&
      now.ino === seen.ino;
  }
  return { baseAt: at, trusted };
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
