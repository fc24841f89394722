import type { ChunkRef } from '../../core/objects.js';
import type { Progress } from './progress.js';

/** What making chunks available moved: chunks fetched, their bytes, and the remote requests it took. */
export interface Fetched {
  objects: number;
  bytes: number;
  requests: number;
}

/** Nothing fetched. */
export const NOTHING_FETCHED: Readonly<Fetched> = Object.freeze({ objects: 0, bytes: 0, requests: 0 });

/** Adds `b` to `a` in place. */
export function addFetched(a: Fetched, b: Fetched): Fetched {
  a.objects += b.objects;
  a.bytes += b.bytes;
  a.requests += b.requests;
  return a;
}

/**
 * ChunkAvailability is how a command makes sure the chunks it is about to
 * read are in the store. A full store holds them all, so `ensure` does
 * nothing (a reader meets a missing chunk as damage). A partial store (what
 * `mvm clone` makes unless `--full`) holds chunks only once a command needed
 * them: its implementation, installed by the transfer wing when such a
 * repository is opened, fetches the missing ones from `remote` in one batch.
 * A chunk given with its size (as its file object declares it) is decoded
 * within that size; one given by id alone within the object limit.
 */
export interface ChunkAvailability {
  /** The remote that holds the chunks this store lacks (a partial store), or null (a full store). */
  readonly remote: string | null;
  /** Makes `chunks` readable from the store; says what that fetched. */
  ensure(chunks: Iterable<string | ChunkRef>, progress?: Progress): Promise<Fetched>;
  /**
   * Makes file objects readable from the store: a partial store holds those
   * of the versions it checked out or read, and fetches the others (each
   * version's are packed together on the remote, so a few ranged reads).
   */
  ensureFiles(files: Iterable<string>, progress?: Progress): Promise<Fetched>;
  /** Runs `fn` and says what every `ensure` fetched while it ran, so results can carry it. */
  tally<T>(fn: () => Promise<T>): Promise<{ value: T; fetched: Fetched }>;
}

/** The chunks of a full store: all here, nothing to fetch. */
export class StoredChunks implements ChunkAvailability {
  readonly remote = null;

  async ensure(): Promise<Fetched> {
    return { ...NOTHING_FETCHED };
  }

  async ensureFiles(): Promise<Fetched> {
    return { ...NOTHING_FETCHED };
  }

  async tally<T>(fn: () => Promise<T>): Promise<{ value: T; fetched: Fetched }> {
    return { value: await fn(), fetched: { ...NOTHING_FETCHED } };
  }
}

/** The remote a partial store's missing chunks are on (`config.partial`), or null in a full store. */
export function partialRemote(repo: { readonly config: { partial?: string } }): string | null {
  const { partial } = repo.config;
  return typeof partial === 'string' && partial ? partial : null;
}

/** The part of a repository `ensureVersionFiles` reads (a structural type: this module imports no repository). */
interface VersionFilesSource {
  chunks: ChunkAvailability;
  objects: { has(id: string): boolean };
  version(id: string): { files: Record<string, { file: string }> };
}

/**
 * Makes the file objects of `versions` readable before a command reads them
 * (checkout, diff, show --tensors, get, export, push to another remote): in a
 * full store they are all here; a partial store fetches those it lacks.
 */
export async function ensureVersionFiles(
  repo: VersionFilesSource,
  versions: Iterable<string>,
  progress?: Progress,
): Promise<Fetched> {
  const missing = new Set<string>();
  for (const v of versions)
    for (const e of Object.values(repo.version(v).files)) if (!repo.objects.has(e.file)) missing.add(e.file);
  return missing.size ? repo.chunks.ensureFiles(missing, progress) : { ...NOTHING_FETCHED };
}

/** True when the store lacks a file object the remote of a partial store holds for it (never damage there). */
export function leftOnRemote(
  repo: VersionFilesSource & { readonly config: { partial?: string } },
  id: string,
): boolean {
  return partialRemote(repo) !== null && !repo.objects.has(id);
}
