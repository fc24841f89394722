import type { Repository } from '../repository/index.js';

/**
 * Makes local numbers follow the remote's registry, the authority: the
 * registry's versions keep its numbers here, and versions only this clone has
 * (not pushed yet) are numbered after them. When the local log is a prefix of
 * the registry (a clone, or a team that pulls before committing) that only
 * appends, in one write; otherwise the unpushed versions get new numbers and
 * the index forgets its old ones (see docs/FORMAT.md: unpushed numbers are
 * provisional).
 *
 * The registry is untrusted: only ids of versions held here are adopted
 * (`verified`: those this fetch just checked; any other is decoded from the
 * store), each once. A number whose id is missing here, is not a version (a
 * file object), or repeats an earlier one is kept burned, so vN still means
 * the registry's vN, and a version that arrives later gets its number then.
 */
export async function followRegistry(
  repo: Repository,
  reg: (string | null)[],
  verified: ReadonlySet<string> = new Set(),
): Promise<void> {
  const local = repo.numbers.readAll();
  const seen = new Set<string>();
  const adopt = reg.map((id) => {
    if (!id || seen.has(id)) return null;
    seen.add(id);
    return verified.has(id) || isStoredVersion(repo, id) ? id : null;
  });
  if (local.length <= adopt.length && local.every((id, i) => id === adopt[i])) {
    if (adopt.length > local.length) repo.numbers.appendAll(adopt.slice(local.length));
    return;
  }
  const inReg = new Set(adopt.filter((x): x is string => !!x));
  // what only this clone numbers must be a version too: a line an older mvm adopted unchecked is dropped here
  const next = [
    ...adopt,
    ...local.filter((id): id is string => !!id && !inReg.has(id) && (verified.has(id) || isStoredVersion(repo, id))),
  ];
  if (next.length === local.length && next.every((id, i) => id === local[i])) return;
  // the summary file sees the rewritten log and renumbers its summaries at the next read
  repo.numbers.replace(next, repo.tmpDir);
}

/** Whether the store holds `id` as a version manifest that decodes (not missing, not a file object). */
function isStoredVersion(repo: Repository, id: string): boolean {
  if (!repo.objects.has(id)) return false;
  try {
    repo.version(id);
    return true;
  } catch {
    return false;
  }
}
