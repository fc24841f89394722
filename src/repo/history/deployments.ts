import { MvmError } from '../../errors.js';
import { DEFAULT_ENV, validateEnvName } from '../../core/revision.js';
import type { Repository } from '../repository/index.js';

/** One move of an environment's pointer, as logged in `.mvm/logs/deployed` (default env) or `.mvm/logs/envs/<env>`. */
export interface DeployLogEntry {
  time: string;
  who: string;
  /** deploy and promote push a version; rollback and undo (a failed hook's move taken back) go back. */
  action: 'deploy' | 'rollback' | 'promote' | 'undo';
  from: string | null;
  to: string;
  reason?: string;
  /** The gates the version passed, or 'skipped' (--no-gates). */
  gates?: string[] | 'skipped';
  /** For a promote: the env the version came from. */
  fromEnv?: string;
}

/**
 * The ref that holds an environment's current version: `refs/deployed` for the default env, `refs/envs/<env>` for
 * others.
 */
export function envRef(env: string): string {
  return env === DEFAULT_ENV ? 'refs/deployed' : `refs/envs/${validateEnvName(env)}`;
}

/** The name of an environment's log under `.mvm/logs/`. */
export function envLogName(env: string): string {
  return env === DEFAULT_ENV ? 'deployed' : `envs/${validateEnvName(env)}`;
}

/** Every environment that has been deployed to (the default env first when it has). */
export function listEnvs(repo: Repository): string[] {
  const named = repo.refs
    .list('refs/envs/')
    .map((r) => r.name)
    .filter((n) => !n.includes('/'))
    .sort();
  return repo.refs.read('refs/deployed') ? [DEFAULT_ENV, ...named] : named;
}

/** The version an environment serves now, or null. */
export function envCurrent(repo: Repository, env: string): string | null {
  return repo.refs.read(envRef(env));
}

/**
 * An environment's log as it took effect. A crash (or a failed write) between
 * logging a move and moving the ref leaves an entry the ref never took; the
 * moves that did take effect form a chain back from the current ref (each
 * entry's `from` is the `to` of the one before), so the log is read from the
 * newest entry back along that chain and every entry off it is dropped.
 */
export function deployLog(repo: Repository, env: string = DEFAULT_ENV): DeployLogEntry[] {
  return effectiveMoves(repo.refs.readLog<DeployLogEntry>(envLogName(env)), envCurrent(repo, env));
}

/** The entries of a deploy log that took effect, given where the pointer is now (see deployLog). */
export function effectiveMoves(log: DeployLogEntry[], current: string | null): DeployLogEntry[] {
  const out: DeployLogEntry[] = [];
  let expected = current;
  for (let i = log.length - 1; i >= 0 && expected !== null; i--) {
    const e = log[i]!;
    if (e.to !== expected) continue;
    out.push(e);
    expected = e.from;
  }
  return out.reverse();
}

/** Where an environment's pointer was `back` moves ago (0 = now). */
export function deployedAt(repo: Repository, back: number, env: string = DEFAULT_ENV): string {
  const current = envCurrent(repo, env);
  const label = env === DEFAULT_ENV ? 'deployed' : `deployed:${env}`;
  if (!current) {
    throw new MvmError(
      'NOTHING_DEPLOYED',
      env === DEFAULT_ENV ? 'nothing has been deployed yet' : `nothing has been deployed to '${env}' yet`,
      {
        env,
        hint: `deploy a version with 'mvm deploy REV${env === DEFAULT_ENV ? '' : ` --env ${env}`}'`,
      },
    );
  }
  if (back === 0) return current;
  const log = deployLog(repo, env);
  const entry = log[log.length - back];
  if (!entry?.from) {
    throw new MvmError(
      'NO_PREVIOUS_DEPLOYMENT',
      `${label}@{${back}} does not exist: the pointer has moved ${Math.max(0, log.length - 1)} time(s) since the ` +
        `first deployment`,
      { env, back, moves: log.length },
    );
  }
  return entry.from;
}

/**
 * The stack of live deployments implied by the log: a deploy or promote
 * pushes its version, a rollback or undo pops back to its target. Rollback
 * walks this stack, so repeated rollbacks go further back instead of toggling.
 */
export function deploymentStack(log: DeployLogEntry[]): string[] {
  const stack: string[] = [];
  for (const e of log) {
    if (e.action === 'rollback' || e.action === 'undo') {
      const i = stack.lastIndexOf(e.to);
      if (i >= 0) stack.length = i + 1;
      else stack.push(e.to);
    } else if (stack[stack.length - 1] !== e.to) {
      stack.push(e.to);
    }
  }
  return stack;
}

/**
 * Moves an environment's pointer and logs the move: the log line first, then
 * the ref, so a crash between them leaves a log entry the ref never took,
 * which deployLog() drops. The caller holds the writer lock.
 */
export function moveEnv(repo: Repository, env: string, entry: DeployLogEntry): void {
  repo.refs.appendLog(envLogName(env), entry);
  repo.refs.write(envRef(env), entry.to);
}
