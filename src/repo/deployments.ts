import { MvmError } from '../errors.js';
import type { Repository } from './repository.js';

/** One move of the deployed pointer, as logged in `.mvm/logs/deployed`. */
export interface DeployLogEntry {
  time: string;
  who: string;
  action: 'deploy' | 'rollback';
  from: string | null;
  to: string;
  reason?: string;
}

/**
 * The deploy log as it took effect. A crash (or a failed write) between
 * logging a move and moving the ref leaves an entry the ref never took; the
 * moves that did take effect form a chain back from the current ref (each
 * entry's `from` is the `to` of the one before), so the log is read from the
 * newest entry back along that chain and every entry off it is dropped.
 */
export function deployLog(repo: Repository): DeployLogEntry[] {
  return effectiveMoves(repo.refs.readLog<DeployLogEntry>('deployed'), repo.refs.read('refs/deployed'));
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

/** Where the deployed pointer was `back` moves ago (0 = now). */
export function deployedAt(repo: Repository, back: number): string {
  const current = repo.refs.read('refs/deployed');
  if (!current) throw new MvmError('NOTHING_DEPLOYED', 'nothing has been deployed yet', { hint: "deploy a version with 'mvm deploy REV'" });
  if (back === 0) return current;
  const log = deployLog(repo);
  const entry = log[log.length - back];
  if (!entry?.from) {
    throw new MvmError('NO_PREVIOUS_DEPLOYMENT', `deployed@{${back}} does not exist: the deployed pointer has moved ${Math.max(0, log.length - 1)} time(s) since the first deployment`, { back, moves: log.length });
  }
  return entry.from;
}

/**
 * The stack of live deployments implied by the log: a deploy pushes its
 * version, a rollback pops back to its target. Rollback walks this stack, so
 * repeated rollbacks go further back instead of toggling.
 */
export function deploymentStack(log: DeployLogEntry[]): string[] {
  const stack: string[] = [];
  for (const e of log) {
    if (e.action === 'rollback') {
      const i = stack.lastIndexOf(e.to);
      if (i >= 0) stack.length = i + 1;
      else stack.push(e.to);
    } else if (stack[stack.length - 1] !== e.to) {
      stack.push(e.to);
    }
  }
  return stack;
}
