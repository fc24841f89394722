import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { MvmError, fromSystemError } from '../../errors.js';
import { type Repository, withPool, type Progress } from '../repository/index.js';
import { readStatCache, recordStats, type StatEntry } from './statCache.js';
import type { ChunkPool } from '../../storage/chunkPool.js';
import { defaultThreads } from '../../storage/workerPool.js';
import { CHUNKS_PER_TASK, chunkFile, type ChunkedFile } from './chunkFile.js';
import { ignoreRules } from './ignoreRules.js';
import type { Version } from '../../core/objects.js';
import { nameMap } from '../../core/schema.js';

/** A regular file found under the tracked paths. */
export interface WorkFile {
  path: string;
  abs: string;
  stat: BigIntStats;
}

const SKIP_DIRS = new Set(['.mvm', '.git']);

/**
 * The first component of a workspace path (a folder on the way, or the path
 * itself when `self`) that is a symlink, or null: reading or writing through
 * it would reach outside the workspace. Stops at the first component that is
 * missing or not a folder.
 */
export function symlinkOnPath(repo: Repository, rel: string, self = true): string | null {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length - (self ? 0 : 1); i++) {
    const d = parts.slice(0, i).join('/');
    let st;
    try {
      st = lstatSync(repo.abs(d));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw fromSystemError(e, repo.abs(d), 'reading');
    }
    if (st.isSymbolicLink()) return d;
    if (!st.isDirectory()) return null;
  }
  return null;
}

/** SYMLINK_IN_PATH for tracked paths that reach a symlink (`path` the tracked one, `link` the symlink on its way). */
export function symlinkError(repo: Repository, found: { path: string; link: string }[], doing: string): MvmError {
  const to = (d: string) => {
    try {
      return readlinkSync(repo.abs(d));
    } catch {
      return '?';
    }
  };
  const shown = found.slice(0, 3).map(({ path, link }) => `${path}${path === link ? '' : ` (${link})`} -> ${to(link)}`);
  return new MvmError(
    'SYMLINK_IN_PATH',
    `${doing} would read through a symlink: ${shown.join(', ')}${found.length > 3 ? ', ...' : ''}`,
    {
      paths: [...new Set(found.map((f) => f.link))],
      tracked: found.map((f) => f.path),
      hint:
        'mvm never reads or writes a tracked path through a symlink, which may point outside the workspace; ' +
        'replace the link by a real folder (mvm checkout --force replaces the link, never its target)',
    },
  );
}

/**
 * Lists the regular files under the tracked path specs (folders recursively,
 * skipping .git, .mvm and what `.mvmignore` or the default ignores name;
 * symlinks are not followed). A spec that is a symlink or lies under one
 * (`models/w.bin` with `models -> ../outside`) is SYMLINK_IN_PATH, or with
 * `links: 'skip'` taken as absent (checkout --force, which then replaces the
 * link); `follow` reads through folders on the way, for what is only hashed
 * and never stored (a `--data` path, which may well be a linked dataset).
 */
export function scanTracked(
  repo: Repository,
  specs: string[] = repo.tracked(),
  links: 'refuse' | 'skip' | 'follow' = 'refuse',
): Map<string, WorkFile> {
  const out = new Map<string, WorkFile>();
  const ignored = ignoreRules(repo.root);
  const linked: { path: string; link: string }[] = [];
  const usable = specs.filter((s) => {
    const link = s === '.' || links === 'follow' ? null : symlinkOnPath(repo, s);
    if (link) linked.push({ path: s, link });
    return !link;
  });
  if (linked.length && links === 'refuse') throw symlinkError(repo, linked, 'reading the workspace');
  const visit = (rel: string, named: boolean) => {
    const abs = repo.abs(rel);
    let st: BigIntStats;
    try {
      st = lstatSync(abs, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fromSystemError(e, abs, 'reading');
    }
    // a path named in tracked.json is taken as asked; what is found inside tracked folders follows .mvmignore
    if (!named && ignored(st.isDirectory() ? `${rel}/` : rel)) return;
    if (st.isFile()) out.set(rel, { path: rel, abs, stat: st });
    else if (st.isDirectory()) {
      let raw: Buffer[];
      try {
        raw = readdirSync(abs, { encoding: 'buffer' });
      } catch (e) {
        throw fromSystemError(e, abs, 'reading');
      }
      const names = raw.map((b) => {
        const n = b.toString('utf8');
        // a name that is not UTF-8 would come back as another name: refuse it rather than lose the file
        if (!Buffer.from(n, 'utf8').equals(b)) {
          const byte = (c: number) =>
            c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
          const shown = `${rel === '.' ? '' : `${rel}/`}${[...b].map(byte).join('')}`;
          throw new MvmError(
            'UNSUPPORTED_NAME',
            `${shown}: the file name is not valid UTF-8, so mvm cannot store it byte for byte`,
            { path: shown, hint: 'rename the file (names are stored as UTF-8), or move it out of the tracked folder' },
          );
        }
        return n;
      });
      for (const n of names.sort()) {
        if (SKIP_DIRS.has(n.toLowerCase())) continue;
        visit(rel === '.' ? n : `${rel}/${n}`, false);
      }
    }
  };
  for (const s of usable) visit(s, true);
  return out;
}

/** True when a path is covered by a tracked spec (the spec itself or something inside it). */
export function isCovered(path: string, specs: string[]): boolean {
  return specs.some((s) => s === '.' || path === s || path.startsWith(`${s}/`));
}

/** Margin for filesystem timestamp granularity when judging whether a cached stat can be trusted. */
export const RACY_NS = 50_000_000n;

/** Builds the stat-cache entry for a file whose content id is `file`. `trusted` marks files mvm wrote itself. */
export function statEntry(stat: BigIntStats, file: string, takenAtNs: bigint, trusted = false): StatEntry {
  return {
    size: Number(stat.size),
    mtimeNs: stat.mtimeNs.toString(),
    ctimeNs: stat.ctimeNs.toString(),
    ino: stat.ino.toString(),
    file,
    at: (trusted ? stat.mtimeNs + RACY_NS + 1n : takenAtNs).toString(),
  };
}

/** The file id the stat cache vouches for, or null when the file must be read again. */
export function cachedId(stat: BigIntStats, e: StatEntry | undefined): string | null {
  if (!e) return null;
  if (
    e.size !== Number(stat.size) ||
    e.mtimeNs !== stat.mtimeNs.toString() ||
    e.ctimeNs !== stat.ctimeNs.toString() ||
    e.ino !== stat.ino.toString()
  )
    return null;
  // racily clean: modified so close to when it was hashed that a later write could share its mtime
  if (stat.mtimeNs + RACY_NS >= BigInt(e.at)) return null;
  return e.file;
}

/** Wall-clock time in ns, comparable with file mtimes. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** One workspace file with its content id, from the stat cache or freshly computed. */
export interface IdentifiedFile extends WorkFile {
  id: string;
  mode: number;
  /** Set when the file was read now (not vouched for by the stat cache). */
  chunked?: ChunkedFile;
}

/** Options of identifyWorkspace. */
export interface IdentifyOptions {
  /** The path specs to scan; the tracked ones by default. */
  specs?: string[];
  /** A tracked path through a symlink: refused (default), or taken as absent (checkout --force replaces the link). */
  links?: 'refuse' | 'skip';
  /** Also compress and store new chunks and file objects (commit). */
  store: boolean;
  /**
   * Record the stat-cache updates at once (status, diff). Without it the
   * caller records them with recordStats after its own writes (commit, checkout).
   */
  record?: boolean;
  progress?: Progress;
  label?: string;
  /** Called once before the first file is read, when some must be: work to run alongside the reading. */
  onRead?: () => void;
}

/** The workspace as identified: each file with its content id, the stat-cache updates, the bytes read. */
export interface IdentifiedWorkspace {
  files: Map<string, IdentifiedFile>;
  updates: Map<string, StatEntry | null>;
  bytesRead: number;
}

/**
 * Scan, stat cache, identify: the one way mvm learns what the workspace
 * holds. Files the stat cache vouches for keep their id; the rest are
 * chunked (and with `store`, stored) on the worker pool.
 */
export async function identifyWorkspace(repo: Repository, opts: IdentifyOptions): Promise<IdentifiedWorkspace> {
  const files = scanTracked(repo, opts.specs, opts.links);
  const sparse = repo.sparse();
  if (sparse) for (const p of [...files.keys()]) if (!isCovered(p, sparse)) files.delete(p);
  const cache = readStatCache(repo, files.keys());
  const known = new Map<string, IdentifiedFile>();
  const toRead: WorkFile[] = [];
  for (const [path, wf] of files) {
    const mode = Number(wf.stat.mode & 0o777n);
    const hit = cachedId(wf.stat, cache.get(path));
    if (hit && (!opts.store || repo.objects.has(hit))) known.set(path, { ...wf, id: hit, mode });
    else toRead.push(wf);
  }
  // what HEAD holds at each path: a changed tensor's chunks may be stored as deltas against its chunks there
  const headId = opts.store && toRead.length ? repo.headId() : null;
  const head = headId && repo.objects.has(headId) ? repo.version(headId) : null;
  // A file HEAD does not hold is compressed and written whole: a thread more than cores keeps each core busy
  // while another thread waits on a write. A file HEAD holds mostly reads and hashes, where that thread only
  // adds its start-up (measured: commit of a 1 GiB model with 10% changed, 0.8 s of CPU against 0.95 s).
  const writes = opts.store && toRead.some((wf) => !head || !Object.hasOwn(head.files, wf.path));
  const r = await withPool((pool) => identifyFiles(repo, pool, { known, toRead, head }, opts), defaultThreads(writes));
  // keep the caller's (sorted) order
  const ordered = new Map<string, IdentifiedFile>();
  for (const path of files.keys()) ordered.set(path, r.files.get(path)!);
  r.files = ordered;
  if (opts.record) recordStats(repo, r.updates);
  return r;
}

/**
 * Finds the content id of every workspace file the stat cache could not
 * vouch for (`toRead`) by chunking it (with `store`, also storing); `known`
 * are those it vouched for. Returns the files and the stat-cache updates to write.
 */
async function identifyFiles(
  repo: Repository,
  pool: ChunkPool,
  split: { known: Map<string, IdentifiedFile>; toRead: WorkFile[]; head: Version | null },
  opts: IdentifyOptions,
): Promise<IdentifiedWorkspace> {
  const { toRead, head } = split;
  const out = new Map(split.known);
  const updates = new Map<string, StatEntry | null>();
  let bytesRead = 0;
  const toReadBytes = toRead.reduce((n, f) => n + Number(f.stat.size), 0);
  // enough to read that every thread will be started anyway: start them now, so their start-up (tens of ms
  // each) overlaps reading HEAD's file objects and the model headers instead of following them
  if (toReadBytes > pool.threads * CHUNKS_PER_TASK * repo.config.chunkSize) pool.warm();
  if (toRead.length) {
    opts.onRead?.();
    opts.progress?.start?.(opts.label ?? 'reading', toReadBytes);
  }
  for (const wf of toRead) {
    const takenAt = nowNs();
    const before = head && Object.hasOwn(head.files, wf.path) ? head.files[wf.path]!.file : null;
    const chunked = await chunkFile(repo, pool, wf.abs, {
      store: opts.store,
      parent: before && repo.objects.has(before) ? repo.file(before) : null,
      onBytes: (n) => {
        bytesRead += n;
        opts.progress?.advance?.(n);
      },
    });
    out.set(wf.path, { ...wf, id: chunked.id, mode: Number(wf.stat.mode & 0o777n), chunked });
    updates.set(wf.path, statEntry(wf.stat, chunked.id, takenAt));
  }
  if (toRead.length) opts.progress?.done?.();
  return { files: out, updates, bytesRead };
}

/** A tracked path whose workspace state differs from a version. */
export interface StatusEntry {
  path: string;
  status: 'modified' | 'added' | 'deleted' | 'mode';
}

/**
 * Compares identified workspace files with a version (null = no version yet); a committed path no longer found or
 * tracked is 'deleted'.
 */
export function compareWithVersion(
  files: Map<string, IdentifiedFile>,
  version: Pick<Version, 'files'> | null,
): StatusEntry[] {
  const out: StatusEntry[] = [];
  const committed = version?.files ?? {};
  for (const [path, f] of files) {
    // own keys only: a file named `constructor` is not Object.prototype's
    const e = Object.hasOwn(committed, path) ? committed[path] : undefined;
    if (!e) out.push({ path, status: 'added' });
    else if (e.file !== f.id) out.push({ path, status: 'modified' });
    else if (e.mode !== f.mode) out.push({ path, status: 'mode' });
  }
  for (const path of Object.keys(committed)) {
    if (!files.has(path)) out.push({ path, status: 'deleted' });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The part of a version's files a partial workspace holds (all of them when `sparse` is null). */
export function visibleFiles<T>(files: Record<string, T>, sparse: string[] | null): Record<string, T> {
  if (!sparse) return files;
  const out = nameMap<T>();
  for (const [p, e] of Object.entries(files)) if (isCovered(p, sparse)) out[p] = e;
  return out;
}
