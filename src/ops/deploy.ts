import { MvmError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { resolveRevision, numberOf } from '../repo/revisions.js';
import { deployLog, deploymentStack, type DeployLogEntry } from '../repo/deployments.js';
import { withLock } from '../repo/session.js';
import { defaultAuthor } from '../repo/gitInfo.js';

/** A move of the deployed pointer, with version numbers for display. */
export interface DeployResult {
  from: string | null;
  fromNumber: number | null;
  to: string;
  toNumber: number | null;
  action: 'deploy' | 'rollback';
  changed: boolean;
}

/** Options of deploy and rollback. */
export interface DeployOptions {
  reason?: string;
  who?: string;
}

function move(repo: Repository, to: string, action: DeployLogEntry['action'], opts: DeployOptions): DeployResult {
  const from = repo.refs.read('refs/deployed');
  const entry: DeployLogEntry = { time: new Date().toISOString(), who: defaultAuthor(repo.root, opts.who), action, from, to, ...(opts.reason ? { reason: opts.reason } : {}) };
  // log first, then the ref: a crash between them leaves a log entry the ref never took,
  // which deployLog() drops because its `to` differs from the ref
  repo.refs.appendLog('deployed', entry);
  repo.refs.write('refs/deployed', to);
  return { from, fromNumber: from ? numberOf(repo, from) : null, to, toNumber: numberOf(repo, to), action, changed: from !== to };
}

/** Points `deployed` at a version and logs the move (who, when, from, to, why). */
export async function deploy(repo: Repository, rev: string, opts: DeployOptions = {}): Promise<DeployResult> {
  return withLock(repo, 'deploy', async () => move(repo, resolveRevision(repo, rev), 'deploy', opts));
}

/** Moves `deployed` back to the previous deployment, or to `to` when given. */
export async function rollback(repo: Repository, opts: DeployOptions & { to?: string } = {}): Promise<DeployResult> {
  return withLock(repo, 'rollback', async () => {
    const current = repo.refs.read('refs/deployed');
    if (!current) throw new MvmError('NOTHING_DEPLOYED', 'nothing has been deployed yet, so there is nothing to roll back', { hint: "deploy a version with 'mvm deploy REV'" });
    if (opts.to) return move(repo, resolveRevision(repo, opts.to), 'rollback', opts);
    const stack = deploymentStack(deployLog(repo));
    const prev = stack[stack.length - 2];
    if (!prev) throw new MvmError('NO_PREVIOUS_DEPLOYMENT', 'there is no earlier deployment to roll back to', { deployed: current, hint: 'use --to REV to deploy a specific version' });
    return move(repo, prev, 'rollback', opts);
  });
}

/** The deploy log, newest first. */
export function deployHistory(repo: Repository): (DeployLogEntry & { toNumber: number | null; fromNumber: number | null })[] {
  return deployLog(repo)
    .reverse()
    .map((e) => ({ ...e, toNumber: numberOf(repo, e.to), fromNumber: e.from ? numberOf(repo, e.from) : null }));
}
