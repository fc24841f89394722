import { decodeFileObject, type ChunkRef } from '../../core/objects.js';
import {
  addFetched,
  NOTHING_FETCHED,
  partialRemote,
  type ChunkAvailability,
  type Fetched,
  Repository,
  type Progress,
  withPool,
} from '../repository/index.js';
import { MvmError } from '../../errors.js';
import { download } from './download.js';
import { syncRemoteIndex, type RemoteIndex } from './remoteIndex.js';
import { defaultJobs, withRemote, type RemoteSession } from './remoteSession.js';
import { findRemote } from './remotes.js';

/**
 * The chunks of a partial store (what `mvm clone` makes unless `--full`): it
 * holds every version manifest, but file objects and chunks only once a
 * command needed them; the remote named in `config.partial` holds the rest.
 * `ensure` and `ensureFiles` fetch the missing ones (verified, as a fetch
 * does) in one batch.
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

  async ensureFiles(files: Iterable<string>, progress?: Progress): Promise<Fetched> {
    const missing = [...new Set(files)].filter((id) => !this.repo.objects.has(id));
    if (!missing.length) return { ...NOTHING_FETCHED };
    const fetched = await fetchFiles(this.repo, missing, progress);
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

/** Installs the fetching chunk availability in `repo` when it is a partial store; a full store keeps its own. */
export function withPartialChunks(repo: Repository): Repository {
  const remote = partialRemote(repo);
  if (remote && repo.chunks.remote !== remote) repo.chunks = new PartialChunks(repo, remote);
  return repo;
}

/**
 * Fetches chunks by id from the remote a partial store names, verifying and
 * storing each: what `PartialChunks.ensure` calls for the chunks a command
 * is about to read.
 */
async function fetchChunks(
  repo: Repository,
  ids: string[],
  progress?: Progress,
  sizes?: ReadonlyMap<string, number>,
): Promise<Fetched> {
  const chunkIndexes = async (index: RemoteIndex) => {
    // the chunks' pack indexes that the file objects here naming them point to
    const want = new Set(ids);
    const files = index
      .describedFiles()
      .filter((f) => repo.objects.has(f) && repo.file(f).chunks.some((c) => want.has(c.id)));
    await index.loadChunkPacks(files, ids);
  };
  return fromPartialRemote(
    repo,
    ids,
    'chunk',
    progress,
    (s, index, jobs) =>
      withPool((pool) =>
        download(s, index, ids, jobs, { repo, pool, staged: null, storePlaced: true }, progress, sizes),
      ),
    chunkIndexes,
  );
}

/**
 * Fetches file objects by id from the remote a partial store names: each
 * checked against its id and decoded (held to the metadata size limit before
 * anything is allocated), then stored at once, so memory does not grow with
 * the versions asked for (a checked object harms nothing: its manifest is
 * here already, and it is what the manifest names).
 */
async function fetchFiles(repo: Repository, ids: string[], progress?: Progress): Promise<Fetched> {
  return fromPartialRemote(repo, ids, 'file object', progress, (s, index, jobs) =>
    download(s, index, ids, jobs, (id, stored, content) => {
      decodeFileObject(content, id);
      repo.objects.putStored(id, stored);
    }),
  );
}

/** Opens the partial store's remote and its index, checks it holds every one of `ids`, and runs `get` on them. */
async function fromPartialRemote(
  repo: Repository,
  ids: string[],
  what: string,
  progress: Progress | undefined,
  get: (s: RemoteSession, index: RemoteIndex, jobs: number) => Promise<number>,
  prepare?: (index: RemoteIndex) => Promise<void>,
): Promise<Fetched> {
  const remote = findRemote(repo, partialRemote(repo) ?? undefined);
  return withRemote(repo, remote, false, async (s) => {
    if (!s.exists) {
      throw new MvmError(
        'REMOTE_NOT_FOUND',
        `${remote.name} (${remote.url}) holds no mvm repository, so the ${ids.length} ${what}(s) this partial ` +
          `store needs cannot be fetched`,
        {
          url: remote.url,
          remote: remote.name,
          hint: 'mount or reach the remote again, or point the remote at a copy of it (mvm remote add)',
        },
      );
    }
    const jobs = defaultJobs(remote);
    const index = await syncRemoteIndex(repo, s.remote.name, s.backend, jobs, { deferChunks: true });
    await prepare?.(index);
    const absent = ids.filter((id) => !index.get(id));
    if (absent.length) {
      throw new MvmError(
        'OBJECT_MISSING',
        `object ${absent[0]} is not here, and ${remote.name} (${remote.url}) does not hold it either`,
        { id: absent[0], remote: remote.name, hint: 'push it from a clone that has it, then run the command again' },
      );
    }
    progress?.start?.(
      `fetch ${remote.name}`,
      ids.reduce((n, id) => n + (index.get(id)?.length ?? 0), 0),
    );
    const bytes = await get(s, index, jobs);
    progress?.done?.();
    return { objects: ids.length, bytes, requests: s.backend.stats.requests };
  });
}
