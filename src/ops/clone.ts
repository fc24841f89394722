import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { parseRemoteUrl, type RemoteSpec } from '../storage/remote/open.js';
import { createRepository, withLock, type Progress } from '../repo/repository/index.js';
import {
  openRepository,
  saveRemote,
  defaultJobs,
  withRemote,
  type RemoteRef,
  fetchAndStage,
} from '../repo/transfer/index.js';
import { checkoutVersion, type CheckedOut } from '../repo/workspace/index.js';
import { numberOf, resolveTarget } from '../repo/history/index.js';
import { adoptEnvs, envVersions, remoteEnvsFor } from '../repo/deploy/index.js';
import { pathProblem } from '../core/versionCheck.js';

/** Options of `mvm clone`. */
export interface CloneOptions extends Omit<RemoteSpec, 'url'> {
  /** Folder to create; default the last part of the URL. */
  dir?: string;
  /** What to check out: a remote branch, tag, vN or hash; default main (or the only branch). */
  rev?: string;
  /** Only these files or folders of the model: only their chunks are fetched (a partial workspace). */
  only?: string[];
  /** Keep a copy of every chunk of every version here (default: a partial store, chunks fetched when needed). */
  full?: boolean;
  /** Consent to a plain-HTTP endpoint that is not loopback. */
  allowHttp?: boolean;
  jobs?: number;
  progress?: Progress;
}

/** What `mvm clone` made. */
export interface CloneResult {
  dir: string;
  url: string;
  id: string;
  number: number | null;
  branch: string | null;
  objects: number;
  bytes: number;
  requests: number;
  checkout: CheckedOut;
}

/**
 * Creates a repository in a new folder with the remote as `origin`, fetches
 * it and checks out `rev` (default: branch main). Unless `full`, the store is
 * partial: it holds every version's manifest and file objects, and the chunks
 * of the checked-out files only in those files; other chunks come from origin
 * when a command needs them. On any failure the folder it created is removed.
 */
export async function clone(url: string, opts: CloneOptions = {}): Promise<CloneResult> {
  const target = parseRemoteUrl(url, process.cwd());
  const name = opts.dir ?? basename(target.kind === 's3' ? target.prefix || target.bucket : target.path);
  const dir = resolve(name || 'model');
  const created = !existsSync(dir);
  if (!created && readdirSync(dir).length)
    throw new MvmError('ALREADY_A_REPOSITORY', `${dir} already exists and is not empty`, {
      path: dir,
      hint: 'name another folder: mvm clone URL DIR',
    });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, dir, 'creating');
  }
  try {
    // a partial store: every manifest and file object, and chunks only as commands need them
    createRepository({ dir, ...(opts.full ? {} : { partial: 'origin' }) });
    const repo = openRepository(dir);
    if (opts.only?.length) {
      const paths = opts.only.map((p) => p.replace(/^\.\//, '').replace(/\/+$/, ''));
      for (const p of paths) {
        const why = p === '.' ? null : pathProblem(p);
        if (why)
          throw new MvmError('BAD_VALUE', `--only ${JSON.stringify(p)}: ${why}`, {
            path: p,
            hint: 'name paths as they are in the model, e.g. models/a.bin',
          });
      }
      repo.setSparse(paths);
    }
    const remote = saveRemote(
      repo,
      'origin',
      {
        url: target.kind === 'folder' ? target.path : url,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(opts.region ? { region: opts.region } : {}),
        ...(opts.pathStyle !== undefined ? { pathStyle: opts.pathStyle } : {}),
        ...(opts.allowHttp && opts.endpoint ? { allowHttp: true } : {}),
      },
      false,
    );
    return await withLock(repo, 'clone', async () => {
      return withRemote(repo, remote, false, async (s) => {
        if (!s.exists)
          throw new MvmError('UNKNOWN_REVISION', `${url} holds no mvm repository yet`, {
            url,
            hint: 'push to it first',
          });
        const pick = (refs: RemoteRef[]) => {
          const branches = refs.filter((r) => r.ref.startsWith('refs/heads/')).map((r) => r.ref.slice(11));
          return opts.rev ?? (branches.includes('main') ? 'main' : branches[0]);
        };
        // the files of a branch or tag being cloned are built as their chunks arrive; the envs come along
        const envs = await remoteEnvsFor(repo, s);
        const { transfer: fetched, staged } = await fetchAndStage(repo, s, {
          jobs: opts.jobs ?? defaultJobs(remote),
          progress: opts.progress,
          want: envVersions(envs),
          stage: (refs) => {
            const rev = pick(refs);
            return refs.find((r) => r.ref === `refs/heads/${rev}` || r.ref === `refs/tags/${rev}`)?.id ?? null;
          },
        });
        try {
          adoptEnvs(repo, envs);
          const rev = pick(fetched.refs);
          if (!rev) throw new MvmError('UNKNOWN_REVISION', `${url} has no branches`, { url });
          // a remote branch becomes a local branch of the same name
          const isBranch = fetched.refs.some((r) => r.ref === `refs/heads/${rev}`);
          const tracking = isBranch ? repo.refs.read(`refs/remotes/origin/${rev}`) : null;
          const id = tracking ?? resolveTarget(repo, rev).id;
          if (tracking) repo.refs.write(`refs/heads/${rev}`, tracking);
          // what a partial store fetches while checking out counts with what the clone fetched
          const { value: checkout, fetched: d } = await repo.chunks.tally(() =>
            checkoutVersion(repo, id, { branch: tracking ? rev : null, progress: opts.progress, staged }),
          );
          return {
            dir,
            url,
            id,
            number: numberOf(repo, id),
            branch: tracking ? rev : null,
            objects: fetched.objects + d.objects,
            bytes: fetched.bytes + d.bytes,
            requests: s.backend.stats.requests + d.requests,
            checkout,
          };
        } finally {
          staged?.discard();
        }
      });
    });
  } catch (e) {
    if (created) rmSync(dir, { recursive: true, force: true });
    else for (const f of readdirSync(dir)) rmSync(resolve(dir, f), { recursive: true, force: true });
    throw e;
  }
}
