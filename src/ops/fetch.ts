import type { Repository } from '../repo/repository.js';
import { withLock, type Progress } from '../repo/session.js';
import { findRemote } from '../repo/remotes.js';
import { defaultJobs, withRemote } from '../repo/remoteSession.js';
import { fetchFromRemote, type FetchTransfer } from '../repo/fetch.js';

/** Options of `mvm fetch`. */
export interface FetchOptions {
  remote?: string;
  jobs?: number;
  progress?: Progress;
}

/** What `mvm fetch` brought. */
export interface FetchResult extends FetchTransfer {
  remote: string;
  url: string;
  requests: number;
}

/** Downloads a remote's branches (as refs/remotes/NAME/*), tags and the versions they reach; the workspace is not touched. */
export async function fetch(repo: Repository, opts: FetchOptions = {}): Promise<FetchResult> {
  const remote = findRemote(repo, opts.remote);
  return withLock(repo, 'fetch', async () => {
    return withRemote(repo, remote, false, async (s) => {
      const r = await fetchFromRemote(repo, s, { jobs: opts.jobs ?? defaultJobs(remote), progress: opts.progress });
      return { remote: remote.name, url: remote.url, ...r, requests: s.backend.stats.requests };
    });
  });
}
