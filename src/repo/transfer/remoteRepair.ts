import { MvmError, isMvmError } from '../../errors.js';
import { decodeVerified } from '../../storage/objectFile.js';
import { deltaOf } from '../../storage/codec.js';
import { indexKey, packKey, packLayout, packParts, type PackIndex } from '../../storage/remote/packs.js';
import { type Repository, withPool, type Progress } from '../repository/index.js';
import { inspectRemote, type FoundRef } from './remoteCheck.js';
import { checkPacks, type RemoteProblem } from './packCheck.js';
import type { RemoteSession } from './remoteSession.js';
import { packSize } from './push.js';
import { PACK_PART_SIZE } from '../../core/limits.js';

/** What `mvm push --repair` did to a remote before pushing. */
export interface RemoteRepair {
  /** Problems the check found. */
  found: number;
  /** Objects re-sent (and bytes, packs) from this repository or from good copies on the remote. */
  objects: number;
  bytes: number;
  packs: number;
  /** Pack indexes removed because they named damaged or missing bytes (their objects now live in new packs). */
  retired: string[];
  /** Damaged packs written again whole under the same id (the same objects in the same order). */
  rewritten: string[];
  /** Damaged packs deleted after their index was retired. */
  removedPacks: string[];
  /** Garbled remote refs rewritten, and the version each now names. */
  refs: { ref: string; to: string }[];
  /** What could not be mended from this repository (it lacks a good copy too, say). */
  unrepaired: RemoteProblem[];
}

/**
 * Mends a remote from this repository: checks it (inspectRemote), re-sends
 * in new packs with their indexes every object the remote needs that it
 * lacks or holds damaged, and every good object that lives only in a damaged
 * pack; reads the new packs back and checks them; only then retires the
 * indexes of damaged packs (and deletes those packs), then rewrites garbled
 * refs. A crash at any point leaves the remote no worse: until an index is
 * retired, the old copies stay named; after, good copies are.
 */
export async function repairRemote(
  repo: Repository,
  s: RemoteSession,
  opts: { jobs: number; progress?: Progress },
): Promise<RemoteRepair> {
  const url = s.remote.url;
  // a garbled ref goes back to what this repository last saw there, or its own ref of that name
  const restore = (r: FoundRef): string | null => {
    const m = /^refs\/heads\/(.+)$/.exec(r.ref);
    const candidates = [m ? repo.refs.read(`refs/remotes/${s.remote.name}/${m[1]}`) : null, repo.refs.read(r.ref)];
    return candidates.find((id): id is string => !!id && repo.objects.has(id)) ?? null;
  };
  const { report, detail } = await inspectRemote(repo, s, { ...opts, restore });
  const result: RemoteRepair = {
    found: report.problems.length,
    objects: 0,
    bytes: 0,
    packs: 0,
    retired: [],
    rewritten: [],
    removedPacks: [],
    refs: [],
    unrepaired: [],
  };
  if (report.ok) return result;
  // 1. what to send: needed objects without a good copy, and good copies held only by a damaged pack
  const send = new Set<string>([...detail.needed].filter((id) => !detail.good.has(id)));
  for (const [id, at] of detail.good) if (detail.badPacks.has(at.pack)) send.add(id);
  // damaged copies no ref needs are re-sent too when this store has them, so their pack can be retired
  for (const pack of detail.badPacks)
    for (const [id] of detail.indexes.get(pack)?.objects ?? [])
      if (!detail.good.has(id) && repo.objects.has(id)) send.add(id);
  // 2. a source for each: this store (verified), or the remote's good copy (copied here first, verified)
  const sizeOf = new Map<string, number>();
  const lacking = new Set<string>();
  const aside = new Map<string, Buffer>();
  const read = (id: string) => aside.get(id) ?? repo.objects.portableStored(id);
  for (const id of send) {
    let stored: Buffer | null = null;
    try {
      stored = repo.objects.portableStored(id);
      decodeVerified(stored, id);
    } catch (e) {
      if (!isMvmError(e)) throw e;
      stored = null;
    }
    if (!stored) {
      const at = detail.good.get(id);
      if (at) {
        const bytes = await s.backend.readRange(packKey(at.pack), at.offset, at.length);
        // stored here when absent (checked first: a delta through its base here); a damaged copy here is left to
        // fsck --repair, and the good bytes kept aside
        if (!repo.objects.has(id)) {
          repo.objects.putStored(id, bytes);
          // sent as `read` gives it: whole, when the remote's copy was a delta
          stored = repo.objects.portableStored(id);
        } else {
          if (deltaOf(bytes)) repo.objects.receiveDelta(id, bytes);
          else decodeVerified(bytes, id);
          aside.set(id, bytes);
          stored = bytes;
        }
      }
    }
    if (stored) sizeOf.set(id, stored.length);
    else lacking.add(id);
  }
  // 3. new packs, data first and manifests last (as push sends them), each pack whole before its index
  const ids = [...sizeOf.keys()];
  const order = [...ids.filter((id) => !detail.versions.has(id)), ...ids.filter((id) => detail.versions.has(id))];
  const max = packSize();
  const written: PackIndex[] = [];
  opts.progress?.start?.(
    `repair ${s.remote.name}`,
    [...sizeOf.values()].reduce((n, x) => n + x, 0),
  );
  for (let at = 0; at < order.length; ) {
    const group: string[] = [];
    let size = 0;
    // versions never share a pack with data: a crash between the two leaves no manifest without its data
    const versionsPart = detail.versions.has(order[at]!);
    while (
      at < order.length &&
      (group.length === 0 || size + sizeOf.get(order[at]!)! <= max) &&
      detail.versions.has(order[at]!) === versionsPart
    ) {
      size += sizeOf.get(order[at]!)!;
      group.push(order[at++]!);
    }
    const pack = packLayout(group.map((id) => ({ id, length: sizeOf.get(id)! })));
    const parts = function* () {
      for (const part of packParts(pack, read, PACK_PART_SIZE)) {
        yield part;
        opts.progress?.advance?.(part.length);
      }
    };
    await s.backend.writeParts(packKey(pack.id), pack.size, parts());
    await s.backend.write(indexKey(pack.id), Buffer.from(JSON.stringify(pack.index)));
    written.push(pack.index);
    result.bytes += pack.size;
    result.packs++;
    result.objects += group.length;
  }
  opts.progress?.done?.();
  // 4. the new packs, read back and hashed: nothing old is retired on the strength of a bad write
  if (written.length) {
    const back = await withPool((pool) => checkPacks(s, written, opts.jobs, pool, undefined, repo.objects));
    if (back.bad.size || back.packProblems.length) {
      throw new MvmError('REMOTE_CORRUPT', `a pack just written to ${url} reads back damaged; nothing was retired`, {
        url,
        hint: 'check the remote storage, then run mvm push --repair again',
      });
    }
  }
  const lackingNeeded = [...lacking].some((id) => detail.needed.has(id));
  // 5. retire the indexes of damaged packs whose every object now has a good copy elsewhere
  const sent = new Set(sizeOf.keys());
  const rewritten = new Set(written.map((w) => w.pack));
  const retired = new Set<string>();
  for (const pack of [...detail.badPacks, ...detail.garbledIndexes]) {
    if (rewritten.has(pack)) {
      retired.add(pack); // the same objects in the same order: rewritten in place, whole
      result.rewritten.push(pack);
      continue;
    }
    const idx = detail.indexes.get(pack);
    // what a garbled index named is unknown: it goes only once everything the refs need is held
    const safe = idx
      ? idx.objects.every(
          ([id]) => sent.has(id) || (detail.good.has(id) && !detail.badPacks.has(detail.good.get(id)!.pack)),
        )
      : !lackingNeeded;
    if (!safe) continue;
    await s.backend.remove(indexKey(pack));
    retired.add(pack);
    result.retired.push(pack);
  }
  // damaged bytes nothing names any more; packs behind a garbled index may be sound and are left
  for (const pack of result.retired) {
    if (!detail.badPacks.has(pack)) continue;
    await s.backend.remove(packKey(pack));
    result.removedPacks.push(pack);
  }
  // 6. garbled refs, once the version they go back to is held with all it needs
  const holds = (id: string) => sent.has(id) || (detail.good.has(id) && !retired.has(detail.good.get(id)!.pack));
  const fixedRefs = new Set<string>();
  for (const r of detail.refs) {
    if (r.id || !r.validName) continue;
    const to = restore(r);
    // (strictly: while anything the refs need is lacking, no garbled ref is rewritten)
    if (!to || !detail.versions.has(to) || !holds(to) || lackingNeeded) continue;
    if (await s.backend.swap(r.ref, Buffer.from(`${to}\n`), r.tag)) {
      result.refs.push({ ref: r.ref, to });
      fixedRefs.add(r.ref);
    }
  }
  // 7. what is left
  result.unrepaired = report.problems.filter((p) => {
    switch (p.kind) {
      case 'missing':
        return !sent.has(p.id!);
      case 'corrupt':
      case 'bad-index':
      case 'missing-pack':
      case 'bad-pack':
        return !retired.has(p.pack!);
      case 'bad-ref':
        return !fixedRefs.has(p.ref!);
      default:
        return true; // 'bad-registry': a push registers versions, it does not rewrite the registry
    }
  });
  return result;
}
