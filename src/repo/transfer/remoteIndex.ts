import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/atomic.js';
import type { RemoteBackend } from '../../storage/remote/backend.js';
import { indexKey, parsePackIndex, type PackEntry, type PackIndex } from '../../storage/remote/packs.js';
import { type Repository, bounded } from '../repository/index.js';
import { REMOTE_LIMITS } from '../../core/limits.js';

/**
 * What a remote holds, learnt from its pack indexes: every object id and
 * where it sits. The indexes are listed once per command and cached in
 * `.mvm/remotes/<name>/packs/`, so only new ones are downloaded; nothing asks
 * the remote about single objects. A partial store reading its own remote
 * leaves the indexes of packs marked as chunks only (`packs/<id>.chunks`)
 * unread until it needs chunks from them (`loadChunkPacks`): on a long
 * history of a large model those are nearly all of the indexes.
 */
export class RemoteIndex {
  private readonly where = new Map<string, PackEntry>();
  /** Packs of chunks whose indexes are not read yet. */
  private readonly deferred = new Set<string>();
  /** For each file object a pack index described: the packs holding its chunks. */
  private readonly chunkPacks = new Map<string, string[]>();

  constructor(
    private readonly cacheDir: string,
    private readonly backend?: RemoteBackend,
    private readonly jobs = 2,
  ) {}

  /** Where an object is on the remote, or undefined when the remote lacks it (or its index is not read yet). */
  get(id: string): PackEntry | undefined {
    return this.where.get(id);
  }

  /** True when the remote holds the object (as far as the indexes read say). */
  has(id: string): boolean {
    return this.where.has(id);
  }

  /** How many objects the remote holds (as far as the indexes read say). */
  get size(): number {
    return this.where.size;
  }

  /** Adds a pack index (just read, or just written by this push) and caches it. */
  add(index: PackIndex, cache = true): void {
    for (const [id, offset, length] of index.objects)
      if (!this.where.has(id)) this.where.set(id, { pack: index.pack, offset, length });
    for (const [file, packs] of Object.entries(index.chunkPacks ?? {})) this.chunkPacks.set(file, packs);
    this.deferred.delete(index.pack);
    if (cache)
      writeFileAtomic(join(this.cacheDir, `${index.pack}.idx`), JSON.stringify(index), { tmpDir: this.cacheDir });
  }

  /** The file objects whose chunks' packs the indexes read name. */
  describedFiles(): string[] {
    return [...this.chunkPacks.keys()];
  }

  /** Marks a pack of chunks whose index is left unread until chunks are needed from it. */
  defer(pack: string): void {
    this.deferred.add(pack);
  }

  /**
   * Reads the deferred indexes that can hold `chunks`: those of the packs
   * the given file objects' `chunkPacks` name; when a chunk is still not
   * found (a file object pushed without them, by an older mvm), every
   * deferred index.
   */
  async loadChunkPacks(files: Iterable<string>, chunks: Iterable<string>): Promise<void> {
    if (!this.deferred.size) return;
    const named = new Set<string>();
    for (const f of files) for (const p of this.chunkPacks.get(f) ?? []) if (this.deferred.has(p)) named.add(p);
    await this.read([...named]);
    if ([...chunks].some((id) => !this.where.has(id))) await this.read([...this.deferred]);
  }

  /** Reads every deferred index (a push, or anything that must know all the remote holds). */
  async loadAll(): Promise<void> {
    await this.read([...this.deferred]);
  }

  private async read(packs: string[]): Promise<void> {
    const backend = this.backend;
    if (!backend || !packs.length) return;
    await bounded(packs.length, this.jobs, async (i) => {
      const id = packs[i]!;
      const file = await backend.read(indexKey(id), REMOTE_LIMITS.packIndex);
      // listed a moment ago but gone now: a concurrent prune; what it named is gone too
      if (file) this.add(parsePackIndex(file.data, id, backend.url));
      else this.deferred.delete(id);
    });
  }
}

/** The cache folder of one remote's pack indexes. */
function cacheDirOf(repo: Repository, remote: string): string {
  return join(repo.dir, 'remotes', remote, 'packs');
}

/**
 * Lists the remote's pack indexes (one request), downloads those not cached, drops cached ones the remote no longer
 * has. With `deferChunks` (a partial store reading its own remote), the indexes of packs marked as chunks only are
 * left for `loadChunkPacks`.
 */
export async function syncRemoteIndex(
  repo: Repository,
  remote: string,
  backend: RemoteBackend,
  jobs: number,
  opts: { deferChunks?: boolean } = {},
): Promise<RemoteIndex> {
  const dir = cacheDirOf(repo, remote);
  mkdirSync(dir, { recursive: true });
  const keys = await backend.list('packs/');
  const listed = new Set(keys.filter((k) => /^packs\/[0-9a-f]{64}\.idx$/.test(k)).map((k) => k.slice(6, 70)));
  const chunksOnly = new Set(keys.filter((k) => /^packs\/[0-9a-f]{64}\.chunks$/.test(k)).map((k) => k.slice(6, 70)));
  const index = new RemoteIndex(dir, backend, jobs);
  const cached = new Set<string>();
  for (const f of readdirSync(dir)) {
    const id = f.slice(0, 64);
    if (!/^[0-9a-f]{64}\.idx$/.test(f) || !listed.has(id)) {
      rmSync(join(dir, f), { force: true });
      continue;
    }
    try {
      index.add(parsePackIndex(readFileSync(join(dir, f)), id, backend.url), false);
      cached.add(id);
    } catch {
      rmSync(join(dir, f), { force: true });
    }
  }
  const missing = [...listed].filter((id) => !cached.has(id));
  for (const id of missing) if (opts.deferChunks && chunksOnly.has(id)) index.defer(id);
  const now = missing.filter((id) => !(opts.deferChunks && chunksOnly.has(id)));
  await bounded(now.length, jobs, async (i) => {
    const id = now[i]!;
    const file = await backend.read(indexKey(id), REMOTE_LIMITS.packIndex);
    // listed a moment ago but gone now: a concurrent prune; what it named is gone too
    if (file) index.add(parsePackIndex(file.data, id, backend.url));
  });
  return index;
}
