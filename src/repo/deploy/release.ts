import { HOOK_MAX_OUTPUT } from '../../core/limits.js';
import { spawnSync } from 'node:child_process';
import { MvmError } from '../../errors.js';
import { DEFAULT_ENV } from '../../core/revision.js';
import { type Repository, defaultAuthor } from '../repository/index.js';
import {
  numberOf,
  allSummaries,
  deployLog,
  envCurrent,
  listEnvs,
  moveEnv,
  type DeployLogEntry,
} from '../history/index.js';
import { envConfig, readEnvConfigs, type EnvConfig, type ExportTarget } from './envConfig.js';
import { assertGates, checkGates, type GateReport, type Gates } from './gates.js';
import { exportVersion, pruneServing, withdrawExport, type ExportResult } from './serving.js';
import { assertOnRemote, recordMove, type EnvRemote } from './envSync.js';
import { assertSigned, checkSignatures } from '../signing/index.js';

/** How one hook ran. */
export interface HookRun {
  command: string;
  exitCode: number | null;
  /** The end of its stdout and stderr (at most 4 KiB). */
  output: string;
}

/** A move of an environment's pointer, with what it checked, exported and ran. */
export interface ReleaseResult {
  env: string;
  action: DeployLogEntry['action'];
  from: string | null;
  fromNumber: number | null;
  to: string;
  toNumber: number | null;
  /** False when the env already served the version: nothing was logged or run. */
  changed: boolean;
  gates: GateReport | 'skipped' | null;
  export: ExportResult | null;
  hooks: HookRun[];
  /** When a hook failed and the env's setting is `undo`: the move was taken back. */
  undone: boolean;
}

/** What a caller asks of a move. */
export interface MoveRequest {
  env: string;
  to: string;
  action: 'deploy' | 'rollback' | 'promote';
  reason?: string;
  who?: string;
  fromEnv?: string;
  /** Gates given on the command line, on top of the env's stored ones. */
  gates?: Partial<Gates>;
  noGates?: boolean;
  /** The team's envs on the default remote (the move is a compare-and-swap there), or null: this clone's alone. */
  remote: EnvRemote | null;
}

/** The gates a deploy or promote of an env checks: its stored ones, and those given on the command line on top. */
export function moveGates(config: EnvConfig, extra?: Partial<Gates>): Gates {
  return {
    require: [...(config.require ?? []), ...(extra?.require ?? [])],
    betterThanCurrent: extra?.betterThanCurrent ?? config.betterThanCurrent,
    direction: extra?.direction ?? config.direction,
  };
}

/** The version numbers every env points at: their serving folders are never removed. */
export function servedNumbers(repo: Repository): Set<number> {
  const out = new Set<number>();
  for (const env of listEnvs(repo)) {
    const id = envCurrent(repo, env);
    const n = id ? numberOf(repo, id) : null;
    if (n) out.add(n);
  }
  return out;
}

function needNumber(repo: Repository, id: string): number {
  const n = numberOf(repo, id);
  if (!n)
    throw new MvmError(
      'UNKNOWN_REVISION',
      `version ${id.slice(0, 12)} has no number here, so it has no serving folder`,
      { id, hint: "a version made here is numbered by the shared registry when pushed: 'mvm push' first" },
    );
  return n;
}

/** Brings an env's serving folder to `id`: exported, newer folders removed (a rollback), `keep` applied. */
async function syncServing(repo: Repository, target: ExportTarget, id: string): Promise<ExportResult> {
  const number = needNumber(repo, id);
  const r = await exportVersion(repo, id, number, target);
  const protect = servedNumbers(repo);
  protect.add(number);
  r.removed = pruneServing(target, { newerThan: number, protect });
  return r;
}

function runHooks(repo: Repository, config: EnvConfig, vars: Record<string, string>): HookRun[] {
  const runs: HookRun[] = [];
  for (const command of config.hooks ?? []) {
    const r = spawnSync('/bin/sh', ['-c', command], {
      cwd: repo.root,
      env: { ...process.env, ...vars },
      encoding: 'utf8',
      maxBuffer: HOOK_MAX_OUTPUT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4096);
    runs.push({ command, exitCode: r.error ? null : r.status, output: r.error ? r.error.message : output });
    if (r.status !== 0) break;
  }
  return runs;
}

/**
 * Moves an environment to a version, under the writer lock the caller holds:
 * checks the signature when the env requires one (every move), the gates
 * (deploy and promote; a rollback is never gated), exports
 * the version into the env's serving folder before the pointer moves, logs
 * and moves the pointer, runs the env's hooks, and tidies the serving folder.
 * A hook that fails is HOOK_FAILED; with `onHookFailure: undo` the move is
 * first taken back (logged as `undo`) and the serving folder switched back.
 */
export async function releaseMove(repo: Repository, req: MoveRequest): Promise<ReleaseResult> {
  const config = envConfig(repo, req.env);
  const from = envCurrent(repo, req.env);
  const result: ReleaseResult = {
    env: req.env,
    action: req.action,
    from,
    fromNumber: from ? numberOf(repo, from) : null,
    to: req.to,
    toNumber: numberOf(repo, req.to),
    changed: from !== req.to,
    gates: null,
    export: null,
    hooks: [],
    undone: false,
  };
  if (!result.changed) return result;
  // every move, rollback included and --no-gates or not: who may write the store is not who may choose what is served
  if (config.requireSigned)
    assertSigned(
      checkSignatures(repo, req.to),
      result.toNumber ? `v${result.toNumber}` : req.to.slice(0, 12),
      `, and ${req.env} requires versions signed by an allowed signer`,
    );
  if (req.action !== 'rollback') {
    const gates = moveGates(config, req.gates);
    if (req.noGates) result.gates = 'skipped';
    else if (gates.require.length || gates.betterThanCurrent) {
      const summaries = await allSummaries(repo);
      const candidate = summaries.get(req.to);
      if (!candidate)
        throw new MvmError('UNKNOWN_REVISION', `version ${req.to.slice(0, 12)} is not indexed`, { id: req.to });
      result.gates = await checkGates(gates, candidate, from ? (summaries.get(from) ?? null) : null);
      assertGates(result.gates, `v${candidate.number}`, req.env);
    }
  }
  if (req.remote) await assertOnRemote(repo, req.remote, req.to);
  if (config.export) result.export = await exportVersion(repo, req.to, needNumber(repo, req.to), config.export);
  const entry: DeployLogEntry = {
    time: new Date().toISOString(),
    who: defaultAuthor(repo.root, req.who),
    action: req.action,
    from,
    to: req.to,
    ...(req.reason ? { reason: req.reason } : {}),
    ...(result.gates === 'skipped'
      ? { gates: 'skipped' as const }
      : result.gates
        ? { gates: result.gates.passed }
        : {}),
    ...(req.fromEnv ? { fromEnv: req.fromEnv } : {}),
  };
  await move(repo, req, entry, result);
  if (config.export) {
    const protect = servedNumbers(repo);
    result.export!.removed = pruneServing(config.export, { newerThan: result.toNumber!, protect });
  }
  const vars = (
    to: string,
    toNumber: number | null,
    old: string | null,
    oldNumber: number | null,
    action: string,
  ): Record<string, string> => ({
    MVM_ENV: req.env,
    MVM_ACTION: action,
    MVM_OLD_ID: old ?? '',
    MVM_OLD_NUMBER: oldNumber ? String(oldNumber) : '',
    MVM_NEW_ID: to,
    MVM_NEW_NUMBER: toNumber ? String(toNumber) : '',
    MVM_EXPORT_PATH: result.export?.path ?? '',
  });
  result.hooks = runHooks(repo, config, vars(req.to, result.toNumber, from, result.fromNumber, req.action));
  const failed = result.hooks.find((h) => h.exitCode !== 0);
  if (failed) {
    if (config.onHookFailure === 'undo' && from) {
      await move(repo, req, {
        time: new Date().toISOString(),
        who: entry.who,
        action: 'undo',
        from: req.to,
        to: from,
        reason: `hook failed: ${failed.command} (exit ${failed.exitCode})`,
      });
      if (config.export) await syncServing(repo, config.export, from);
      result.undone = true;
    }
    const said = failed.output.trim().split('\n').at(-1)?.slice(0, 200);
    throw new MvmError(
      'HOOK_FAILED',
      `the ${req.env} hook '${failed.command}' exited with ${failed.exitCode ?? 'an error'}` +
        (said ? ` (${said})` : '') +
        (result.undone
          ? `; the move was undone: ${req.env} serves v${result.fromNumber} again`
          : `; the move was kept: ${req.env} serves v${result.toNumber}`),
      {
        env: req.env,
        hooks: result.hooks,
        kept: !result.undone,
        output: failed.output,
        result,
        hint: result.undone ? 'fix the hook and deploy again' : "fix the hook; 'mvm rollback' moves the env back",
      },
    );
  }
  return result;
}

/**
 * Moves the env's pointer and logs it: on the team's remote first when the clone has one (a move from a stale view is
 * ENV_MOVED, and a version folder exported for it is taken back), then here.
 */
async function move(repo: Repository, req: MoveRequest, entry: DeployLogEntry, result?: ReleaseResult): Promise<void> {
  try {
    await recordMove(repo, req.remote, req.env, entry, () => moveEnv(repo, req.env, entry));
  } catch (e) {
    const target = envConfig(repo, req.env).export;
    if (target && result?.export?.written) withdrawExport(target, result.export.number, servedNumbers(repo));
    throw e;
  }
}

/** Exports an env's current version into a serving folder and remembers it as the env's (deploy --export). */
export async function serveEnv(repo: Repository, env: string, target: ExportTarget): Promise<ExportResult | null> {
  const id = envCurrent(repo, env);
  return id ? syncServing(repo, target, id) : null;
}

/** The current version of every env that has one, with the env's settings. */
export function envStates(
  repo: Repository,
): { env: string; id: string | null; number: number | null; moves: number; config: EnvConfig }[] {
  const configs = readEnvConfigs(repo);
  const names = new Set([...listEnvs(repo), ...Object.keys(configs)]);
  return [...names]
    .sort((a, b) => (a === DEFAULT_ENV ? -1 : b === DEFAULT_ENV ? 1 : a < b ? -1 : 1))
    .map((env) => {
      const id = envCurrent(repo, env);
      return {
        env,
        id,
        number: id ? numberOf(repo, id) : null,
        moves: deployLog(repo, env).length,
        config: Object.hasOwn(configs, env) ? configs[env]! : {},
      };
    });
}
