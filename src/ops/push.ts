import { MvmError } from '../errors.js';
import { didYouMean, suggest } from '../core/suggest.js';
import { type Repository, withLock, type Progress } from '../repo/repository/index.js';
import {
  findRemote,
  defaultJobs,
  withRemote,
  pushToRemote,
  type RefUpdate,
  repairRemote,
  type RemoteRepair,
} from '../repo/transfer/index.js';
import { followRegistry, numberLookup, provisionalIds } from '../repo/history/index.js';
import { pushEnvs } from '../repo/deploy/index.js';

/** Options of `mvm push`. */
export interface PushOptions {
  remote?: string;
  /** Branches or tags to push; default the current branch. */
  refs?: string[];
  /** Every branch and tag. */
  all?: boolean;
  /** Overwrite remote refs that are not ancestors of what is pushed. */
  force?: boolean;
  /** First check the remote and mend it from this repository (see repo/transfer/remoteRepair.ts). */
  repair?: boolean;
  jobs?: number;
  progress?: Progress;
}

/** What `mvm push` did. */
export interface PushResult {
  remote: string;
  url: string;
  updates: RefUpdate[];
  objects: number;
  bytes: number;
  packs: number;
  numbered: number;
  /** Signatures sent. */
  signatures: number;
  /** Annotations sent. */
  annotations: number;
  /** Environments created or moved forward on the remote (the default remote only). */
  envs: string[];
  /** Versions made here that this push got their registry numbers for (they showed none before). */
  newNumbers: { id: string; number: number }[];
  /** Numbers that name another version here than in the registry (see followRegistry). */
  divergedNumbers: number[];
  requests: number;
  /** With --repair: what was mended. */
  repair?: RemoteRepair;
}

function refsToPush(repo: Repository, opts: PushOptions): { ref: string; id: string }[] {
  if (opts.all)
    return [...repo.refs.list('refs/heads/'), ...repo.refs.list('refs/tags/')].map((r) => ({
      ref: r.ref,
      id: repo.refs.read(r.ref)!,
    }));
  const names = opts.refs?.length ? opts.refs : [repo.currentBranch() ?? ''];
  return names.map((name) => {
    if (!name)
      throw new MvmError('BAD_ARGUMENT', 'HEAD is detached: name the branch or tag to push', {
        hint: 'mvm push origin main',
      });
    for (const ref of [`refs/heads/${name}`, `refs/tags/${name}`]) {
      const id = /^[A-Za-z0-9._\-/]+$/.test(name) && !name.includes('..') ? repo.refs.read(ref) : null;
      if (id) return { ref, id };
    }
    const near = suggest(
      name,
      [...repo.refs.list('refs/heads/'), ...repo.refs.list('refs/tags/')].map((r) => r.name),
    );
    throw new MvmError('UNKNOWN_REVISION', `no branch or tag named '${name}' to push${didYouMean(name, near)}`, {
      revision: name,
      ...(near.length ? { suggestions: near } : {}),
      hint: 'mvm branch and mvm tag list them',
    });
  });
}

/**
 * Sends branches and tags to a remote with the versions they reach: only
 * objects the remote's pack indexes do not list, in packs, then the refs by
 * compare-and-swap (refused when not a fast-forward, unless `force`).
 */
export async function push(repo: Repository, opts: PushOptions = {}): Promise<PushResult> {
  const remote = findRemote(repo, opts.remote);
  const refs = refsToPush(repo, opts);
  return withRemote(repo, remote, true, async (s) => {
    const jobs = opts.jobs ?? defaultJobs(remote);
    // under the lock: a repair may store here good copies it takes from the remote
    // (a remote that does not exist yet has nothing to mend: the push below creates it)
    const repair =
      opts.repair && s.exists
        ? await withLock(repo, 'push', () => repairRemote(repo, s, { jobs, progress: opts.progress }))
        : undefined;
    const r = await pushToRemote(repo, s, refs, { force: opts.force, jobs, progress: opts.progress });
    let envs: string[] = [];
    let divergedNumbers: number[] = [];
    // versions made here that this push got their registry numbers for
    let newNumbers: { id: string; number: number }[] = [];
    // remote-tracking branches move under the lock: a concurrent writer clears .mvm/tmp when it takes it
    await withLock(repo, 'push', async () => {
      for (const u of r.updates)
        if (u.ref.startsWith('refs/heads/')) repo.refs.write(`refs/remotes/${remote.name}/${u.ref.slice(11)}`, u.to);
      const waiting = provisionalIds(repo);
      divergedNumbers = await followRegistry(repo, r.registry, remote.name);
      const number = numberLookup(repo);
      newNumbers = waiting.flatMap((id) => (number(id) ? [{ id, number: number(id)! }] : []));
      // the envs made or moved here while the remote held nothing (or before this clone had one) go there now
      envs = await pushEnvs(repo, s);
    });
    const { registry: _registry, ...rest } = r;
    return {
      remote: remote.name,
      url: remote.url,
      ...rest,
      envs,
      newNumbers,
      divergedNumbers,
      requests: s.backend.stats.requests,
      ...(repair ? { repair } : {}),
    };
  });
}
