import type { Repository } from './repository.js';
import { withIndex } from './session.js';

/**
 * Makes local numbers follow the remote's registry, the authority: the
 * registry's versions keep its numbers here, and versions only this clone has
 * (not pushed yet) are numbered after them. When the local log is a prefix of
 * the registry (a clone, or a team that pulls before committing) that only
 * appends; otherwise the unpushed versions get new numbers and the index
 * forgets its old ones (see docs/FORMAT.md: unpushed numbers are provisional).
 */
export async function followRegistry(repo: Repository, reg: (string | null)[]): Promise<void> {
  const local = repo.numbers.readAll();
  if (local.length <= reg.length && local.every((id, i) => id === reg[i])) {
    for (const id of reg.slice(local.length)) {
      if (id) repo.numbers.append(id);
      else repo.numbers.burn();
    }
    return;
  }
  const inReg = new Set(reg.filter((x): x is string => !!x));
  const next = [...reg, ...local.filter((id): id is string => !!id && !inReg.has(id))];
  if (next.length === local.length && next.every((id, i) => id === local[i])) return;
  repo.numbers.replace(next, repo.tmpDir);
  await withIndex(repo, (index) => index.renumber());
}
