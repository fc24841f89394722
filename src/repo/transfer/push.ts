import type { ChunkRef } from '../../core/objects.js';
import { MvmError, isMvmError } from '../../errors.js';
import { isAncestor } from '../../core/dag.js';
import { packLayout, writePack } from '../../storage/remote/packs.js';
import { formatNumberLog, parseRegistry } from '../../storage/numbers.js';
import { type Repository, type Progress, bounded, ensureVersionFiles } from '../repository/index.js';
import { syncRemoteIndex, type RemoteIndex } from './remoteIndex.js';
import { initRemote, readRemoteRef, type RemoteRef, type RemoteSession } from './remoteSession.js';
import { ANNOTATIONS, pushSidecars, SIGNATURES } from './sidecarTransfer.js';
import { PACK_PART_SIZE, PACK_SIZE, REMOTE_LIMITS } from '../../core/limits.js';
import { envPackSize } from '../../settings.js';
import { faultPoint } from '../../storage/faults.js';

/** Bytes of stored objects per pack unless MVM_PACK_SIZE says otherwise (as Xet groups chunks in 64 MiB xorbs). */
export function packSize(): number {
  return envPackSize() ?? PACK_SIZE;
}

/** One ref a push moves on the remote. */
export interface RefUpdate {
  ref: string;
  from: string | null;
  to: string;
  /** True when it was not a fast-forward and --force made it move. */
  forced: boolean;
}

/** What a push sent. */
export interface PushTransfer {
  updates: RefUpdate[];
  /** Objects and bytes (as stored, compressed) sent, and packs written. */
  objects: number;
  bytes: number;
  packs: number;
  /** Versions added to the remote's number registry. */
  numbered: number;
  /** The registry as this push left it, for local numbers to follow. */
  registry: (string | null)[];
  /** Signatures sent (of versions the remote holds, made or fetched here). */
  signatures: number;
  /** Annotations sent (metrics checked later, eval results), likewise. */
  annotations: number;
}

/** The versions `tips` reach that the remote lacks, newest first (a version there arrived with all it needs). */
function missingVersions(repo: Repository, tips: string[], remote: RemoteIndex): string[] {
  const versions: string[] = [];
  const seen = new Set<string>();
  const stack = [...tips];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || remote.has(id)) continue;
    seen.add(id);
    versions.push(id);
    const v = repo.version(id);
    stack.push(...v.parents, ...(v.deps.base ? [v.deps.base] : []));
  }
  return versions;
}

/**
 * Ids of the objects a set of versions needs that the remote lacks: chunks,
 * file objects (oldest version first, each version's together, so a partial
 * clone fetches one version's in a ranged read or two) and manifests (oldest
 * first), sent in that order.
 */
function missingObjects(
  repo: Repository,
  missing: string[],
  remote: RemoteIndex,
): { data: string[]; files: string[]; versions: string[]; chunks: ChunkRef[] } {
  const versions = [...missing].reverse();
  const data: string[] = [];
  const files: string[] = [];
  // the chunks among data, with the sizes their file objects declare
  const chunks: ChunkRef[] = [];
  const seen = new Set<string>();
  for (const id of versions) {
    for (const f of Object.values(repo.version(id).files)) {
      if (seen.has(f.file)) continue;
      seen.add(f.file);
      if (remote.has(f.file)) continue;
      for (const c of repo.file(f.file).chunks) {
        if (seen.has(c.id) || remote.has(c.id)) continue;
        seen.add(c.id);
        data.push(c.id);
        chunks.push(c);
      }
      files.push(f.file);
    }
  }
  return { data, files, versions, chunks };
}

/**
 * The chunks among `data` to send as the deltas they are stored as, with
 * their depth: those whose base the remote holds or that goes in the same
 * push. Any other delta is sent whole, so the remote never holds a delta
 * without its base.
 */
function deltasToSend(repo: Repository, data: string[], remote: RemoteIndex): Map<string, number> {
  const sending = new Set(data);
  const out = new Map<string, number>();
  for (const id of data) {
    const d = repo.objects.deltaOf(id);
    if (d && (remote.has(d.base) || sending.has(d.base))) out.set(id, d.depth);
  }
  return out;
}

/**
 * The packs that hold a file object's chunks, and the delta bases they are
 * stored against (and theirs): in this push (`packOf`) or already on the
 * remote. A partial store reads those packs' indexes only.
 */
function chunkPacksOf(repo: Repository, file: string, packOf: Map<string, string>, remote: RemoteIndex): string[] {
  const out = new Set<string>();
  const add = (id: string) => {
    const p = packOf.get(id) ?? remote.get(id)?.pack;
    if (p) out.add(p);
  };
  for (const c of repo.file(file).chunks) {
    add(c.id);
    for (let b = repo.objects.deltaBase(c.id), n = 0; b && n < 16; b = repo.objects.deltaBase(b), n++) add(b);
  }
  return [...out].sort();
}

/** Cuts ids into groups of at most `max` stored bytes (an object larger than that gets a pack of its own). */
function groups(ids: string[], sizeOf: Map<string, number>, max: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const id of ids) {
    const n = sizeOf.get(id)!;
    if (cur.length && size + n > max) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(id);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Pushes refs to a remote: checks each is a fast-forward (or `force`), sends
 * in packs the objects the remote's indexes do not list (each pack whole
 * before its index, manifests last), moves each ref by compare-and-swap, and
 * adds the pushed versions to the remote's number registry.
 */
export async function pushToRemote(
  repo: Repository,
  s: RemoteSession,
  refs: { ref: string; id: string }[],
  opts: { force?: boolean; jobs: number; progress?: Progress },
): Promise<PushTransfer> {
  const url = s.remote.url;
  const index = await syncRemoteIndex(repo, s.remote.name, s.backend, opts.jobs);
  const load = (id: string) => repo.version(id);
  const plans: (RefUpdate & { tag: string | null })[] = [];
  for (const { ref, id } of refs) {
    const cur = await readRemoteRef(s, ref).catch((e: unknown) => garbledRef(s, ref, e, !!opts.force));
    let forced = false;
    if (cur && cur.id !== id) {
      const ff = ref.startsWith('refs/heads/') && !!cur.id && repo.objects.has(cur.id) && isAncestor(cur.id, id, load);
      if (!ff && !opts.force) {
        const known = repo.objects.has(cur.id);
        throw new MvmError(
          'NON_FAST_FORWARD',
          `${ref} on ${url} is at ${cur.id.slice(0, 12)}, which ` +
            (ref.startsWith('refs/tags/')
              ? 'is another version'
              : known
                ? 'is not an ancestor of what you push'
                : 'you do not have'),
          {
            url,
            ref,
            remote: cur.id,
            local: id,
            hint: ref.startsWith('refs/tags/')
              ? 'tags do not move; use --force to replace it'
              : `pull first: mvm pull --rebase && mvm push (your versions replayed on top of theirs; --force ` +
                `would overwrite ${cur.id.slice(0, 12)} on the remote instead)`,
          },
        );
      }
      forced = !ff;
    }
    plans.push({ ref, from: cur?.id || null, to: id, forced, tag: cur?.tag ?? null });
  }
  const pushed = missingVersions(
    repo,
    plans.filter((p) => p.from !== p.to).map((p) => p.to),
    index,
  );
  // a partial store fetches the file objects it lacks from its own remote first (none, when pushing there)
  await ensureVersionFiles(repo, pushed, opts.progress);
  const { data, files, versions, chunks } = missingObjects(repo, pushed, index);
  const max = packSize();
  let bytes = 0;
  let packs = 0;
  // every object's stored size, once: it plans the packs, the progress total and each pack's layout
  const sizeOf = new Map<string, number>();
  // a partial store fetches the chunks it lacks from its own remote first (none, when pushing there)
  await repo.chunks.ensure(chunks, opts.progress);
  const asDelta = deltasToSend(repo, data, index);
  for (const id of [...data, ...files, ...versions]) {
    // a chunk stored as a delta travels as one when its base is on the remote or goes with it, else whole
    const length = asDelta.has(id) ? repo.objects.storedSize(id) : repo.objects.portableSize(id);
    if (length < 0)
      throw new MvmError('OBJECT_MISSING', `object ${id} is missing, so it cannot be pushed`, {
        id,
        hint: "run 'mvm fsck'",
      });
    sizeOf.set(id, length);
  }
  // every refusal is behind us: only now is an empty remote made one
  await initRemote(s);
  opts.progress?.start?.(
    `push ${s.remote.name}`,
    [...sizeOf.values()].reduce((n, x) => n + x, 0),
  );
  const send = async (ids: string[], kind?: Parameters<typeof writePack>[5]) => {
    const read = (id: string) => (asDelta.has(id) ? repo.objects.readStored(id) : repo.objects.portableStored(id));
    const pack = await writePack(
      s.backend,
      ids.map((id) => ({ id, length: sizeOf.get(id)! })),
      read,
      PACK_PART_SIZE,
      (n) => opts.progress?.advance?.(n),
      kind,
    );
    index.add(pack.index);
    bytes += pack.size;
    packs++;
  };
  // deltas after the rest, shallowest first: a fetcher reading the packs in order meets most bases first
  const depthOf = (id: string) => asDelta.get(id) ?? 0;
  const ordered = data
    .map((id, i) => ({ id, i, depth: depthOf(id) }))
    .sort((a, b) => a.depth - b.depth || a.i - b.i)
    .map((x) => x.id);
  // chunks in packs marked as chunks only; file objects in packs of their own, each with the packs its chunks are
  // in: a partial clone reads file objects a version at a time, and only the chunk indexes it needs
  const chunkGroups = groups(ordered, sizeOf, max);
  const packOf = new Map<string, string>();
  for (const g of chunkGroups) {
    const layout = packLayout(g.map((id) => ({ id, length: sizeOf.get(id)! })));
    for (const [id] of layout.index.objects) packOf.set(id, layout.id);
  }
  const fileGroups = groups(files, sizeOf, max).map((g) => ({
    g,
    kind: { chunkPacks: Object.fromEntries(g.map((f) => [f, chunkPacksOf(repo, f, packOf, index)])) },
  }));
  const sends = [
    ...chunkGroups.map((g) => () => send(g, { chunksOnly: true })),
    ...fileGroups.map(
      ({ g, kind }) =>
        () =>
          send(g, kind),
    ),
  ];
  await bounded(sends.length, opts.jobs, (i) => sends[i]!());
  // manifests go last: a version listed on the remote means all it needs is there
  for (const g of groups(versions, sizeOf, max)) await send(g);
  opts.progress?.done?.();
  // signatures of versions the remote now holds (content-addressed files: order does not matter to readers)
  const signatures = await pushSidecars(repo, s, SIGNATURES, (id) => index.has(id), opts.jobs);
  const annotations = await pushSidecars(repo, s, ANNOTATIONS, (id) => index.has(id), opts.jobs);
  for (const p of plans) {
    if (p.from === p.to) continue;
    // a fault point here stands for a swap lost after the packs were sent (tests)
    faultPoint('write', `${url} ${p.ref}`);
    if (!(await s.backend.swap(p.ref, Buffer.from(`${p.to}\n`), p.tag))) {
      throw new MvmError('NON_FAST_FORWARD', `${p.ref} on ${url} moved while pushing`, {
        url,
        ref: p.ref,
        hint: 'someone else pushed; pull first: mvm pull --rebase && mvm push (the objects already sent are kept)',
      });
    }
  }
  // every ref planned now holds its `to` on the remote (moved, or already there): only what those reach is numbered
  const { added: numbered, registry } = await registerNumbers(
    repo,
    s,
    index,
    plans.map((p) => p.to),
  );
  return {
    updates: plans.map(({ tag: _tag, ...u }) => u),
    objects: data.length + files.length + versions.length,
    bytes,
    packs,
    numbered,
    registry,
    signatures,
    annotations,
  };
}

/**
 * A remote ref that does not hold a version id: with --force it is
 * overwritten (id '' with the file's tag, so the swap still compares), else
 * REMOTE_CORRUPT saying how to overwrite it.
 */
async function garbledRef(s: RemoteSession, ref: string, e: unknown, force: boolean): Promise<RemoteRef> {
  const file = isMvmError(e, 'REMOTE_CORRUPT') ? await s.backend.read(ref) : null;
  if (!file) throw e;
  if (!force)
    throw new MvmError('REMOTE_CORRUPT', `remote ref ${ref} on ${s.remote.url} does not hold a version id`, {
      url: s.remote.url,
      ref,
      hint: `overwrite it with 'mvm push --force', or mend the remote with 'mvm push --repair'`,
    });
  return { ref, id: '', tag: file.tag };
}

/**
 * Appends to the remote's number registry every locally numbered version the
 * remote now holds, that a ref this push left on the remote reaches, and the
 * registry lacks, in local number order, by compare-and-swap (retried when
 * another push appended first). A version whose push lost the ref swap sits
 * in the remote's packs but no ref reaches it: it is never numbered.
 */
async function registerNumbers(
  repo: Repository,
  s: RemoteSession,
  index: RemoteIndex,
  tips: string[],
): Promise<{ added: number; registry: (string | null)[] }> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const file = await s.backend.read('numbers', REMOTE_LIMITS.registry);
    const reg = file ? parseRegistry(file.data, s.remote.url) : [];
    const known = new Set(reg.filter((x): x is string => !!x));
    const reached = reachedUnknown(repo, tips, known);
    const add = repo.numbers
      .readAll()
      .filter((id): id is string => !!id && index.has(id) && !known.has(id) && reached.has(id));
    if (!add.length) return { added: 0, registry: reg };
    if (await s.backend.swap('numbers', formatNumberLog([...reg, ...add]), file?.tag ?? null))
      return { added: add.length, registry: [...reg, ...add] };
  }
  throw new MvmError('NON_FAST_FORWARD', `the number registry on ${s.remote.url} kept moving`, {
    url: s.remote.url,
    hint: 'run the push again',
  });
}

/** Versions reachable from `tips` (parents and delta bases), not walking past those the registry already numbers. */
function reachedUnknown(repo: Repository, tips: string[], known: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const stack = tips.filter((id) => !known.has(id));
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id) || known.has(id) || !repo.objects.has(id)) continue;
    out.add(id);
    const v = repo.version(id);
    stack.push(...v.parents, ...(v.deps.base ? [v.deps.base] : []));
  }
  return out;
}
