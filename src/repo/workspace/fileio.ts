import { dirname } from 'node:path';
import { copyFile } from 'node:fs/promises';
import {
  constants as fsConstants,
  copyFileSync,
  existsSync,
  lstatSync,
  rmSync,
  chmodSync,
  closeSync,
  ftruncateSync,
  openSync,
  renameSync,
  unlinkSync,
  fsyncSync,
  fdatasync,
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
import { canExchange, exchangePaths } from '../../storage/exchange.js';
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
  let copy: BaseCopy | null = null;
  try {
    faultPoint('write', opts.path ?? tmp);
    copy = opts.base && !opts.staged ? await copyBase(repo, file, opts.base, tmp) : null;
    fd = openSync(tmp, copy || opts.staged ? 'r+' : 'wx', 0o600);
    const out = fd;
    // a copy writes the old file's length: the new one is set once it is done (chunks all lie below it)
    const copied = copy?.done.then((trusted) => {
      ftruncateSync(out, file.size);
      return trusted;
    });
    copied?.catch(() => undefined); // awaited below; a failure before then is handled in the catch
    if (!copy) ftruncateSync(fd, file.size);
    const baseAt = copy?.baseAt ?? new Map<number, string>();
    const offsets: number[] = [];
    const changed: number[] = [];
    const kept: number[] = [];
    let offset = 0;
    for (const [i, c] of file.chunks.entries()) {
      offsets.push(offset);
      // a staged file already holds this chunk here, verified when it was downloaded
      if (filled.has(offset)) opts.onBytes?.(c.size);
      else (baseAt.get(offset) === c.id ? kept : changed).push(i);
      offset += c.size;
    }
    // a partial store fetches the chunks this file reads from the store first
    await repo.chunks.ensure(readsOf(file, baseAt, filled));
    const write = async (i: number, op: 'patch' | 'restore') => {
      const c = file.chunks[i]!;
      const task = { id: c.id, size: c.size, store: repo.objects.workerHandle(), fd: out, offset: offsets[i]! };
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
    };
    const base = copy;
    // every task settles before the descriptor closes: a worker never writes to a reused descriptor number
    const settled = await Promise.allSettled([
      // changed chunks are decoded while the kernel copies: each is written once the copy has passed it
      bounded(changed.length, pool.capacity, async (k) => {
        const i = changed[k]!;
        await base?.passed(offsets[i]! + file.chunks[i]!.size);
        await write(i, 'restore');
      }),
      // the chunks the copy holds: trusted unread, or read back and hashed once it is complete
      (async () => {
        if (!copied) return;
        if (!(await copied)) return bounded(kept.length, pool.capacity, (k) => write(kept[k]!, 'patch'));
        for (const i of kept) {
          tally.copied += file.chunks[i]!.size;
          opts.onBytes?.(file.chunks[i]!.size);
        }
      })(),
    ]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    await copy?.settled;
    if (repo.fsyncObjects) {
      faultPoint('fsync', opts.path ?? tmp);
      fsyncSync(fd);
    }
    closeSync(fd);
    fd = -1;
    chmodSync(tmp, mode & 0o7777);
    return tmp;
  } catch (e) {
    // a copy still under way finishes before its file goes
    await copy?.done.catch(() => undefined);
    await copy?.settled;
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

/** An in-kernel copy of the old file into the new one, under way. */
interface BaseCopy {
  /** Offset -> chunk id of the old file. */
  baseAt: Map<number, string>;
  /** Resolves once the copy has written the new file up to `end` (it writes from the start, in order). */
  passed(end: number): Promise<void>;
  /** Resolves when the copy is complete, with whether its chunks can be trusted unread (see copyBase). */
  done: Promise<boolean>;
  /** Resolves (never rejects) once the copy and the write-back that runs beside it have both finished. */
  settled: Promise<void>;
}

const pause = () => new Promise<void>((r) => setTimeout(r, 2));

/**
 * Starts a new file as a copy of the old one, made in the kernel: a reflink
 * where the filesystem shares extents (btrfs, xfs), else `copy_file_range`
 * (libuv's copyfile), so no byte crosses into user space. The copy runs on
 * libuv's thread pool and writes from the start in order, so the file's size
 * says how far it has come (`passed`) and changed chunks can be written
 * behind it while it runs. Its chunks can be trusted without reading them
 * back (`done` resolves true) only when the file was identified with `seen`
 * and still has that stat (size, mtime, ctime, inode) after the copy, with an
 * mtime older than RACY_NS before the copy began, so no write can have
 * slipped in unseen. Otherwise every chunk taken from the copy is hashed and
 * replaced from the store if it does not match, so a file changed behind our
 * back cannot leak into the result. Null (nothing copied) when under half of
 * the new file lines up with the old one (tensors resized shift the offsets):
 * the copy would cost more than decoding, unless a partial store would have
 * to fetch what the copy holds; also null when the copy fails before it
 * creates the file (the old file gone, say). A failure later fails the file.
 */
async function copyBase(repo: Repository, file: FileObject, base: AssemblyBase, tmp: string): Promise<BaseCopy | null> {
  const at = chunkOffsets(base.file);
  let shared = 0;
  let offset = 0;
  for (const c of file.chunks) {
    if (at.get(offset) === c.id) shared += c.size;
    offset += c.size;
  }
  if (shared === 0 || (shared * 2 < file.size && !partialRemote(repo))) return null;
  const started = nowNs();
  const state: { ok?: boolean; error?: unknown } = {};
  const copying = copyFile(base.path, tmp, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE).then(
    () => {
      state.ok = true;
    },
    (e: unknown) => {
      state.ok = false;
      state.error = e;
    },
  );
  // the copy creates the file first; until then there is nothing to write into
  while (state.ok === undefined && !existsSync(tmp)) await pause();
  if (state.ok === false && !existsSync(tmp)) return null;
  const passed = async (end: number): Promise<void> => {
    for (;;) {
      if (state.ok === false) throw state.error;
      if (state.ok || (statSync(tmp, { throwIfNoEntry: false })?.size ?? 0) >= end) return;
      await pause();
    }
  };
  const done = copying.then(() => {
    if (state.ok === false) throw state.error;
    const seen = base.seen;
    if (!seen || seen.mtimeNs + RACY_NS >= started) return false;
    const now = lstatSync(base.path, { bigint: true, throwIfNoEntry: false });
    return (
      !!now &&
      now.size === seen.size &&
      now.mtimeNs === seen.mtimeNs &&
      now.ctimeNs === seen.ctimeNs &&
      now.ino === seen.ino
    );
  });
  // ext4 allocates a replacing file's delayed blocks inside a rename over the old file (auto_da_alloc): about
  // 0.5 s a GiB, serial, at the very end. Where the file is installed by an exchange, which allocates nothing,
  // the kernel writes it back later, as it does a copy made by cp; otherwise it is written back on another
  // thread while the copy runs, so the allocation overlaps the copy
  const settled = canExchange() ? copying : writeBehind(tmp, state);
  return { baseAt: at, passed, done, settled };
}

/**
 * Asks the kernel to write `path` back (fdatasync on libuv's thread pool)
 * again and again while a copy into it runs (until `state.ok` is set), so
 * its blocks are allocated as it grows rather than all at once when it is
 * renamed over the old file. An optimisation only: errors are ignored, and
 * there is no fault point (how many calls run depends on timing).
 */
async function writeBehind(path: string, state: { ok?: boolean }): Promise<void> {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    while (state.ok === undefined) {
      const wfd = fd;
      await new Promise<void>((res) => fdatasync(wfd, () => res()));
      for (let i = 0; i < 10 && state.ok === undefined; i++) await pause();
    }
  } catch {
    /* the file is gone: nothing to write back */
  } finally {
    if (fd >= 0) closeSync(fd);
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

/** Puts an assembled file at `dest` in one atomic step (an exchange over a file, else a rename); returns its stat. */
export function installFile(tmp: string, dest: string): BigIntStats {
  try {
    try {
      faultPoint('rename', dest);
      // over a file, an exchange puts the new one in place without the rename's allocation (storage/exchange.ts);
      // `tmp` then names the old file, which the caller keeps as a link of its own when it needs it
      if (lstatSync(dest, { throwIfNoEntry: false })?.isFile() && exchangePaths(tmp, dest)) {
        faultPoint('unlink', tmp);
        unlinkSync(tmp);
      } else renameSync(tmp, dest);
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
