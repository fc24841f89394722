import {
  type Repository,
  withLock,
  type Progress,
  partialRemote,
  ensureVersionFiles,
} from '../repo/repository/index.js';
import { findRemote, defaultJobs, withRemote, fetchFromRemote, type FetchTransfer } from '../repo/transfer/index.js';
import { gcRoots, reachableObjects } from '../repo/history/index.js';
import { visibleFiles } from '../repo/workspace/index.js';
import { adoptEnvs, envVersions, remoteEnvsFor, type EnvAdoption } from '../repo/deploy/index.js';

/** Options of `mvm fetch`. */
export interface FetchOptions {
  remote?: string;
  /**
   * Also fetch every object the versions here need and lack; a partial store fetches every chunk it lacks and becomes a
   * full store.
   */
  full?: boolean;
  jobs?: number;
  progress?: Progress;
}

/** What `mvm fetch` brought. */
export interface FetchResult extends FetchTransfer {
  remote: string;
  url: string;
  requests: number;
  /** The team's environments (from the default remote) this clone now follows. */
  envs: EnvAdoption;
  /** With --full on a partial store: the chunks fetched to make it full. */
  completed?: { chunks: number };
}

/**
 * Downloads a remote's branches (as refs/remotes/NAME/*), tags and the
 * versions they reach; the workspace is not touched. With `full`, a partial
 * store also fetches every chunk it lacks (of the paths the workspace holds)
 * and becomes a full store, which needs no remote to check out any version.
 */
export async function fetch(repo: Repository, opts: FetchOptions = {}): Promise<FetchResult> {
  const remote = findRemote(repo, opts.remote);
  return withLock(repo, 'fetch', async () => {
    return withRemote(repo, remote, false, async (s) => {
      // --full also looks for what the versions here need and lack (objects fsck --repair set aside)
      // the envs first (checked whole), so the versions they serve come with the fetch
      const envs = await remoteEnvsFor(repo, s);
      const r = await fetchFromRemote(repo, s, {
        jobs: opts.jobs ?? defaultJobs(remote),
        progress: opts.progress,
        refetch: opts.full,
        want: envVersions(envs),
      });
      const adopted = adoptEnvs(repo, envs);
      let completed: FetchResult['completed'];
      if (opts.full && partialRemote(repo)) {
        const sparse = repo.sparse();
        const versions = reachableObjects(repo, gcRoots(repo)).versions;
        await ensureVersionFiles(repo, versions, opts.progress);
        const ids = [...versions].flatMap((id) =>
          Object.values(visibleFiles(repo.version(id).files, sparse)).flatMap((e) => repo.file(e.file).chunks),
        );
        completed = { chunks: (await repo.chunks.ensure(ids, opts.progress)).objects };
        repo.setPartial(null);
      }
      return {
        remote: remote.name,
        url: remote.url,
        ...r,
        envs: adopted,
        requests: s.backend.stats.requests,
        ...(completed ? { completed } : {}),
      };
    });
  });
}
