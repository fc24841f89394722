import type { Repository } from '../repository/index.js';

/**
 * Makes local numbers follow a remote's registry, the authority, without
 * ever changing what a number shown here names (docs/FORMAT.md, "Version
 * numbers"):
 *
 * - the first `confirmed` lines are final (registry numbers, or the numbers
 *   of a repository that was its own registry): each keeps its version; a
 *   burned one takes the registry's version for it. Where the registry names
 *   another version for a final number (this repository numbered versions
 *   before it shared the registry), the local one stays and the number is
 *   reported as diverged;
 * - after them the registry's lines are adopted as they are;
 * - versions made here that the registry has not numbered follow, in the
 *   order they were made: they are provisional and show no number.
 *
 * The registry is untrusted: only ids of versions held here are adopted
 * (`verified`: those this fetch just checked; any other is decoded from the
 * store), each once. A number whose id is missing here, is not a version (a
 * file object), or repeats an earlier one is kept burned, so vN still means
 * the registry's vN, and a version that arrives later gets its number then.
 * Returns the diverged numbers.
 */
export async function followRegistry(
  repo: Repository,
  reg: (string | null)[],
  remote: string,
  verified: ReadonlySet<string> = new Set(),
): Promise<number[]> {
  const local = repo.numbers.readAll();
  const before = repo.numbers.confirmed();
  const final = Math.min(before ?? local.length, local.length);
  const held = (id: string) => verified.has(id) || isStoredVersion(repo, id);
  const seen = new Set<string>(local.slice(0, final).filter((id): id is string => !!id));
  const next: (string | null)[] = [];
  const diverged: number[] = [];
  for (let i = 0; i < Math.max(final, reg.length); i++) {
    const mine = i < final ? local[i]! : null;
    const theirs = reg[i] ?? null;
    if (mine) {
      if (i < reg.length && theirs !== mine) diverged.push(i + 1);
      next.push(mine);
    } else if (theirs && !seen.has(theirs) && held(theirs)) {
      seen.add(theirs);
      next.push(theirs);
    } else next.push(null);
  }
  const confirmed = next.length;
  const replaced = replacedProvisional(repo, local.slice(final));
  // what only this clone numbers must be a version too: a line an older mvm adopted unchecked is dropped here;
  // so is an unpushed version a replay took the place of (it never showed a number)
  for (const id of local.slice(final))
    if (id && !seen.has(id) && !replaced.has(id) && held(id)) {
      seen.add(id);
      next.push(id);
    }
  const same = next.length === local.length && next.every((id, i) => id === local[i]);
  if (!same) {
    if (next.length >= local.length && local.every((id, i) => id === next[i]))
      repo.numbers.appendAll(next.slice(local.length));
    // the summary file sees the rewritten log and renumbers its summaries at the next read
    else repo.numbers.replace(next, repo.tmpDir);
  }
  // after the lines: a crash between the two leaves registry numbers shown as provisional until the next fetch
  if (before !== confirmed) repo.numbers.setConfirmed(confirmed, remote, repo.tmpDir);
  return diverged;
}

/**
 * The versions among `provisional` that a later one among them replays (`deps.replayOf`, made by `mvm pull` when
 * the histories diverged) and that no ref names: their replays stand for them.
 */
function replacedProvisional(repo: Repository, provisional: (string | null)[]): Set<string> {
  const out = new Set<string>();
  for (const id of provisional) {
    if (!id || !isStoredVersion(repo, id)) continue;
    const of = repo.version(id).deps.replayOf?.id;
    if (of) out.add(of);
  }
  if (!out.size) return out;
  const named = new Set<string>([repo.headId() ?? '']);
  for (const prefix of ['refs/heads/', 'refs/tags/', 'refs/remotes/', 'refs/envs/'])
    for (const r of repo.refs.list(prefix)) named.add(r.value);
  for (const id of named) out.delete(id);
  return out;
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
