import type { ChunkRef } from '../../core/objects.js';
import {
  addFetched,
  NOTHING_FETCHED,
  partialRemote,
  type ChunkAvailability,
  type Fetched,
  Repository,
  type Progress,
} from '../repository/index.js';
import { fetchChunks } from './fetch.js';

/**
 * The chunks of a partial store (what `mvm clone` makes unless `--full`): it
 * holds every version manifest and file object, but chunks only once a
 * command needed them; the remote named in `config.partial` holds the rest.
 * `ensure` fetches the missing ones (verified, as a fetch does) in one batch.
 */
export class PartialChunks implements ChunkAvailability {
  /** Open tallies (`tally`): each gets what every ensure fetches while it runs. */
  private readonly tallies = new Set<Fetched>();

  constructor(
    private readonly repo: Repository,
    readonly remote: string,
  ) {}

  async ensure(chunks: Iterable<string | ChunkRef>, progress?: Progress): Promise<Fetched> {
    const sizes = new Map<string, number>();
    const ids = new Set<string>();
    for (const c of chunks) {
      if (typeof c === 'string') ids.add(c);
      else {
        ids.add(c.id);
        sizes.set(c.id, c.size);
      }
    }
    const missing = [...ids].filter((id) => !this.repo.objects.has(id));
    if (!missing.length) return { ...NOTHING_FETCHED };
    const fetched = await fetchChunks(this.repo, missing, progress, sizes);
    for (const t of this.tallies) addFetched(t, fetched);
    return fetched;
  }

  async tally<T>(fn: () => Promise<T>): Promise<{ value: T; fetched: Fetched }> {
    const fetched = { ...NOTHING_FETCHED };
    this.tallies.add(fetched);
    try {
      return { value: await fn(), fetched };
    } finally {
      this.tallies.delete(fetched);
    }
  }
}

/**
 * Opens the repository whose workspace contains `cwd` (as `Repository.open`)
 * and, when it is a partial store, installs the chunk fetching that reads from
 * its remote: what the command line and the library open repositories with.
 */
export function openRepository(cwd: string = process.cwd()): Repository {
  return withPartialChunks(Repository.open(cwd));
}

/** Installs the fetching chunk availability in `repo` when it is a partial store (and the stored one otherwise). */
export function withPartialChunks(repo: Repository): Repository {
  const remote = partialRemote(repo);
  if (remote && repo.chunks.remote !== remote) repo.chunks = new PartialChunks(repo, remote);
  return repo;
}
