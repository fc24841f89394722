import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MvmError } from '../../errors.js';
import { envLockTimeout, envWorkspace } from '../../settings.js';
import { FsObjectStore, type LocalObjectStore } from '../../storage/objectStore.js';
import { RefStore, type Head } from '../../storage/refs.js';
import { NumberLog } from '../../storage/numbers.js';
import { acquireLock, type Lock } from '../../storage/lock.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { readJsonFile } from '../../storage/jsonFile.js';
import {
  decodeFileObject,
  decodeVersion,
  decodeAnnotation,
  encodeJsonObject,
  type FileObject,
  type Version,
  type Annotation,
} from '../../core/objects.js';
import { DEFAULT_CHUNK_SIZE } from '../../core/chunking.js';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../core/limits.js';
import { isRecord } from '../../core/schema.js';
import { StoredChunks, type ChunkAvailability } from './chunks.js';

/** The name of the repository directory inside a workspace. */
export const MVM_DIR = '.mvm';
/**
 * Format of the repository layout; readers refuse newer ones. 2: small
 * objects may be packed (objects/pack/, docs/FORMAT.md); a format-1
 * repository writes loose objects only until `mvm gc` upgrades it.
 */
export const REPO_FORMAT = 2;
/** The first format whose objects may be packed. */
export const PACKS_FORMAT = 2;

/** When mvm calls fsync: never, for manifests and refs only (default), or for every object too. */
export type FsyncPolicy = 'none' | 'refs' | 'all';

/** Repository settings, kept in `.mvm/config.json`. */
export interface RepoConfig {
  format: number;
  chunkSize: number;
  compressionLevel: number;
  fsync: FsyncPolicy;
  lockTimeoutMs: number;
  /** A partial store: the remote that holds the chunks not stored here (transfer/partial.ts). */
  partial?: string;
}

/** The settings a new repository gets unless `init` is told otherwise. */
export const DEFAULT_CONFIG: RepoConfig = {
  format: REPO_FORMAT,
  chunkSize: DEFAULT_CHUNK_SIZE,
  compressionLevel: 3,
  fsync: 'refs',
  lockTimeoutMs: 10_000,
};

/**
 * Repository is an opened `.mvm`: its stores, settings, and caches of parsed
 * objects. Operations receive one and never reach into `.mvm` themselves.
 */
export class Repository {
  readonly dir: string;
  readonly tmpDir: string;
  readonly objects: LocalObjectStore;
  readonly refs: RefStore;
  /** How chunks a command is about to read are made available (a partial store fetches them: transfer/partial.ts). */
  chunks: ChunkAvailability = new StoredChunks();
  readonly numbers: NumberLog;
  private readonly versionCache = new Map<string, Version>();
  private readonly fileCache = new Map<string, FileObject>();

  constructor(
    readonly root: string,
    readonly config: RepoConfig,
  ) {
    this.dir = join(root, MVM_DIR);
    this.tmpDir = join(this.dir, 'tmp');
    // objects (manifests, file objects, chunks) are fsynced only under 'all'; 'refs' fsyncs refs and logs
    // (fsyncing the manifest and file objects too was measured at ~20 ms more per commit)
    this.objects = new FsObjectStore(join(this.dir, 'objects'), this.tmpDir, {
      level: config.compressionLevel,
      fsync: config.fsync === 'all',
      packs: config.format >= PACKS_FORMAT,
    });
    this.refs = new RefStore(this.dir, this.tmpDir, config.fsync !== 'none');
    this.numbers = new NumberLog(join(this.dir, 'numbers'));
  }

  /** Opens the repository whose workspace contains `cwd` (searching upwards, like git). */
  static open(cwd: string = process.cwd()): Repository {
    const envDir = envWorkspace();
    let dir = resolve(envDir ?? cwd);
    for (;;) {
      const cand = join(dir, MVM_DIR);
      if (existsSync(join(cand, 'config.json'))) return new Repository(dir, readConfig(cand));
      const up = dirname(dir);
      if (up === dir || envDir) break;
      dir = up;
    }
    throw new MvmError('NOT_A_REPOSITORY', `not an mvm repository (or any parent up to /): ${resolve(cwd)}`, {
      path: resolve(cwd),
      hint: "run 'mvm init' in your project's root first",
    });
  }

  /** True when `dir` already has a repository. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, MVM_DIR, 'config.json'));
  }

  /** Options for the object writes of this repository. */
  get fsyncObjects(): boolean {
    return this.config.fsync === 'all';
  }

  /**
   * Upgrades a repository of an older format to REPO_FORMAT (a one-way step:
   * an older mvm refuses it afterwards, rather than missing packed objects);
   * returns false when it already was.
   */
  upgradeFormat(): boolean {
    if (this.config.format >= REPO_FORMAT) return false;
    const next: RepoConfig = { ...this.config, format: REPO_FORMAT };
    this.writeInternal('config.json', JSON.stringify(next, null, 2) + '\n');
    this.config.format = REPO_FORMAT;
    this.objects.writePacks();
    return true;
  }

  /** Marks the store partial (its missing chunks held by `remote`) or, with null, full; rewrites config.json. */
  setPartial(remote: string | null): this {
    const next: RepoConfig = { ...this.config };
    if (remote) next.partial = remote;
    else delete next.partial;
    this.writeInternal('config.json', JSON.stringify(next, null, 2) + '\n');
    if (remote) this.config.partial = remote;
    else {
      delete this.config.partial;
      this.chunks = new StoredChunks();
    }
    return this;
  }

  /** Writes a small file inside `.mvm` atomically. */
  writeInternal(rel: string, text: string): void {
    writeFileAtomic(join(this.dir, rel), text, { tmpDir: this.tmpDir, fsync: this.config.fsync !== 'none' });
  }

  /**
   * Takes the one-writer lock, waiting up to the configured time (MVM_LOCK_TIMEOUT
   * in ms overrides it), and clears temporary files that a crashed writer left.
   */
  async lock(command: string): Promise<Lock> {
    const timeout = envLockTimeout() ?? this.config.lockTimeoutMs;
    const lock = this.held(await acquireLock(join(this.dir, 'lock'), command, timeout));
    try {
      for (const f of readdirSync(this.tmpDir)) rmSync(join(this.tmpDir, f), { force: true, recursive: true });
    } catch {
      mkdirSync(this.tmpDir, { recursive: true });
    }
    return lock;
  }

  /**
   * Takes the writer lock only if it is free right now, without clearing
   * temporary files: for short housekeeping by a reader (rebuilding the
   * index). Null when another process (or another task of this one) holds
   * it. Not counted by `holdsLock`, which stays about `lock()`.
   */
  async tryLock(command: string): Promise<Lock | null> {
    try {
      return await acquireLock(join(this.dir, 'lock'), command, 0);
    } catch (e) {
      if (e instanceof MvmError && e.code === 'LOCKED') return null;
      throw e;
    }
  }

  /** True while this process holds the writer lock taken by `lock()`. */
  get holdsLock(): boolean {
    return this.locksHeld > 0;
  }

  private locksHeld = 0;

  private held(lock: Lock): Lock {
    this.locksHeld++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.locksHeld--;
        lock.release();
      },
    };
  }

  /** Loads and caches a version manifest. */
  version(id: string): Version {
    return cached(this.versionCache, id, () => decodeVersion(this.objects.get(id), id));
  }

  /** Loads and caches a file object. */
  file(id: string): FileObject {
    return cached(this.fileCache, id, () => decodeFileObject(this.objects.get(id), id));
  }

  /** Loads an annotation object. */
  annotation(id: string): Annotation {
    return decodeAnnotation(this.objects.get(id), id);
  }

  /** Stores a JSON object (file, version or annotation) and returns its id. */
  putObject(obj: FileObject | Version | Annotation): string {
    return this.objects.put(encodeJsonObject(obj));
  }

  /** HEAD as stored. */
  head(): Head {
    return this.refs.readHead();
  }

  /** The version HEAD points at, or null in a repository with no versions yet. */
  headId(): string | null {
    const h = this.head();
    return h.kind === 'detached' ? h.id : this.refs.read(h.ref);
  }

  /** The branch HEAD follows (its short name), or null when detached. */
  currentBranch(): string | null {
    const h = this.head();
    return h.kind === 'branch' ? h.ref.replace(/^refs\/heads\//, '') : null;
  }

  /** The tracked path specs (files or folders), relative to the workspace root. */
  tracked(): string[] {
    const v = readJson(join(this.dir, 'tracked.json'), "run 'mvm add' again for the paths you track") as {
      paths?: unknown;
    } | null;
    return Array.isArray(v?.paths) ? v.paths.filter((p): p is string => typeof p === 'string') : [];
  }

  /**
   * The paths a partial clone or checkout (`--only`) keeps in the workspace,
   * or null when the whole version is there. Paths outside them stay in every
   * version (commit carries them over) but are neither fetched nor written.
   */
  sparse(): string[] | null {
    const v = readJson(join(this.dir, 'sparse.json'), "remove it, or run 'mvm checkout REV --only .'") as {
      paths?: unknown;
    } | null;
    return v && Array.isArray(v.paths) ? v.paths.filter((p): p is string => typeof p === 'string') : null;
  }

  /** Sets the partial-workspace paths; null (or a spec of '.') makes the workspace whole again. */
  setSparse(paths: string[] | null): void {
    if (!paths || paths.includes('.')) rmSync(join(this.dir, 'sparse.json'), { force: true });
    else this.writeInternal('sparse.json', JSON.stringify({ paths: [...new Set(paths)].sort() }, null, 2) + '\n');
  }

  /** Replaces the tracked path specs. */
  setTracked(paths: string[]): void {
    this.writeInternal('tracked.json', JSON.stringify({ paths: [...new Set(paths)].sort() }, null, 2) + '\n');
  }

  /**
   * Turns a user-given path into a workspace-relative POSIX path, refusing
   * paths outside the workspace and paths inside `.mvm`.
   */
  relPath(userPath: string, cwd: string = process.cwd()): string {
    const abs = isAbsolute(userPath) ? userPath : resolve(cwd, userPath);
    const rel = relative(this.root, abs);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new MvmError('PATH_OUTSIDE_WORKSPACE', `path '${userPath}' is outside the workspace ${this.root}`, {
        path: userPath,
        root: this.root,
      });
    }
    const posix = rel.split(sep).join('/');
    const parts = posix.split('/').map((p) => p.toLowerCase());
    if (parts.includes(MVM_DIR)) {
      throw new MvmError('PATH_INSIDE_MVM', `path '${userPath}' is inside .mvm, which mvm cannot track`, {
        path: userPath,
      });
    }
    if (parts.includes('.git')) {
      throw new MvmError('PATH_INSIDE_GIT', `path '${userPath}' is inside .git, which mvm never versions`, {
        path: userPath,
        hint: 'track the folders that hold your models',
      });
    }
    return posix === '' ? '.' : posix;
  }

  /** Absolute path of a workspace-relative POSIX path. */
  abs(rel: string): string {
    return rel === '.' ? this.root : join(this.root, ...rel.split('/'));
  }
}

/** The value cached under `id`, loaded once. */
function cached<T>(cache: Map<string, T>, id: string, load: () => T): T {
  let v = cache.get(id);
  if (v === undefined) {
    v = load();
    cache.set(id, v);
  }
  return v;
}

/** Reads a small JSON file inside `.mvm`: null when absent, REF_CORRUPT when not JSON. */
function readJson(path: string, hint: string): unknown {
  return readJsonFile(path, () => new MvmError('REF_CORRUPT', `${path} is not valid JSON`, { path, hint }));
}

function readConfig(mvmDir: string): RepoConfig {
  const path = join(mvmDir, 'config.json');
  const hint = 'restore it from a backup or re-create it with the chunk size you used';
  const read = readJson(path, hint) ?? {};
  if (!isRecord(read)) throw new MvmError('REF_CORRUPT', `${path} is not a JSON object`, { path, hint });
  const raw = read as Partial<RepoConfig>;
  if (raw.format !== undefined && !(Number.isSafeInteger(raw.format) && raw.format >= 1))
    throw new MvmError('REF_CORRUPT', `${path}: format is ${JSON.stringify(raw.format)}`, { path, hint });
  if (typeof raw.format === 'number' && raw.format > REPO_FORMAT) {
    throw new MvmError('NOT_A_REPOSITORY', `repository format ${raw.format} is newer than this mvm understands`, {
      path,
      hint: 'upgrade mvm',
    });
  }
  // every setting is checked here, once: a chunk size of "abc" would otherwise reach the chunker
  const wrong = (field: string) =>
    new MvmError('REF_CORRUPT', `${path}: ${field} is ${JSON.stringify(raw[field as keyof RepoConfig])}`, {
      path,
      field,
      hint,
    });
  if (
    raw.chunkSize !== undefined &&
    !(Number.isSafeInteger(raw.chunkSize) && raw.chunkSize >= MIN_CHUNK_SIZE && raw.chunkSize <= MAX_CHUNK_SIZE)
  )
    throw wrong('chunkSize');
  if (
    raw.compressionLevel !== undefined &&
    !(Number.isInteger(raw.compressionLevel) && raw.compressionLevel >= 0 && raw.compressionLevel <= 22)
  )
    throw wrong('compressionLevel');
  if (raw.fsync !== undefined && !['none', 'refs', 'all'].includes(raw.fsync)) throw wrong('fsync');
  if (raw.lockTimeoutMs !== undefined && !(typeof raw.lockTimeoutMs === 'number' && raw.lockTimeoutMs >= 0))
    throw wrong('lockTimeoutMs');
  if (raw.partial !== undefined && typeof raw.partial !== 'string') throw wrong('partial');
  // a config without a format is one of the first format's
  return { ...DEFAULT_CONFIG, format: 1, ...raw };
}
