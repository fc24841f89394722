import { MvmError } from '../../errors.js';
import { isDeployEntry } from '../../core/logs.js';
import { isRecord } from '../../core/schema.js';
import { validateEnvName } from '../../core/revision.js';
import { REMOTE_LIMITS } from '../../core/limits.js';
import type { DeployLogEntry } from '../history/index.js';
import type { RemoteSession } from '../transfer/index.js';
import { servingProblem, type SharedSettings } from './envConfig.js';

/**
 * An environment on a remote, `envs/<env>.json`: the settings that travel (gates, the signature requirement, the
 * serving layout), every move in order, and, once removed, who removed it and when. The whole file moves by one
 * compare-and-swap, so the pointer (the last move's `to`) and its log never disagree. See docs/FORMAT.md, Remotes.
 */
export interface EnvFile {
  format: 1;
  settings: SharedSettings;
  log: DeployLogEntry[];
  removed?: { time: string; who: string };
  /** The logs of the env's earlier lives, oldest first, when it was removed and created again. */
  past?: DeployLogEntry[][];
}

/** An env file as read from a remote, with the tag its next swap compares against (null: not on the remote yet). */
export interface RemoteEnv {
  env: string;
  file: EnvFile;
  tag: string | null;
}

const KEY = /^envs\/([^/]+)\.json$/;
export const envKey = (env: string): string => `envs/${env}.json`;

/** The version an env file points at: its last move's, or null when it has none or was removed. */
export function currentOf(file: EnvFile): string | null {
  return file.removed ? null : (file.log.at(-1)?.to ?? null);
}

function corrupt(s: RemoteSession, key: string, why: string): MvmError {
  return new MvmError('REMOTE_CORRUPT', `remote file ${key} on ${s.remote.url}: ${why}`, {
    url: s.remote.url,
    key,
    hint: 'nothing was changed here; remove or fix that file on the remote',
  });
}

/** What is wrong with an env's shared settings as read from a remote, or null. */
function settingsProblem(v: unknown): string | null {
  if (!isRecord(v)) return 'settings is not an object';
  const strings = (x: unknown) => Array.isArray(x) && x.every((y) => typeof y === 'string');
  if (v.require !== undefined && !strings(v.require)) return 'settings.require is not a list of strings';
  if (v.betterThanCurrent !== undefined && typeof v.betterThanCurrent !== 'string')
    return 'settings.betterThanCurrent is not a string';
  if (v.direction !== undefined && v.direction !== 'higher' && v.direction !== 'lower')
    return 'settings.direction is not higher or lower';
  if (v.requireSigned !== undefined && typeof v.requireSigned !== 'boolean')
    return 'settings.requireSigned is not true or false';
  const serving = v.serving === undefined ? null : servingProblem(v.serving);
  if (serving) return `settings.serving ${serving}`;
  const extra = Object.keys(v).filter(
    (k) => !['require', 'betterThanCurrent', 'direction', 'requireSigned', 'serving'].includes(k),
  );
  return extra.length ? `settings has fields mvm does not write (${extra.slice(0, 3).join(', ')})` : null;
}

/** What is wrong with a log read from a remote (each move's shape; each starts where the last ended), or null. */
function logProblem(v: unknown): string | null {
  if (!Array.isArray(v)) return 'not a list of moves';
  for (let i = 0; i < v.length; i++) {
    if (!isDeployEntry(v[i])) return `move ${i + 1} does not have the shape of a move`;
    if (i > 0 && (v[i] as DeployLogEntry).from !== (v[i - 1] as DeployLogEntry).to)
      return `move ${i + 1} starts from another version than move ${i} ended on`;
  }
  return null;
}

/** Parses and checks an env file read from a remote: anything mvm would not write is REMOTE_CORRUPT. */
export function parseEnvFile(s: RemoteSession, key: string, data: Buffer): EnvFile {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    throw corrupt(s, key, 'not valid JSON');
  }
  if (!isRecord(v)) throw corrupt(s, key, 'not an object');
  if (v.format !== 1) throw corrupt(s, key, `format ${JSON.stringify(v.format)} is not 1`);
  const why =
    settingsProblem(v.settings) ??
    (logProblem(v.log) === null ? null : `log: ${logProblem(v.log)}`) ??
    (v.removed === undefined ||
    (isRecord(v.removed) && typeof v.removed.time === 'string' && typeof v.removed.who === 'string')
      ? null
      : 'removed is not {time, who}') ??
    (v.past === undefined || (Array.isArray(v.past) && v.past.every((l) => logProblem(l) === null))
      ? null
      : 'past is not a list of logs');
  if (why) throw corrupt(s, key, why);
  return v as unknown as EnvFile;
}

/** One env's file on the remote, checked; null when the remote has none. */
export async function readRemoteEnv(s: RemoteSession, env: string): Promise<RemoteEnv | null> {
  const key = envKey(validateEnvName(env));
  const f = await s.backend.read(key, REMOTE_LIMITS.env);
  return f ? { env, file: parseEnvFile(s, key, f.data), tag: f.tag } : null;
}

/** Every env file on the remote, checked; a name mvm would not write is REMOTE_CORRUPT. */
export async function listRemoteEnvs(s: RemoteSession): Promise<RemoteEnv[]> {
  if (!s.exists) return [];
  const out: RemoteEnv[] = [];
  for (const key of await s.backend.list('envs/')) {
    const env = KEY.exec(key)?.[1];
    try {
      if (!env) throw new Error('not envs/<name>.json');
      validateEnvName(env);
    } catch (e) {
      throw corrupt(s, key, `not the file of an environment (${(e as Error).message})`);
    }
    const r = await readRemoteEnv(s, env);
    if (r) out.push(r);
  }
  return out;
}

/** The bytes of an env file: its fields in a fixed order, one line. */
function encodeEnvFile(file: EnvFile): Buffer {
  const { format, settings, log, removed, past } = file;
  return Buffer.from(`${JSON.stringify({ format, settings, log, removed, past })}\n`);
}

/**
 * Replaces an env's file on the remote by compare-and-swap against what `r` read. Returns the new state (read back,
 * with its tag for the next swap), or null when the file had moved since.
 */
export async function swapRemoteEnv(s: RemoteSession, r: RemoteEnv, next: EnvFile): Promise<RemoteEnv | null> {
  const data = encodeEnvFile(next);
  if (!(await s.backend.swap(envKey(r.env), data, r.tag))) return null;
  const back = await s.backend.read(envKey(r.env), REMOTE_LIMITS.env);
  return back?.data.equals(data) ? { env: r.env, file: next, tag: back.tag } : null;
}

/** The one-line account of an env's last move, for a refused move: who moved it, to what, when. */
export function lastMove(r: RemoteEnv | null, label: (id: string) => string): string {
  const e = r?.file.log.at(-1);
  if (!r) return 'it was removed from the remote';
  if (r.file.removed) return `${r.file.removed.who} removed it at ${r.file.removed.time}`;
  if (!e) return 'its settings changed';
  return `${e.who} moved it to ${label(e.to)} (${e.action}) at ${e.time}`;
}
