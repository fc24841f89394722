import { suggest } from '../../core/suggest.js';
import { MvmError } from '../../errors.js';
import { parseRevision } from '../../core/revision.js';
import { followSteps } from '../../core/dag.js';
import { isIdPrefix, isObjectId } from '../../core/ids.js';
import type { Repository } from '../repository/index.js';
import { deployedAt } from './deployments.js';
import { removedVersions } from './gcLog.js';

const HINT = 'use vN, a hash prefix, a branch, a tag, HEAD~N, deployed, deployed@{N} or deployed:ENV';

/**
 * The ids of every numbered version, index 0 holding v1 (null for a burned
 * number): the one source of version numbers. Versions made here that the
 * shared registry has not numbered yet are not among them (see
 * provisionalIds).
 */
export function numbered(repo: Repository): (string | null)[] {
  const all = repo.numbers.readAll();
  const confirmed = repo.numbers.confirmed();
  return confirmed === null ? all : all.slice(0, confirmed);
}

/** Versions made here that the shared registry has not numbered yet, oldest first: they show no number. */
export function provisionalIds(repo: Repository): string[] {
  const confirmed = repo.numbers.confirmed();
  if (confirmed === null) return [];
  return repo.numbers
    .readAll()
    .slice(confirmed)
    .filter((id): id is string => !!id);
}

/** A lookup from version id to its short number (null when it has none), reading the number log once. */
export function numberLookup(repo: Repository): (id: string) => number | null {
  const byId = new Map<string, number>();
  numbered(repo).forEach((id, i) => {
    if (id) byId.set(id, i + 1);
  });
  return (id) => byId.get(id) ?? null;
}

/** The short number of a version id, or null if it has none (not numbered by the registry yet, say). */
export function numberOf(repo: Repository, id: string): number | null {
  const n = repo.numbers.numberOf(id);
  if (n === null) return null;
  const confirmed = repo.numbers.confirmed();
  return confirmed === null || n <= confirmed ? n : null;
}

function unknown(text: string, why: string, suggestions: string[] = []): MvmError {
  const mean = suggestions.length ? ` (did you mean ${suggestions.map((x) => `'${x}'`).join(' or ')}?)` : '';
  return new MvmError('UNKNOWN_REVISION', `unknown revision '${text}': ${why}${mean}`, {
    revision: text,
    ...(suggestions.length ? { suggestions } : {}),
    hint: HINT,
  });
}

/**
 * The refs closest to a misspelled name: branches, tags, remote-tracking branches, HEAD and deployed; a
 * remote-tracking branch is also matched by its branch part (`mian` finds `origin/main`).
 */
function nearRefs(repo: Repository, name: string): string[] {
  const local = [...repo.refs.list('refs/heads/'), ...repo.refs.list('refs/tags/')].map((r) => r.name);
  const remote = repo.refs.list('refs/remotes/').map((r) => r.name);
  const near = suggest(name, [...local, ...remote, 'HEAD', 'deployed']);
  if (near.length || name.includes('/')) return near;
  const byBranch = new Map(remote.map((r) => [r.slice(r.indexOf('/') + 1), r]));
  return suggest(name, byBranch.keys()).map((b) => byBranch.get(b)!);
}

/** A resolved revision: the version id, and the branch it named when it named one plainly (no steps). */
export interface ResolvedRevision {
  id: string;
  /** The short branch name when the text was a bare branch name; null otherwise. */
  branch: string | null;
}

/**
 * Resolves revision text to a version id: `v7`, a unique hash prefix, a
 * branch, a tag, `HEAD`, `deployed`, `deployed@{N}`, with `~N` / `^N` steps.
 */
export function resolveRevision(repo: Repository, text: string): string {
  return resolveTarget(repo, text).id;
}

/** Like resolveRevision, and also tells whether the text named a branch (what checkout follows). */
export function resolveTarget(repo: Repository, text: string): ResolvedRevision {
  const rev = parseRevision(text);
  let id: string;
  let branch: string | null = null;
  const b = rev.base;
  switch (b.kind) {
    case 'number': {
      const all = numbered(repo);
      const found = all[b.n - 1];
      if (!found) {
        const waiting = provisionalIds(repo).length;
        const pending = waiting ? `; ${waiting} version(s) made here get numbers when pushed (use their ids)` : '';
        throw unknown(
          text,
          (all.length ? `versions are numbered v1 to v${all.length}` : 'no version is numbered yet') + pending,
        );
      }
      id = found;
      break;
    }
    case 'head': {
      const h = repo.headId();
      if (!h)
        throw new MvmError('NO_VERSIONS', 'HEAD does not point at a version yet', {
          revision: text,
          hint: "make one with 'mvm commit'",
        });
      id = h;
      break;
    }
    case 'deployed':
      id = deployedAt(repo, b.back, b.env);
      break;
    case 'name':
      ({ id, branch } = resolveName(repo, b.name, text));
      break;
  }
  if (!repo.objects.has(id)) {
    const when = removedVersions(repo).get(id);
    if (when) throw unknown(text, `version ${id.slice(0, 12)} was removed by 'mvm gc' on ${when.slice(0, 10)}`);
  }
  if (!rev.steps.length) return { id, branch };
  const out = followSteps(id, rev.steps, (x) => repo.version(x));
  if (!out) throw unknown(text, 'history is not that long');
  return { id: out, branch: null };
}

/**
 * True when a name can be looked up as a ref without leaving `.mvm/refs`: plain characters, no empty, `.` or `..` part.
 */
function refSafe(name: string): boolean {
  return /^[A-Za-z0-9._\-/]+$/.test(name) && name.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

function resolveName(repo: Repository, name: string, text: string): ResolvedRevision {
  if (!refSafe(name)) throw unknown(text, 'no such version, branch or tag');
  if (name.startsWith('refs/')) {
    const v = repo.refs.read(name);
    if (v) return { id: v, branch: null };
    throw unknown(text, `no ref ${name}`);
  }
  const tag = repo.refs.read(`refs/tags/${name}`);
  const branch = repo.refs.read(`refs/heads/${name}`);
  // origin/main: a remote-tracking branch (checked out detached, as in git)
  const tracking = !tag && !branch && name.includes('/') ? repo.refs.read(`refs/remotes/${name}`) : null;
  if (tracking) return { id: tracking, branch: null };
  if (tag && branch && tag !== branch) {
    throw new MvmError('AMBIGUOUS_REVISION', `'${name}' is both a branch and a tag`, {
      revision: text,
      hint: `say refs/heads/${name} or refs/tags/${name}`,
    });
  }
  // a name that is a tag too (at the same version) detaches, as a tag does
  if (tag) return { id: tag, branch: null };
  if (branch) return { id: branch, branch: name };
  if (isIdPrefix(name)) {
    const matches = repo.numbers.readAll().filter((id): id is string => !!id && id.startsWith(name));
    if (matches.length === 1) return { id: matches[0]!, branch: null };
    if (matches.length > 1) {
      throw new MvmError(
        'AMBIGUOUS_REVISION',
        `hash prefix '${name}' is ambiguous: it matches ${matches.length} versions`,
        {
          revision: text,
          candidates: matches.slice(0, 10),
          hint: 'give more hex digits',
        },
      );
    }
    if (isObjectId(name) && repo.objects.has(name)) return { id: name, branch: null };
    throw unknown(text, 'no version id starts with it');
  }
  throw unknown(text, 'no such version, branch or tag', nearRefs(repo, name));
}
