import { join } from 'node:path';
import { setKey } from '../../core/values.js';
import { MvmError } from '../../errors.js';
import { validateEnvName } from '../../core/revision.js';
import { readJsonFile } from '../../storage/jsonFile.js';
import type { Repository } from '../repository/index.js';

/** The serving layouts `mvm export` writes: `DIR/NAME/<version number>/...`. */
export const LAYOUTS = ['tf-serving', 'triton'] as const;
export type ServingLayout = (typeof LAYOUTS)[number];

/** A serving folder kept in step with an environment. */
export interface ExportTarget {
  dir: string;
  layout: ServingLayout;
  name: string;
  /** Numbered folders to keep (older ones are removed, never one an env points at). */
  keep?: number;
  /** Export only the files under this path of the version, relative to it. */
  path?: string;
}

/** How a version is laid out in a serving folder, without the folder: what travels with the env to other clones. */
export type ServingSpec = Omit<ExportTarget, 'dir'>;

/** What an environment does on every move, kept in `.mvm/envs.json`. */
export interface EnvConfig {
  /** Gate conditions (the `--where` language) every deployed version must meet. */
  require?: string[];
  /** A metric the new version must beat the current one on. */
  betterThanCurrent?: string;
  direction?: 'higher' | 'lower';
  export?: ExportTarget;
  /** The serving layout the team set (from the remote, or this clone's `export` without its folder). */
  serving?: ServingSpec;
  /** Shell commands run after every move of the env. */
  hooks?: string[];
  /** When a hook fails: keep the move (default) or undo it. */
  onHookFailure?: 'keep' | 'undo';
  /**
   * Every move (deploy, promote, rollback) needs a version an allowed signer signed (see repo/signing/signatures.ts).
   */
  requireSigned?: boolean;
}

const FILE = 'envs.json';

function bad(path: string, why: string): MvmError {
  return new MvmError('REF_CORRUPT', `${path}: ${why}`, {
    path,
    hint: "fix or remove the file; 'mvm env NAME' rewrites an environment's settings",
  });
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Checks one environment's settings as read from disk; throws REF_CORRUPT naming what is wrong. */
function checkConfig(path: string, env: string, v: unknown): EnvConfig {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(path, `'${env}' is not an object`);
  const c = v as Record<string, unknown>;
  if (c.require !== undefined && !isStrings(c.require)) throw bad(path, `'${env}'.require is not a list of strings`);
  if (c.betterThanCurrent !== undefined && typeof c.betterThanCurrent !== 'string')
    throw bad(path, `'${env}'.betterThanCurrent is not a string`);
  if (c.direction !== undefined && c.direction !== 'higher' && c.direction !== 'lower')
    throw bad(path, `'${env}'.direction is not higher or lower`);
  if (c.hooks !== undefined && !isStrings(c.hooks)) throw bad(path, `'${env}'.hooks is not a list of strings`);
  if (c.onHookFailure !== undefined && c.onHookFailure !== 'keep' && c.onHookFailure !== 'undo')
    throw bad(path, `'${env}'.onHookFailure is not keep or undo`);
  if (c.requireSigned !== undefined && typeof c.requireSigned !== 'boolean')
    throw bad(path, `'${env}'.requireSigned is not true or false`);
  if (c.export !== undefined) {
    if (typeof (c.export as { dir?: unknown } | null)?.dir !== 'string') throw bad(path, `'${env}'.export needs dir`);
    const why = servingProblem(c.export);
    if (why) throw bad(path, `'${env}'.export ${why}`);
  }
  if (c.serving !== undefined) {
    const why = servingProblem(c.serving);
    if (why) throw bad(path, `'${env}'.serving ${why}`);
  }
  return c as EnvConfig;
}

/** A model name in a serving folder: one path component of plain characters. */
export const SERVING_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What is wrong with a serving layout as read from a file (`export` or `serving`), or null. */
export function servingProblem(v: unknown): string | null {
  const e = v as Record<string, unknown> | null;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return 'is not an object';
  if (typeof e.name !== 'string' || !SERVING_NAME.test(e.name))
    return 'needs a model name (letters, digits, ., _ and -)';
  if (!LAYOUTS.includes(e.layout as ServingLayout)) return `needs a layout (${LAYOUTS.join(' or ')})`;
  if (e.keep !== undefined && !(Number.isSafeInteger(e.keep) && (e.keep as number) >= 1))
    return '.keep is not a whole number >= 1';
  if (e.path !== undefined && typeof e.path !== 'string') return '.path is not a string';
  return null;
}

/** Every environment's settings. */
export function readEnvConfigs(repo: Repository): Record<string, EnvConfig> {
  const path = join(repo.dir, FILE);
  const v = readJsonFile(path, () => bad(path, 'not valid JSON'));
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(path, 'not an object');
  const out: Record<string, EnvConfig> = {};
  for (const [env, c] of Object.entries(v as Record<string, unknown>)) {
    validateEnvName(env);
    setKey(out, env, checkConfig(path, env, c));
  }
  return out;
}

/** One environment's settings (empty when it has none). */
export function envConfig(repo: Repository, env: string): EnvConfig {
  const all = readEnvConfigs(repo);
  return Object.hasOwn(all, env) ? all[env]! : {};
}

/**
 * Replaces one environment's settings (atomically; the caller holds the writer lock). An env with an entry exists,
 * even with no settings: envs are created explicitly (`mvm env NAME --create`).
 */
export function writeEnvConfig(repo: Repository, env: string, config: EnvConfig): void {
  const all = readEnvConfigs(repo);
  const clean = Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
  setKey(all, validateEnvName(env), clean);
  writeAll(repo, all);
}

/** Forgets one environment's settings and its existence here (`mvm env NAME --remove`). */
export function removeEnvConfig(repo: Repository, env: string): void {
  const all = readEnvConfigs(repo);
  delete all[env];
  writeAll(repo, all);
}

function writeAll(repo: Repository, all: Record<string, EnvConfig>): void {
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1)));
  repo.writeInternal(FILE, JSON.stringify(sorted, null, 2) + '\n');
}

/** The settings of an env that travel to other clones: gates, the signature requirement, the serving layout. */
export type SharedSettings = Pick<
  EnvConfig,
  'require' | 'betterThanCurrent' | 'direction' | 'requireSigned' | 'serving'
>;

/** The shared part of an env's settings here (with `export`, its serving layout without the folder). */
export function sharedSettings(c: EnvConfig): SharedSettings {
  const serving: ServingSpec | undefined = c.export
    ? { layout: c.export.layout, name: c.export.name, keep: c.export.keep, path: c.export.path }
    : c.serving;
  return dropEmpty({
    require: c.require,
    betterThanCurrent: c.betterThanCurrent,
    direction: c.direction,
    requireSigned: c.requireSigned,
    serving: serving && dropEmpty(serving),
  });
}

/**
 * An env's settings here after the team's shared ones arrive: the shared ones replace this clone's, except that a
 * signature requirement set here stays (a remote cannot lift it) and the serving folder, hooks and what to do when a
 * hook fails stay this clone's. A serving folder here takes the team's layout.
 */
export function withShared(local: EnvConfig, shared: SharedSettings): EnvConfig {
  const out: EnvConfig = {
    ...shared,
    requireSigned: local.requireSigned || shared.requireSigned || undefined,
    hooks: local.hooks,
    onHookFailure: local.onHookFailure,
  };
  if (local.export) out.export = dropEmpty({ ...(shared.serving ?? local.export), dir: local.export.dir });
  return dropEmpty(out);
}

function dropEmpty<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== false)) as T;
}
