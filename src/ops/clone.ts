import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MvmError, fromSystemError, isMvmError } from '../errors.js';
import { parseRemoteUrl, type RemoteSpec } from '../storage/remote/open.js';
import {
  createRepository,
  markCloneFinished,
  markCloneStarted,
  MVM_DIR,
  Repository,
  unfinishedClone,
  withLock,
  type Progress,
  type UnfinishedClone,
} from '../repo/repository/index.js';
import {
  openRepository,
  saveRemote,
  listRemotes,
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

/** Where `mvm clone URL [DIR]` clones to, and the URL its origin keeps (a folder made absolute). */
export function cloneTarget(url: string, dir?: string): { dir: string; url: string } {
  const target = parseRemoteUrl(url, process.cwd());
  const name = dir ?? basename(target.kind === 's3' ? target.prefix || target.bucket : target.path);
  return { dir: resolve(name || 'model'), url: target.kind === 'folder' ? target.path : url };
}

/** True when `dir` is a folder holding nothing but temporary files of atomic writes. */
function onlyTempFiles(dir: string): boolean {
  try {
    return readdirSync(dir).every((n) => /^w-\d+-[0-9a-f]+$/.test(n));
  } catch {
    return false;
  }
}

/**
 * The clone `dir` holds unfinished when it is one of `url` (to resume), null
 * when `dir` is absent or empty (a new clone); ALREADY_A_REPOSITORY for any
 * other folder, an unfinished clone of another URL included.
 */
function resumable(dir: string, url: string): UnfinishedClone | null {
  if (!existsSync(dir) || !readdirSync(dir).length) return null;
  // killed while writing the mark (only its temporary file is there): nothing to resume, start again
  const mvm = join(dir, MVM_DIR);
  const names = readdirSync(dir);
  if (names.length === 1 && names[0] === MVM_DIR && onlyTempFiles(mvm)) {
    rmSync(mvm, { recursive: true, force: true });
    return null;
  }
  const unfinished = unfinishedClone(dir);
  if (unfinished && unfinished.url === url) return unfinished;
  if (unfinished)
    throw new MvmError(
      'ALREADY_A_REPOSITORY',
      `${dir} holds an unfinished clone of another remote, ${unfinished.url}`,
      {
        path: dir,
        url: unfinished.url,
        hint: `finish that one with \`mvm clone ${unfinished.url} ${dir}\`, or name another folder`,
      },
    );
  throw new MvmError('ALREADY_A_REPOSITORY', `${dir} already exists and is not empty`, {
    path: dir,
    hint: 'name another folder: mvm clone URL DIR',
  });
}

/**
 * Creates a repository in a new folder with the remote as `origin`, fetches
 * it and checks out `rev` (default: branch main). Unless `full`, the store is
 * partial: it holds every version's manifest and file objects, and the chunks
 * of the checked-out files only in those files; other chunks come from origin
 * when a command needs them. The folder is marked an unfinished clone first
 * and the mark removed last, so a clone that was interrupted (killed, Ctrl-C)
 * is resumed by the same command: what was fetched is kept, the rest fetched,
 * then the checkout. On any other failure of a new clone the folder it
 * created is removed; a resumed one keeps what it has for the next attempt.
 */
export async function clone(url: string, opts: CloneOptions = {}): Promise<CloneResult> {
  const { dir, url: remoteUrl } = cloneTarget(url, opts.dir);
  const resumed = resumable(dir, remoteUrl);
  const created = !existsSync(dir);
  const wanted = opts.rev ?? resumed?.rev;
  if (!resumed) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, dir, 'creating');
    }
  }
  try {
    // the mark first: from here on, the folder is an unfinished clone that the same command finishes
    if (!resumed) markCloneStarted({ url: remoteUrl, dir, ...(opts.rev ? { rev: opts.rev } : {}) });
    // a partial store: every manifest and file object, and chunks only as commands need them
    if (!Repository.exists(dir)) createRepository({ dir, ...(opts.full ? {} : { partial: 'origin' }) });
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
    const saved = resumed ? listRemotes(repo).find((r) => r.name === 'origin') : undefined;
    const remote =
      saved ??
      saveRemote(
        repo,
        'origin',
        {
          url: remoteUrl,
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
          return wanted ?? (branches.includes('main') ? 'main' : branches[0]);
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
          // what a partial store fetches while checking out counts with what the clone fetched
          const { value: checkout, fetched: d } = await repo.chunks.tally(() =>
            checkoutVersion(repo, id, { branch: tracking ? rev : null, progress: opts.progress, staged }),
          );
          // the branch after the workspace: until then HEAD names no version, which marks the clone unfinished
          if (tracking) repo.refs.write(`refs/heads/${rev}`, tracking);
          markCloneFinished(dir); // the last step: the folder is a whole clone now
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
    if (resumed) throw e;
    if (created) rmSync(dir, { recursive: true, force: true });
    else for (const f of readdirSync(dir)) rmSync(resolve(dir, f), { recursive: true, force: true });
    // what the clone stored went with the folder
    if (isMvmError(e, 'DISK_FULL'))
      throw new MvmError('DISK_FULL', e.message, {
        ...e.data,
        hint: `free some disk space and run the command again; ${dir} was removed with everything the clone stored`,
        left: { objects: 0, bytes: 0 },
      });
    throw e;
  }
}
