import type { Progress } from '../repository/session.js';
import type { ChunkRef } from '../../core/objects.js';
import type { Repository } from '../repository/repository.js';

/**
 * A partial store (what `mvm clone` makes unless `--full`) holds every
 * version manifest and file object, but chunks only once a command needed
 * them: the remote named in `config.partial` holds the rest. Commands that
 * read chunks call `ensureChunks` first, which fetches the missing ones.
 */
export function partialRemote(repo: Repository): string | null {
  return typeof repo.config.partial === 'string' && repo.config.partial ? repo.config.partial : null;
}

/**
 * Makes sure the chunks `ids` are in the store: in a partial store the
 * missing ones are fetched from its remote (and verified) in one batch. In a
 * full store this does nothing, and a reader meets a missing chunk as before.
 * A chunk given with its size (as its file object declares it) is decoded
 * within that size; one given by id alone within the object limit.
 */
export async function ensureChunks(
  repo: Repository,
  chunks: Iterable<string | ChunkRef>,
  progress?: Progress,
): Promise<number> {
  if (!partialRemote(repo)) return 0;
  const sizes = new Map<string, number>();
  const ids = new Set<string>();
  for (const c of chunks) {
    if (typeof c === 'string') ids.add(c);
    else {
      ids.add(c.id);
      sizes.set(c.id, c.size);
    }
  }
  const missing = [...ids].filter((id) => !repo.objects.has(id));
  if (!missing.length) return 0;
  // loaded only here: a full store, or a partial one that has what it needs, never opens a remote
  const { fetchChunks } = await import('./fetch.js');
  await fetchChunks(repo, missing, progress, sizes);
  return missing.length;
}
