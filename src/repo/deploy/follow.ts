import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../../errors.js';
import { validateEnvName } from '../../core/revision.js';
import { parseRemoteUrl, type RemoteSpec } from '../../storage/remote/open.js';
import { createRepository, MVM_DIR, type Repository, withLock } from '../repository/index.js';
import { numberOf, type DeployLogEntry } from '../history/index.js';
import { assertSigned, checkSignatures } from '../signing/index.js';
import { defaultJobs, fetchFromRemote, findRemote, openRepository, saveRemote, withRemote } from '../transfer/index.js';
import { LAYOUTS, type ExportTarget, type ServingLayout } from './envConfig.js';
import { currentOf, readRemoteEnv } from './remoteEnvs.js';
import { exportVersion, markerId, pruneServing, validateServingName } from './serving.js';
import { writeServingConfig } from './servingConfig.js';

/** What a follower on a serving host follows, and how it serves it. */
export interface FollowTarget extends RemoteSpec {
  env: string;
  /** The serving folder; the layout, model name, `keep` and `path` default to the env's shared serving settings. */
  dir: string;
  layout?: ServingLayout;
  name?: string;
  keep?: number;
  path?: string;
  /** Refuse every version no allowed signer signed (checked against `allowedSigners`, a file of this host). */
  requireSigned?: boolean;
  allowedSigners?: string;
  /** Also write Triton's version policy or TF Serving's `models.config` naming the version. */
  servingConfig?: boolean;
  /** The follower's own store (a partial mvm repository holding only what it fetched). */
  state: string;
  allowHttp?: boolean;
  jobs?: number;
}

/** One look at the env on the remote, and what the follower did about it. */
export interface FollowStep {
  env: string;
  /**
   * exported: the serving folder now holds the env's version (and nothing above it); unchanged: it already did;
   * refused: the env points at a version this host does not serve (unsigned, say) and the folder stays as it was;
   * nothing-deployed / no-env: the env has no version, or there is no such env on the remote.
   */
  outcome: 'exported' | 'unchanged' | 'refused' | 'nothing-deployed' | 'no-env';
  id: string | null;
  number: number | null;
  /** The env's last move (who, what, when), when it has one. */
  move: DeployLogEntry | null;
  /** The version folder served. */
  path: string | null;
  /** Numbered folders removed (above the version after a rollback, or beyond `keep`). */
  removed: number[];
  /** Bytes downloaded for this step. */
  bytes: number;
  /** The server config file written (--serving-config). */
  config: string | null;
  /** Why a version was refused: its error's code and message. */
  refused: { code: string; message: string } | null;
}

const STATE = 'follow.json';

/**
 * Opens (or makes) the follower's store in `t.state`: a partial repository whose `origin` is the followed remote.
 * A store made for another remote is refused.
 */
export function openFollowerStore(t: FollowTarget): Repository {
  validateEnvName(t.env);
  const dir = resolve(t.state);
  const target = parseRemoteUrl(t.url, process.cwd());
  const url = target.kind === 'folder' ? target.path : t.url;
  if (!existsSync(join(dir, MVM_DIR))) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, dir, 'creating');
    }
    createRepository({ dir, partial: 'origin' });
    const repo = openRepository(dir);
    saveRemote(
      repo,
      'origin',
      {
        url,
        ...(t.endpoint ? { endpoint: t.endpoint } : {}),
        ...(t.region ? { region: t.region } : {}),
        ...(t.pathStyle !== undefined ? { pathStyle: t.pathStyle } : {}),
        ...(t.allowHttp && t.endpoint ? { allowHttp: true } : {}),
      },
      false,
    );
    return repo;
  }
  const repo = openRepository(dir);
  const have = findRemote(repo, 'origin');
  if (have.url !== url)
    throw new MvmError('BAD_ARGUMENT', `${dir} is the store of a follower of ${have.url}, not ${url}`, {
      path: dir,
      hint: 'give this follower its own --state folder',
    });
  return repo;
}

/** The serving folder the follower writes: the command line's settings over the env's shared ones. */
function servingTarget(t: FollowTarget, shared: Partial<Omit<ExportTarget, 'dir'>> | undefined): ExportTarget {
  const layout = t.layout ?? shared?.layout;
  const name = t.name ?? shared?.name;
  if (!layout || !LAYOUTS.includes(layout) || !name)
    throw new MvmError(
      'BAD_ARGUMENT',
      `the env '${t.env}' has no serving layout on the remote: give --layout and --name`,
      {
        env: t.env,
        hint: `mvm follow URL --env ${t.env} --export ${t.dir} --layout tf-serving --name MODEL`,
      },
    );
  const keep = t.keep ?? shared?.keep;
  const path = t.path ?? shared?.path;
  return { dir: t.dir, layout, name: validateServingName(name), ...(keep ? { keep } : {}), ...(path ? { path } : {}) };
}

function readState(repo: Repository): { id: string; path: string } | null {
  try {
    const v = JSON.parse(readFileSync(join(repo.dir, STATE), 'utf8')) as { id?: unknown; path?: unknown };
    return typeof v.id === 'string' && typeof v.path === 'string' ? { id: v.id, path: v.path } : null;
  } catch {
    return null;
  }
}

/**
 * Looks at the env on the remote once and brings the serving folder to it: fetches the version's manifest and file
 * objects, checks its signatures when required (a refused version leaves the folder as it was), exports it
 * atomically (a reader sees a version folder whole or not at all), removes the numbered folders above it (a
 * rollback) and beyond `keep`, and writes the server's config when asked. A kill at any point leaves complete
 * folders only; the next step finishes the work.
 */
export async function followStep(repo: Repository, t: FollowTarget): Promise<FollowStep> {
  const remote = findRemote(repo, 'origin');
  const jobs = t.jobs ?? defaultJobs(remote);
  return withRemote(repo, remote, false, async (s) => {
    const step: FollowStep = {
      env: t.env,
      outcome: 'no-env',
      id: null,
      number: null,
      move: null,
      path: null,
      removed: [],
      bytes: 0,
      config: null,
      refused: null,
    };
    const r = s.exists ? await readRemoteEnv(s, t.env) : null;
    if (!r || r.file.removed) return step;
    step.move = r.file.log.at(-1) ?? null;
    const id = currentOf(r.file);
    if (!id) return { ...step, outcome: 'nothing-deployed' };
    const target = servingTarget(t, r.file.settings.serving);
    step.id = id;
    const state = readState(repo);
    if (state?.id === id && markerId(state.path) === id) {
      const number = numberOf(repo, id);
      const config = t.servingConfig && number ? writeServingConfig(target, number, t.env) : null;
      return { ...step, outcome: 'unchanged', number, path: state.path, config };
    }
    return withLock(repo, 'follow', async () => {
      step.bytes = (await fetchFromRemote(repo, s, { jobs, want: [id] })).bytes;
      if (!repo.objects.has(id))
        throw new MvmError(
          'REMOTE_CORRUPT',
          `${t.env} on ${remote.url} points at ${id.slice(0, 12)}, which no pack holds`,
          {
            url: remote.url,
            env: t.env,
            hint: 'push that version from a clone that has it',
          },
        );
      const number = numberOf(repo, id);
      step.number = number;
      if (t.requireSigned) {
        try {
          assertSigned(
            checkSignatures(repo, id, undefined, t.allowedSigners),
            number ? `v${number}` : id.slice(0, 12),
            `, and this host serves only versions an allowed signer signed`,
          );
        } catch (e) {
          if (!(e instanceof MvmError)) throw e;
          return { ...step, outcome: 'refused' as const, refused: { code: e.code, message: e.message } };
        }
      }
      if (!number)
        throw new MvmError('REMOTE_CORRUPT', `${id.slice(0, 12)} has no number in ${remote.url}'s registry`, {
          url: remote.url,
          hint: 'push it again from a clone that has it',
        });
      const { value: exported, fetched } = await repo.chunks.tally(() => exportVersion(repo, id, number, target));
      step.bytes += fetched.bytes;
      step.path = exported.path;
      step.removed = pruneServing(target, { newerThan: number, protect: new Set([number]) });
      if (t.servingConfig) step.config = writeServingConfig(target, number, t.env);
      repo.writeInternal(STATE, `${JSON.stringify({ id, number, path: exported.path })}\n`);
      return { ...step, outcome: 'exported' as const };
    });
  });
}
