import { MvmError, isMvmError } from '../../errors.js';
import { DEFAULT_ENV } from '../../core/revision.js';
import { didYouMean, suggest } from '../../core/suggest.js';
import type { Repository } from '../repository/index.js';
import {
  deployLog,
  envCurrent,
  envLogName,
  envRef,
  listEnvs,
  numberOf,
  type DeployLogEntry,
} from '../history/index.js';
import {
  defaultJobs,
  fetchFromRemote,
  findRemote,
  syncRemoteIndex,
  withRemote,
  type RemoteEntry,
  type RemoteIndex,
  type RemoteSession,
} from '../transfer/index.js';
import { envConfig, readEnvConfigs, removeEnvConfig, sharedSettings, withShared, writeEnvConfig } from './envConfig.js';
import {
  currentOf,
  lastMove,
  listRemoteEnvs,
  readRemoteEnv,
  swapRemoteEnv,
  type EnvFile,
  type RemoteEnv,
} from './remoteEnvs.js';

/**
 * The team's envs, in a clone whose default remote (origin, or the only one) holds anything: every move and settings
 * change is a compare-and-swap of the env's file there, and this clone's refs, logs and settings follow it. Null in a
 * clone without one: envs are this clone's alone, as before it had a remote.
 */
export interface EnvRemote {
  s: RemoteSession;
  /** The remote's env files as last read or written by this command. */
  envs: Map<string, RemoteEnv>;
  /** Where each env pointed in this clone's view before the command read the remote (null: nothing deployed). */
  seen: Map<string, string | null>;
  index?: RemoteIndex;
}

/** The remote envs travel with: the default one, or null when none is configured or several are and none is origin. */
export function envRemoteOf(repo: Repository): RemoteEntry | null {
  try {
    return findRemote(repo);
  } catch (e) {
    if (isMvmError(e, 'UNKNOWN_REMOTE')) return null;
    throw e;
  }
}

/**
 * Runs `fn` with the team's envs read from the default remote and adopted here (null when there is no remote, or it
 * holds nothing yet). Call with the writer lock held.
 */
export async function withEnvRemote<T>(repo: Repository, fn: (h: EnvRemote | null) => Promise<T>): Promise<T> {
  const remote = envRemoteOf(repo);
  if (!remote) return fn(null);
  return withRemote(repo, remote, false, async (s) => {
    if (!s.exists) return fn(null);
    const envs = await listRemoteEnvs(s);
    // an env another clone moved to a version not fetched here yet: fetch it, so this clone sees where it points
    const missing = envs.map((r) => currentOf(r.file)).filter((id): id is string => !!id && !repo.objects.has(id));
    if (missing.length) await fetchFromRemote(repo, s, { jobs: defaultJobs(s.remote), want: missing });
    const seen = new Map(listEnvs(repo).map((e) => [e, envCurrent(repo, e)]));
    adoptEnvs(repo, envs);
    return fn({ s, envs: new Map(envs.map((r) => [r.env, r])), seen });
  });
}

const sameMove = (a: DeployLogEntry, b: DeployLogEntry) => JSON.stringify(a) === JSON.stringify(b);

/** Writes an env's log and pointer here as the remote has them: the log first, then the ref (see deployLog). */
function mirror(repo: Repository, env: string, log: DeployLogEntry[], current: string | null): void {
  repo.refs.replaceLog(envLogName(env), log);
  if (current) repo.refs.write(envRef(env), current);
  else repo.refs.delete(envRef(env));
}

/** What following the remote's envs did here. */
export interface EnvAdoption {
  /** Envs whose pointer, log or settings changed here. */
  changed: string[];
  /** Envs removed on the remote, removed here (their logs kept in `.mvm/logs/envs-removed/`). */
  removed: string[];
  /** Envs whose version is not here (not fetched yet): left as they were. */
  missing: string[];
}

/**
 * Makes this clone's envs follow the remote's: pointer, log and shared settings (the folder, hooks and a signature
 * requirement set here stay). Moves made here that the remote's log lacks are kept in `.mvm/logs/envs-replaced/<env>`.
 */
export function adoptEnvs(repo: Repository, envs: RemoteEnv[]): EnvAdoption {
  const out: EnvAdoption = { changed: [], removed: [], missing: [] };
  const configs = readEnvConfigs(repo);
  for (const r of envs) {
    const { env, file } = r;
    const cur = currentOf(file);
    if (cur && !repo.objects.has(cur)) {
      out.missing.push(env);
      continue;
    }
    const local = deployLog(repo, env);
    if (file.removed) {
      if (local.length || envCurrent(repo, env) || Object.hasOwn(configs, env)) {
        for (const e of local) repo.refs.appendLog(`envs-removed/${env}`, e);
        mirror(repo, env, [], null);
        removeEnvConfig(repo, env);
        out.removed.push(env);
      }
      continue;
    }
    const kept = local.filter((e) => !file.log.some((x) => sameMove(x, e)));
    for (const e of kept) repo.refs.appendLog(`envs-replaced/${env}`, e);
    let changed = false;
    if (local.length !== file.log.length || kept.length || envCurrent(repo, env) !== cur) {
      mirror(repo, env, file.log, cur);
      changed = true;
    }
    const had = Object.hasOwn(configs, env) ? configs[env]! : null;
    const next = withShared(had ?? {}, file.settings);
    if (!had || JSON.stringify(next) !== JSON.stringify(had)) {
      writeEnvConfig(repo, env, next);
      changed = true;
    }
    if (changed) out.changed.push(env);
  }
  return out;
}

/** Every env that exists here or on the remote (not removed). */
function knownEnvs(repo: Repository, h: EnvRemote | null): Set<string> {
  const remote = h ? [...h.envs.values()].filter((r) => !r.file.removed).map((r) => r.env) : [];
  return new Set([DEFAULT_ENV, ...listEnvs(repo), ...Object.keys(readEnvConfigs(repo)), ...remote]);
}

/** Refuses an env that was never created (a typo must not create one and skip its gates): UNKNOWN_ENV. */
export function assertEnvExists(repo: Repository, env: string, h: EnvRemote | null): void {
  const known = knownEnvs(repo, h);
  if (known.has(env)) return;
  const removed = h?.envs.get(env)?.file.removed;
  known.delete(DEFAULT_ENV);
  const near = removed ? [] : suggest(env, known);
  throw new MvmError(
    'UNKNOWN_ENV',
    `there is no environment '${env}'` +
      (removed ? ` (${removed.who} removed it at ${removed.time})` : didYouMean(env, known)),
    {
      env,
      envs: [...known].sort(),
      ...(near.length ? { suggestions: near } : {}),
      hint: `create it first with mvm env ${env} --create; mvm env lists the environments`,
    },
  );
}

/** Refuses to point an env at a version the remote does not hold (no other clone or serving host could fetch it). */
export async function assertOnRemote(repo: Repository, h: EnvRemote, id: string): Promise<void> {
  h.index ??= await syncRemoteIndex(repo, h.s.remote.name, h.s.backend, defaultJobs(h.s.remote));
  if (h.index.has(id)) return;
  const n = numberOf(repo, id);
  throw new MvmError(
    'NOT_PUSHED',
    `${n ? `v${n}` : id.slice(0, 12)} is not on ${h.s.remote.name} yet, ` +
      'so no other clone or serving host could fetch it',
    { id, remote: h.s.remote.name, hint: 'push it first: mvm push' },
  );
}

/**
 * Replaces an env's file on the remote with `change` applied to it, by compare-and-swap, then makes this clone follow.
 * A file that moved since this command read it is ENV_MOVED, naming who moved it, to what and when (`retry`: read
 * it again and re-apply, for settings changes that do not depend on where the env points).
 */
export async function updateRemoteEnv(
  repo: Repository,
  h: EnvRemote,
  env: string,
  change: (file: EnvFile) => EnvFile,
  retry = false,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r: RemoteEnv = h.envs.get(env) ?? {
      env,
      file: { format: 1, settings: sharedSettings(envConfig(repo, env)), log: deployLog(repo, env) },
      tag: null,
    };
    const done = await swapRemoteEnv(h.s, r, change(r.file));
    if (done) {
      h.envs.set(env, done);
      adoptEnvs(repo, [done]);
      return;
    }
    const now = await readRemoteEnv(h.s, env);
    if (now) h.envs.set(env, now);
    else h.envs.delete(env);
    if (now) adoptEnvs(repo, [now]);
    if (retry && attempt < 3) continue;
    const label = (id: string) => versionName(repo, id);
    throw new MvmError(
      'ENV_MOVED',
      `${env} changed on ${h.s.remote.name} while this command ran: ${lastMove(now, label)}; nothing was moved`,
      {
        env,
        remote: h.s.remote.name,
        now: now ? currentOf(now.file) : null,
        hint: `see mvm deployments --env ${env}, then run the command again if it still makes sense`,
      },
    );
  }
}

/** Records a move of an env: on the remote by compare-and-swap when the clone has one, else here alone. */
export async function recordMove(
  repo: Repository,
  h: EnvRemote | null,
  env: string,
  entry: DeployLogEntry,
  moveHere: () => void,
): Promise<void> {
  if (!h) return moveHere();
  // a move decided on a stale view (another clone moved the env since this one last looked) is refused; the view is
  // brought up to date, so the same command run again moves it from where it is now, knowingly
  const r = h.envs.get(env);
  const before = h.seen.has(env) ? h.seen.get(env)! : null;
  if (r && currentOf(r.file) !== before)
    throw new MvmError(
      'ENV_MOVED',
      `${env} moved on ${h.s.remote.name} since this clone last looked: ${lastMove(r, (id) => versionName(repo, id))}` +
        '; nothing was moved',
      {
        env,
        remote: h.s.remote.name,
        now: currentOf(r.file),
        hint: 'this clone sees it now (mvm deployments); run the command again to move it from there',
      },
    );
  await updateRemoteEnv(repo, h, env, (f) => {
    // a move starts where the env is: one decided on another view would break the log's chain
    if (currentOf(f) !== entry.from)
      throw new MvmError(
        'ENV_MOVED',
        `${env} on ${h.s.remote.name} is not where this clone saw it: ${lastMove({ env, file: f, tag: null }, short)}`,
        { env, remote: h.s.remote.name, now: currentOf(f), hint: `mvm fetch, then run the command again` },
      );
    return { ...f, log: [...f.log, entry] };
  });
}

const short = (id: string) => id.slice(0, 12);

/**
 * After a push to the default remote: creates there each env of this clone it lacks, and moves forward each whose
 * log there is a start of this clone's (moves made here before the remote held anything), once the version each
 * points at is on the remote. Returns the envs written.
 */
export async function pushEnvs(repo: Repository, s: RemoteSession): Promise<string[]> {
  if (envRemoteOf(repo)?.name !== s.remote.name || !s.exists) return [];
  const h: EnvRemote = { s, envs: new Map((await listRemoteEnvs(s)).map((r) => [r.env, r])), seen: new Map() };
  const written: string[] = [];
  for (const env of new Set([...listEnvs(repo), ...Object.keys(readEnvConfigs(repo))])) {
    const r = h.envs.get(env);
    const log = deployLog(repo, env);
    if (r && (r.file.removed || r.file.log.length >= log.length || !r.file.log.every((e, i) => sameMove(e, log[i]!))))
      continue;
    const cur = envCurrent(repo, env);
    h.index ??= await syncRemoteIndex(repo, s.remote.name, s.backend, defaultJobs(s.remote));
    if (cur && !h.index.has(cur)) continue;
    await updateRemoteEnv(repo, h, env, (f) => ({ ...f, log }));
    written.push(env);
  }
  return written;
}

/** Fetches the remote's env files (checked) when it is the default remote: what a fetch then wants and adopts. */
export async function remoteEnvsFor(repo: Repository, s: RemoteSession): Promise<RemoteEnv[]> {
  return envRemoteOf(repo)?.name === s.remote.name ? listRemoteEnvs(s) : [];
}

/** The versions the envs point at, for a fetch to bring along (an env may serve a version no branch reaches). */
export function envVersions(envs: RemoteEnv[]): string[] {
  return envs.map((r) => currentOf(r.file)).filter((id): id is string => !!id);
}

/** `v7 3f2a9c1d0e4b`, or the id alone for a version with no number here. */
function versionName(repo: Repository, id: string): string {
  const n = numberOf(repo, id);
  return n ? `v${n} ${id.slice(0, 12)}` : id.slice(0, 12);
}
