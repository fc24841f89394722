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
 * the remote about single objects.
 */
export class RemoteIndex {
  private readonly where = new Map<string, PackEntry>();

  constructor(private readonly cacheDir: string) {}

  /** Where an object is on the remote, or undefined when the remote lacks it. */
  get(id: string): PackEntry | undefined {
    return this.where.get(id);
  }

  /** True when the remote holds the object. */
  has(id: string): boolean {
    return this.where.has(id);
  }

  /** How many objects the remote holds. */
  get size(): number {
    return this.where.size;
  }

  /** Adds a pack index (just read, or just written by this push) and caches it. */
  add(index: PackIndex, cache = true): void {
    for (const [id, offset, length] of index.objects)
      if (!this.where.has(id)) this.where.set(id, { pack: index.pack, offset, length });
    if (cache)
      writeFileAtomic(join(this.cacheDir, `${index.pack}.idx`), JSON.stringify(index), { tmpDir: this.cacheDir });
  }
}

/** The cache folder of one remote's pack indexes. */
function cacheDirOf(repo: Repository, remote: string): string {
  return join(repo.dir, 'remotes', remote, 'packs');
}

/**
 * Lists the remote's pack indexes (one request), downloads those not cached, drops cached ones the remote no longer
 * has.
 */
export async function syncRemoteIndex(
  repo: Repository,
  remote: string,
  backend: RemoteBackend,
  jobs: number,
): Promise<RemoteIndex> {
  const dir = cacheDirOf(repo, remote);
  mkdirSync(dir, { recursive: true });
  const listed = new Set(
    (await backend.list('packs/')).filter((k) => /^packs\/[0-9a-f]{64}\.idx$/.test(k)).map((k) => k.slice(6, 70)),
  );
  const index = new RemoteIndex(dir);
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
  await bounded(missing.length, jobs, async (i) => {
    const id = missing[i]!;
    const file = await backend.read(indexKey(id), REMOTE_LIMITS.packIndex);
    // listed a moment ago but gone now: a concurrent prune; what it named is gone too
    if (file) index.add(parsePackIndex(file.data, id, backend.url));
  });
  return index;
}
