import { MvmError } from '../errors.js';
import { parseRevision } from '../core/revision.js';
import { followSteps } from '../core/dag.js';
import { isIdPrefix, isObjectId } from '../core/ids.js';
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

const HINT = 'use vN, a hash prefix, a branch, a tag, HEAD~N, deployed or deployed@{N}';

/** The ids of every numbered version, index 0 holding v1 (null for a burned number). */
export function numbered(repo: Repository): (string | null)[] {
  return repo.numbers.readAll();
}

/** The short number of a version id, or null if it has none. */
export function numberOf(repo: Repository, id: string, all = numbered(repo)): number | null {
  const i = all.indexOf(id);
  return i < 0 ? null : i + 1;
}

function unknown(text: string, why: string): MvmError {
  return new MvmError('UNKNOWN_REVISION', `unknown revision '${text}': ${why}`, { revision: text, hint: HINT });
}

/**
 * The deploy log as it took effect: a crash between logging a move and moving
 * the ref leaves a last entry the ref never took, which is dropped here.
 */
export function deployLog(repo: Repository): DeployLogEntry[] {
  const current = repo.refs.read('refs/deployed');
  const log = repo.refs.readLog<DeployLogEntry>('deployed');
  while (log.length && log[log.length - 1]!.to !== current) log.pop();
  return log;
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
 * Resolves revision text to a version id: `v7`, a unique hash prefix, a
 * branch, a tag, `HEAD`, `deployed`, `deployed@{N}`, with `~N` / `^N` steps.
 */
export function resolveRevision(repo: Repository, text: string): string {
  const rev = parseRevision(text);
  let id: string;
  const b = rev.base;
  switch (b.kind) {
    case 'number': {
      const all = numbered(repo);
      const found = all[b.n - 1];
      if (!found) throw unknown(text, all.length ? `versions are numbered v1 to v${all.length}` : 'the repository has no versions yet');
      id = found;
      break;
    }
    case 'head': {
      const h = repo.headId();
      if (!h) throw new MvmError('NO_VERSIONS', 'HEAD does not point at a version yet', { revision: text, hint: "make one with 'mvm commit'" });
      id = h;
      break;
    }
    case 'deployed':
      id = deployedAt(repo, b.back);
      break;
    case 'name':
      id = resolveName(repo, b.name, text);
      break;
  }
  if (!rev.steps.length) return id;
  const out = followSteps(id, rev.steps, (x) => repo.version(x));
  if (!out) throw unknown(text, 'history is not that long');
  return out;
}

function resolveName(repo: Repository, name: string, text: string): string {
  if (name.startsWith('refs/')) {
    const v = repo.refs.read(name);
    if (v) return v;
    throw unknown(text, `no ref ${name}`);
  }
  const tag = repo.refs.read(`refs/tags/${name}`);
  const branch = repo.refs.read(`refs/heads/${name}`);
  if (tag && branch && tag !== branch) {
    throw new MvmError('AMBIGUOUS_REVISION', `'${name}' is both a branch and a tag`, { revision: text, hint: `say refs/heads/${name} or refs/tags/${name}` });
  }
  if (tag ?? branch) return (tag ?? branch)!;
  if (isIdPrefix(name)) {
    const matches = numbered(repo).filter((id): id is string => !!id && id.startsWith(name));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new MvmError('AMBIGUOUS_REVISION', `hash prefix '${name}' is ambiguous: it matches ${matches.length} versions`, {
        revision: text,
        candidates: matches.slice(0, 10),
        hint: 'give more hex digits',
      });
    }
    if (isObjectId(name) && repo.objects.has(name)) return name;
    throw unknown(text, 'no version id starts with it');
  }
  throw unknown(text, 'no such version, branch or tag');
}
