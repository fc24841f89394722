import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, MvmError } from '../errors.js';
import { type FollowStep, type FollowTarget, followStep, openFollowerStore } from '../repo/deploy/index.js';

export type { FollowStep, FollowTarget } from '../repo/deploy/index.js';

/** Options of `mvm follow`: what to follow and serve, and how often to look. */
export interface FollowOptions extends FollowTarget {
  /** Seconds between looks at the remote (default 30). */
  interval?: number;
  /** Look once and return (for cron). */
  once?: boolean;
}

/** What the follower reports while it runs: a change it made or saw, or a failed look and when it tries again. */
export type FollowEvent = { kind: 'step'; step: FollowStep } | { kind: 'error'; error: MvmError; retryIn: number };

/**
 * Where a follower keeps its store unless told: `$XDG_CACHE_HOME/mvm/follow/<hash>` (else `~/.cache/...`), one per
 * remote, env, serving folder and model name, outside the serving folder (Triton would take a folder there for a
 * model).
 */
export function defaultState(t: Pick<FollowTarget, 'url' | 'env' | 'dir' | 'name'>): string {
  const key = [t.url, t.env, resolve(t.dir), t.name ?? ''].join('\0');
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'mvm', 'follow', createHash('sha256').update(key).digest('hex').slice(0, 16));
}

/** The longest wait between looks after failures (seconds). */
const MAX_BACKOFF = 300;

/**
 * Follows an env of a remote from a serving host with no workspace: looks at the env, brings the serving folder to
 * its version (see followStep), and with `once` returns that step. Otherwise it looks again every `interval`
 * seconds until `signal` aborts, reporting each change once (not every look that finds nothing new); a look that
 * fails (remote unreachable, a damaged file there) is reported and retried with a doubling wait, up to five
 * minutes, while the folder keeps serving what it served. A mistake in the options stops it.
 */
export async function follow(
  opts: FollowOptions,
  report: (e: FollowEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<FollowStep | null> {
  const repo = openFollowerStore(opts);
  if (opts.once) return followStep(repo, opts);
  const interval = Math.max(0.05, opts.interval ?? 30);
  let wait = interval;
  let last = '';
  while (!signal?.aborted) {
    try {
      const step = await followStep(repo, opts);
      const key = `${step.outcome} ${step.id} ${step.refused?.code ?? ''}`;
      if (key !== last && step.outcome !== 'unchanged') report({ kind: 'step', step });
      last = key;
      wait = interval;
    } catch (e) {
      if (!(e instanceof MvmError) || e.exitCode === EXIT.usage || e.code === 'LOCKED') throw e;
      wait = Math.min(MAX_BACKOFF, last === 'error' ? wait * 2 : interval);
      last = 'error';
      report({ kind: 'error', error: e, retryIn: wait });
    }
    await sleep(wait, signal);
  }
  return null;
}

function sleep(seconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, seconds * 1000);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      done();
    });
  });
}
