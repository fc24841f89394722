import { closeSync, openSync } from 'node:fs';
import { MvmError } from '../../errors.js';
import { MAX_DELTA_DEPTH } from '../../storage/delta.js';
import type { DeferredDelta } from '../../storage/chunkTasks.js';
import { blake3Hex } from '../../storage/hash.js';
import { readFully } from '../../storage/readFully.js';
import type { Repository } from '../repository/index.js';
import { visibleFiles } from '../workspace/index.js';

/**
 * Deltas fetched from a remote whose base was not stored here when they
 * arrived: nothing of them is stored until their base is (it arrives in the
 * same fetch, or is fetched for them) and they are checked through it. Their
 * bytes are kept in memory up to PENDING_BYTES; past that, only what they
 * need is kept and they are downloaded again once their base is here.
 */
export class PendingDeltas {
  private readonly byId = new Map<string, PendingDelta>();
  private kept = 0;

  constructor(private readonly maxBytes = PENDING_BYTES) {}

  /** True while a new delta's bytes may still be kept in memory (what a put task is told). */
  get keepBytes(): boolean {
    return this.kept < this.maxBytes;
  }

  /** Adds a deferred delta and where its content goes besides the store (staged files' places). */
  add(d: DeferredDelta, places?: number[]): void {
    const bytes = d.bytes && this.kept + d.bytes.length <= this.maxBytes ? d.bytes : null;
    if (bytes) this.kept += bytes.length;
    this.byId.set(d.id, { ...d, bytes, places });
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): PendingDelta | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  values(): IterableIterator<PendingDelta> {
    return this.byId.values();
  }

  /**
   * The bases no pending delta can be checked through yet: neither `held`
   * here nor pending themselves, each with the size it must decode to (its
   * delta's). These are fetched for them.
   */
  basesToFetch(held: (id: string) => boolean): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.byId.values()) if (!held(p.base) && !this.byId.has(p.base)) out.set(p.base, p.size);
    return out;
  }
}

/** A deferred delta waiting for its base, with the places its content is written to. */
export interface PendingDelta extends DeferredDelta {
  places?: number[];
}

/** Bytes of pending deltas kept in memory while a fetch waits for their bases. */
export const PENDING_BYTES = 64 << 20;

/**
 * The order to check pending deltas in: level 1 are those whose base is
 * `held` here, level k + 1 those whose base is at level k. A chain of pending
 * deltas deeper than MAX_DELTA_DEPTH (the bound the local writer keeps), a
 * cycle, a base neither held nor pending, or a base of another size than its
 * delta is REMOTE_CORRUPT (naming the delta), before anything of it is stored.
 */
export function deltaLevels(pending: PendingDeltas, held: (id: string) => boolean, url: string): PendingDelta[][] {
  const level = new Map<string, number>();
  const refuse = (p: PendingDelta, why: string) =>
    new MvmError('REMOTE_CORRUPT', `object ${p.id} on ${url} is corrupt (${why})`, {
      url,
      id: p.id,
      base: p.base,
      hint: "nothing of it was stored; the remote copy is damaged: 'mvm push --repair' from a good repository mends it",
    });
  const levelOf = (start: PendingDelta): number => {
    // the chain from `start` down to a base that is held or already placed, followed at most MAX_DELTA_DEPTH deep
    const chain: PendingDelta[] = [];
    let at: PendingDelta | undefined = start;
    let below = 0;
    while (at) {
      const known = level.get(at.id);
      if (known !== undefined) {
        below = known;
        break;
      }
      if (chain.includes(at)) throw refuse(start, `a cycle of deltas through ${at.id}`);
      if (chain.length >= MAX_DELTA_DEPTH)
        throw refuse(start, `a chain of deltas deeper than ${MAX_DELTA_DEPTH}, through ${at.id}`);
      chain.push(at);
      if (held(at.base)) break;
      const next: PendingDelta | undefined = pending.get(at.base);
      if (!next) throw refuse(at, `a delta whose base ${at.base} is neither here nor on the remote`);
      if (next.size !== at.size) throw refuse(at, `a delta whose base ${at.base} is of another size`);
      at = next;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      below++;
      if (below > MAX_DELTA_DEPTH)
        throw refuse(start, `a chain of deltas deeper than ${MAX_DELTA_DEPTH}, through ${chain[i]!.id}`);
      level.set(chain[i]!.id, below);
    }
    return level.get(start.id)!;
  };
  const out: PendingDelta[][] = [];
  for (const p of pending.values()) {
    const l = levelOf(p);
    while (out.length < l) out.push([]);
    out[l - 1]!.push(p);
  }
  return out;
}

/**
 * Bases a store lacks that the workspace holds: the files of HEAD's version
 * hold its chunks at known offsets (a partial store keeps the version it
 * checked out only there). Each is read, hashed and, when its bytes still
 * hash to its id, stored; returns how many were. Saves fetching a whole
 * chunk for each delta a pull into a partial store brings.
 */
export function basesFromWorkspace(repo: Repository, need: ReadonlyMap<string, number>): number {
  const head = repo.headId();
  if (!head || !need.size || !repo.objects.has(head)) return 0;
  const where = new Map<string, { path: string; offset: number }>();
  for (const [path, e] of Object.entries(visibleFiles(repo.version(head).files, repo.sparse()))) {
    if (!repo.objects.has(e.file)) continue;
    let offset = 0;
    for (const c of repo.file(e.file).chunks) {
      if (need.get(c.id) === c.size && !where.has(c.id)) where.set(c.id, { path, offset });
      offset += c.size;
    }
  }
  let stored = 0;
  for (const [id, { path, offset }] of where) {
    const size = need.get(id)!;
    let fd = -1;
    try {
      fd = openSync(repo.abs(path), 'r');
      const buf = Buffer.allocUnsafe(size);
      if (readFully(fd, buf, offset, size) === size && blake3Hex(buf) === id) {
        repo.objects.put(buf);
        stored++;
      }
    } catch {
      // gone or unreadable: the remote's copy is fetched instead
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  return stored;
}
