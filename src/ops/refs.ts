import { MvmError } from '../errors.js';
import { didYouMean, suggest } from '../core/suggest.js';
import { validateRefName } from '../core/revision.js';
import { type Repository, withLock } from '../repo/repository/index.js';
import { resolveRevision, numberOf, allSummaries } from '../repo/history/index.js';

/** A branch or tag and the version it names. */
export interface RefInfo {
  name: string;
  id: string;
  number: number | null;
  current: boolean;
  /** With --force, where an existing branch or tag pointed before it was moved. */
  moved?: { from: string; fromNumber: number | null };
}

type Kind = 'branch' | 'tag';
const prefix = (k: Kind) => (k === 'branch' ? 'refs/heads/' : 'refs/tags/');

/** Lists branches or tags; `current` marks the branch HEAD follows. */
export function listRefs(repo: Repository, kind: Kind): RefInfo[] {
  const head = repo.head();
  return repo.refs.list(prefix(kind)).map((r) => ({
    name: r.name,
    id: r.value,
    number: numberOf(repo, r.value),
    current: head.kind === 'branch' && head.ref === r.ref,
  }));
}

/** Creates a branch or tag at a revision (default HEAD); `force` moves an existing one. */
export async function createRef(
  repo: Repository,
  kind: Kind,
  name: string,
  rev = 'HEAD',
  force = false,
): Promise<RefInfo> {
  validateRefName(name, kind);
  return withLock(repo, kind, async () => {
    const id = resolveRevision(repo, rev);
    const ref = prefix(kind) + name;
    const before = repo.refs.read(ref);
    if (before && !force) {
      throw new MvmError('REF_EXISTS', `a ${kind} named '${name}' already exists`, {
        name,
        hint:
          kind === 'branch'
            ? 'pick another name, or pass --force to move it'
            : 'tags do not move; pass --force to replace it',
      });
    }
    const head = repo.head();
    if (before && before !== id && kind === 'branch' && head.kind === 'branch' && head.ref === ref) {
      throw new MvmError('BAD_ARGUMENT', `cannot move branch '${name}': HEAD is on it`, {
        name,
        hint: `check out another branch first, or 'mvm checkout ${rev}' to move the workspace`,
      });
    }
    if (before !== id) repo.refs.write(ref, id);
    return {
      name,
      id,
      number: numberOf(repo, id),
      current: head.kind === 'branch' && head.ref === ref,
      ...(before ? { moved: { from: before, fromNumber: numberOf(repo, before) } } : {}),
    };
  });
}

/**
 * Deletes a branch or tag; the versions stay (until gc). The branch HEAD
 * follows cannot be deleted, and a branch whose tip nothing else reaches
 * (HEAD, another branch, a tag, a remote-tracking branch, an environment)
 * needs `force` (-D), as in git: its versions would be left for gc.
 */
export async function deleteRef(repo: Repository, kind: Kind, name: string, force = false): Promise<RefInfo> {
  return withLock(repo, kind, async () => {
    const ref = prefix(kind) + name;
    const id = repo.refs.read(ref);
    if (!id) {
      const near = suggest(
        name,
        repo.refs.list(prefix(kind)).map((r) => r.name),
      );
      throw new MvmError('UNKNOWN_REVISION', `no ${kind} named '${name}'${didYouMean(name, near)}`, {
        name,
        ...(near.length ? { suggestions: near } : {}),
      });
    }
    const head = repo.head();
    if (kind === 'branch' && head.kind === 'branch' && head.ref === ref) {
      throw new MvmError('BAD_ARGUMENT', `cannot delete branch '${name}': HEAD is on it`, {
        name,
        hint: 'check out another branch or version first',
      });
    }
    if (kind === 'branch' && !force) {
      const others = [
        repo.headId(),
        ...repo.refs
          .list('refs/')
          .filter((r) => r.ref !== ref)
          .map((r) => r.value),
      ].filter((x): x is string => !!x);
      const summaries = await allSummaries(repo);
      const reached = new Set<string>();
      const stack = [...others];
      while (stack.length && !reached.has(id)) {
        const x = stack.pop()!;
        if (reached.has(x)) continue;
        reached.add(x);
        for (const p of summaries.get(x)?.parents ?? []) stack.push(p);
      }
      if (!reached.has(id)) {
        throw new MvmError(
          'BRANCH_NOT_MERGED',
          `branch '${name}' (${numberOf(repo, id) ? `v${numberOf(repo, id)}` : id.slice(0, 12)}) is not reached by ` +
            `HEAD or any other ref; deleting it leaves its versions to gc`,
          {
            name,
            id,
            hint: `mvm branch -D ${name} deletes it anyway`,
          },
        );
      }
    }
    repo.refs.delete(ref);
    return { name, id, number: numberOf(repo, id), current: false };
  });
}
