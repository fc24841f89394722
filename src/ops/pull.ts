import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { didYouMean, suggest } from '../core/suggest.js';
import { MvmError } from '../errors.js';
import { isAncestor } from '../core/dag.js';
import {
  withLock,
  type Progress,
  type Fetched,
  createRepository,
  MVM_DIR,
  Repository,
} from '../repo/repository/index.js';
import {
  findRemote,
  defaultJobs,
  withRemote,
  fetchAndStage,
  fetchFromRemote,
  type FetchTransfer,
  withPartialChunks,
  SHARED_REMOTES_FILE,
} from '../repo/transfer/index.js';
import { checkoutVersion, type CheckedOut } from '../repo/workspace/index.js';
import { adoptTracked, mergeOnto, numberOf, replayOnto, lockNotPushed, readLock } from '../repo/history/index.js';
import { adoptEnvs, envVersions, remoteEnvsFor } from '../repo/deploy/index.js';

/** Options of `mvm pull`. */
export interface PullOptions {
  remote?: string;
  /** The branch to pull; default the current one. */
  branch?: string;
  /**
   * When the branch has diverged, merge path by path (`git rebase` style) instead of replaying this side's
   * versions unchanged (the default); a replayed version whose files change carries no metrics.
   */
  merge?: boolean;
  force?: boolean;
  /** When pull creates the store: keep a copy of every chunk here (default: a partial store, as clone makes). */
  full?: boolean;
  jobs?: number;
  progress?: Progress;
}

/** What `mvm pull` did: the fetch, how the branch moved, and the checkout. */
export interface PullResult {
  remote: string;
  url: string;
  branch: string;
  from: string | null;
  to: string;
  number: number | null;
  /**
   * fast-forward, already up to date, ahead (local has versions the remote lacks), or rebased (the branch had
   * diverged: its own versions were replayed on top of the remote's).
   */
  outcome: 'fast-forward' | 'up-to-date' | 'ahead' | 'rebased';
  /** When rebased: unchanged (snapshots, the default) or path by path (--merge). */
  mode?: 'replay' | 'merge';
  /** When rebased: each local version replayed, old id and new id, and whether it kept its metrics. */
  replayed?: { from: string; to: string; metricsKept: boolean }[];
  /** When replayed: paths the remote's versions changed that the new tip sets back to this side's. */
  overridden?: string[];
  fetched: Omit<FetchTransfer, 'refs'>;
  checkout: CheckedOut | null;
  requests: number;
}

/**
 * Fetches, fast-forwards the branch to the remote's, and checks it out. A
 * branch that has diverged from the remote's is refused (mvm does not merge).
 */
export async function pull(repo: Repository, opts: PullOptions = {}): Promise<PullResult> {
  const remote = findRemote(repo, opts.remote);
  return withLock(repo, 'pull', async () => {
    const branch = opts.branch ?? repo.currentBranch();
    if (!branch)
      throw new MvmError('BAD_ARGUMENT', 'HEAD is detached: name the branch to pull', { hint: 'mvm pull origin main' });
    const { value, fetched } = await repo.chunks.tally(() =>
      withRemote(repo, remote, false, async (s): Promise<PullResult> => {
        const envs = await remoteEnvsFor(repo, s);
        const { refs: _refs, ...fetched } = await fetchFromRemote(repo, s, {
          jobs: opts.jobs ?? defaultJobs(remote),
          progress: opts.progress,
          want: envVersions(envs),
        });
        adoptEnvs(repo, envs);
        const target = repo.refs.read(`refs/remotes/${remote.name}/${branch}`);
        if (!target) {
          const near = suggest(
            branch,
            repo.refs.list(`refs/remotes/${remote.name}/`).map((r) => r.name),
          );
          throw new MvmError('UNKNOWN_REVISION', `${remote.url} has no branch '${branch}'${didYouMean(branch, near)}`, {
            revision: branch,
            ...(near.length ? { suggestions: near } : {}),
            hint: 'mvm push it first, or name another branch',
          });
        }
        const local = repo.refs.read(`refs/heads/${branch}`);
        const load = (id: string) => repo.version(id);
        const onBranch = repo.currentBranch() === branch;
        const base = {
          remote: remote.name,
          url: remote.url,
          branch,
          from: local,
          to: target,
          number: numberOf(repo, target),
          fetched,
        };
        if (local === target || (local && isAncestor(target, local, load))) {
          return {
            ...base,
            to: local!,
            number: numberOf(repo, local!),
            outcome: local === target ? 'up-to-date' : 'ahead',
            checkout: null,
            requests: s.backend.stats.requests,
          } as PullResult;
        }
        if (local && !isAncestor(local, target, load)) {
          // both sides keep their versions: this side's are replayed on top of the remote's (unchanged, unless
          // --merge asks for path by path), then the workspace (HEAD still at the old tip, so local changes are
          // seen), the branch last
          const { tip, replayed, overridden } = (opts.merge ? mergeOnto : replayOnto)(repo, local, target);
          const checkout = onBranch
            ? await checkoutVersion(repo, tip, { branch, force: opts.force, progress: opts.progress })
            : null;
          repo.refs.write(`refs/heads/${branch}`, tip);
          return {
            ...base,
            to: tip,
            number: numberOf(repo, tip),
            outcome: 'rebased',
            mode: opts.merge ? 'merge' : 'replay',
            replayed,
            overridden,
            checkout,
            requests: s.backend.stats.requests,
          };
        }
        // the workspace first (HEAD still at the old tip, so local changes are seen), the branch last
        const checkout = onBranch
          ? await checkoutVersion(repo, target, { branch, force: opts.force, progress: opts.progress })
          : null;
        repo.refs.write(`refs/heads/${branch}`, target);
        return { ...base, outcome: 'fast-forward', checkout, requests: s.backend.stats.requests };
      }),
    );
    return withOnDemand(value, fetched);
  });
}

/** Adds what a partial store fetched while checking out (`d`) to what the fetch itself moved. */
function withOnDemand(r: PullResult, d: Fetched): PullResult {
  return {
    ...r,
    fetched: { ...r.fetched, objects: r.fetched.objects + d.objects, bytes: r.fetched.bytes + d.bytes },
    requests: r.requests + d.requests,
  };
}

/**
 * The workspace root a fresh `git clone` holds: the nearest folder up from `cwd` with mvm-remotes.json, not above the
 * git root.
 */
export function findSharedWorkspace(cwd: string): string | null {
  for (let d = resolve(cwd); ; d = dirname(d)) {
    if (existsSync(join(d, SHARED_REMOTES_FILE))) return d;
    if (existsSync(join(d, '.git')) || dirname(d) === d) return null;
  }
}

/**
 * `mvm pull` in a fresh `git clone` (no .mvm yet): creates the store at the
 * workspace root (or takes the empty one there), fetches from the remote the shared config names, and
 * restores exactly the version mvm.lock names (the remote branch's tip when
 * there is no lock). On failure the new .mvm is removed again.
 */
export async function pullIntoNewStore(root: string, opts: PullOptions = {}): Promise<PullResult> {
  // the store may exist already, empty, when the shared remote was trusted first (mvm remote trust)
  const created = !Repository.exists(root);
  if (created) createRepository({ dir: root });
  try {
    const repo = Repository.open(root);
    const remote = findRemote(repo, opts.remote);
    if (!opts.full) withPartialChunks(repo.setPartial(remote.name));
    return await withLock(repo, 'pull', async () => {
      const lock = readLock(root);
      const branch = opts.branch ?? 'main';
      return withRemote(repo, remote, false, async (s) => {
        // the files of what will be checked out are built as their chunks arrive
        const envs = await remoteEnvsFor(repo, s);
        const { transfer, staged } = await fetchAndStage(repo, s, {
          jobs: opts.jobs ?? defaultJobs(remote),
          progress: opts.progress,
          want: [...(lock ? [lock.version] : []), ...envVersions(envs)],
          stage: (refs) => lock?.version ?? refs.find((r) => r.ref === `refs/heads/${branch}`)?.id ?? null,
        });
        try {
          adoptEnvs(repo, envs);
          const { refs: _refs, ...fetched } = transfer;
          const tip = repo.refs.read(`refs/remotes/${remote.name}/${branch}`);
          const target = lock?.version ?? tip;
          if (lock && !repo.objects.has(lock.version)) throw lockNotPushed(lock.version, remote.name, remote.url);
          if (lock) adoptTracked(repo, lock);
          if (!target || !repo.objects.has(target))
            throw new MvmError('UNKNOWN_REVISION', `${remote.url} has no branch '${branch}'`, {
              url: remote.url,
              hint: 'push first',
            });
          // on the branch when the locked version is its tip or behind it (a later pull fast-forwards)
          const onBranch = !!tip && (tip === target || isAncestor(target, tip, (id) => repo.version(id)));
          if (onBranch) repo.refs.write(`refs/heads/${branch}`, target);
          const { value: checkout, fetched: onDemand } = await repo.chunks.tally(() =>
            checkoutVersion(repo, target, {
              branch: onBranch ? branch : null,
              force: opts.force,
              progress: opts.progress,
              staged,
            }),
          );
          return withOnDemand(
            {
              remote: remote.name,
              url: remote.url,
              branch,
              from: null,
              to: target,
              number: numberOf(repo, target),
              outcome: 'fast-forward' as const,
              fetched,
              checkout,
              requests: s.backend.stats.requests,
            },
            onDemand,
          );
        } finally {
          staged?.discard();
        }
      });
    });
  } catch (e) {
    if (created) rmSync(join(root, MVM_DIR), { recursive: true, force: true });
    throw e;
  }
}
