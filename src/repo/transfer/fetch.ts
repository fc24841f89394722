import { MvmError, isMvmError } from '../../errors.js';
import { decodeFileObject, decodeVersion, type FileObject, type Version } from '../../core/objects.js';
import { isAncestor } from '../../core/dag.js';
import { assertSafeVersion } from '../../core/versionCheck.js';
import { decodeVerified } from '../../storage/objectFile.js';
import { maxStoredSize, MAX_METADATA_SIZE, MAX_OBJECT_SIZE } from '../../storage/codec.js';
import { packKey, type PackEntry } from '../../storage/remote/packs.js';
import { parseRegistry } from '../../storage/numbers.js';
import { type Repository, withPool, type Progress, bounded, partialRemote, type Fetched } from '../repository/index.js';
import type { ChunkPool } from '../../storage/chunkPool.js';
import { followRegistry } from '../history/index.js';
import { syncRemoteIndex, type RemoteIndex } from './remoteIndex.js';
import { defaultJobs, listRemoteRefs, withRemote, type RemoteRef, type RemoteSession } from './remoteSession.js';
import { findRemote } from './remotes.js';
import { visibleFiles, StagedFiles } from '../workspace/index.js';
import { RangeSlots } from './rangeSlots.js';
import { absentObjects, clearReplacedLost, hasLostObjects, type Absent } from './refetch.js';
import { readRemoteSignatures, storeSignatures } from './signatureTransfer.js';
import { REMOTE_LIMITS } from '../../storage/remote/limits.js';

/** Largest ranged read: neighbouring objects of one pack are fetched together up to this many bytes. */
const MAX_RANGE = 8 << 20;
/** A gap between wanted objects in a pack that is cheaper to download than to skip with another request. */
const MAX_GAP = 256 << 10;

/** What a fetch brought: refs seen on the remote, objects and bytes downloaded, and refs that moved oddly. */
export interface FetchTransfer {
  refs: RemoteRef[];
  objects: number;
  bytes: number;
  /** Remote branches whose new tip does not contain the old one (a forced push, or a lost update). */
  rewound: { ref: string; from: string; to: string }[];
  /** Remote tags that differ from a local tag of the same name (the local one is kept). */
  tagConflicts: string[];
}

/**
 * Downloads objects by id from the remote's packs with ranged reads, merging
 * neighbours in one pack into one request. Every object is hash-checked once:
 * here, for manifests and file objects handed to `sink` with their content,
 * or by the worker threads that store chunks; a bad one is REMOTE_CORRUPT.
 * Manifests and file objects decode to at most MAX_METADATA_SIZE, a chunk
 * to the size `sizes` has for it (its file object's word) and at most
 * MAX_OBJECT_SIZE, each checked before anything is allocated.
 */
async function download(
  s: RemoteSession,
  index: RemoteIndex,
  ids: string[],
  jobs: number,
  sink:
    | ((id: string, stored: Buffer, content: Buffer) => void)
    | { repo: Repository; pool: ChunkPool; staged: StagedFiles | null; storePlaced: boolean },
  progress?: Progress,
  sizes?: ReadonlyMap<string, number>,
): Promise<number> {
  const byPack = new Map<string, (PackEntry & { id: string })[]>();
  const bound = (id: string) =>
    typeof sink === 'function' ? { max: MAX_METADATA_SIZE } : { exact: sizes?.get(id), max: MAX_OBJECT_SIZE };
  for (const id of ids) {
    const e = index.get(id);
    if (!e)
      throw new MvmError('REMOTE_CORRUPT', `${s.remote.url} names object ${id} but no pack holds it`, {
        url: s.remote.url,
        id,
        hint: "the remote is incomplete: 'mvm fsck --remote' lists what it lacks, 'mvm push --repair' from a complete repository mends it",
      });
    const b = bound(id);
    if (e.length > maxStoredSize(b.exact ?? b.max))
      throw new MvmError(
        'REMOTE_CORRUPT',
        `object ${id} on ${s.remote.url} is corrupt (its pack entry holds ${e.length} bytes, more than it can take)`,
        {
          url: s.remote.url,
          id,
          pack: e.pack,
          hint: 'nothing was written; the remote copy is damaged: push it again from a good repository',
        },
      );
    byPack.set(e.pack, [...(byPack.get(e.pack) ?? []), { ...e, id }]);
  }
  const ranges: { pack: string; offset: number; length: number; items: (PackEntry & { id: string })[] }[] = [];
  for (const [pack, items] of byPack) {
    items.sort((a, b) => a.offset - b.offset);
    let cur: (typeof ranges)[number] | null = null;
    for (const it of items) {
      const end = it.offset + it.length;
      if (cur && it.offset - (cur.offset + cur.length) <= MAX_GAP && end - cur.offset <= MAX_RANGE) {
        cur.length = Math.max(cur.length, end - cur.offset);
        cur.items.push(it);
      } else {
        cur = { pack, offset: it.offset, length: it.length, items: [it] };
        ranges.push(cur);
      }
    }
  }
  const corrupt = (id: string, pack: string, e: unknown) => {
    if (!isMvmError(e, 'OBJECT_CORRUPT')) return e;
    return new MvmError('REMOTE_CORRUPT', `object ${id} on ${s.remote.url} is corrupt (${e.code})`, {
      url: s.remote.url,
      id,
      pack,
      hint: "nothing was written; the remote copy is damaged: 'mvm push --repair' from a good repository mends it",
    });
  };
  let bytes = 0;
  const slots = new RangeSlots(MAX_RANGE);
  await bounded(ranges.length, jobs, async (i) => {
    const r = ranges[i]!;
    const buf = await s.backend.readRange(packKey(r.pack), r.offset, r.length);
    const length = buf.length;
    bytes += length;
    if (typeof sink === 'function') {
      for (const it of r.items) {
        const stored = buf.subarray(it.offset - r.offset, it.offset - r.offset + it.length);
        try {
          sink(it.id, Buffer.from(stored), decodeVerified(stored, it.id, false, undefined, bound(it.id)));
        } catch (e) {
          throw corrupt(it.id, r.pack, e);
        }
      }
    } else {
      // chunks: verified and written by the worker threads, a range per task
      const items = r.items.map((it) => ({
        id: it.id,
        offset: it.offset - r.offset,
        length: it.length,
        size: sizes?.get(it.id),
        places: sink.staged?.placesOf(it.id),
      }));
      const slot = slots.take(length);
      try {
        const data = new Uint8Array(slot, 0, length);
        data.set(buf);
        await sink.pool.submit({
          op: 'put',
          data,
          items,
          objectsDir: sink.repo.objects.dir,
          tmpDir: sink.repo.tmpDir,
          fsync: sink.repo.fsyncObjects,
          storePlaced: sink.storePlaced,
        });
      } catch (e) {
        throw corrupt(String((e as MvmError).data?.id ?? ''), r.pack, e);
      } finally {
        slots.give(slot);
      }
      for (const it of r.items) sink.staged?.filled(it.id);
    }
    progress?.advance?.(length);
  });
  return bytes;
}

/**
 * Fetches a remote's branches and tags: downloads and checks every version
 * manifest and file object they reach that this repository lacks, refuses the
 * whole fetch (writing nothing) if any version is unsafe to check out, then
 * downloads the missing chunks, stores everything (chunks, file objects,
 * manifests, in that order), and only then moves `refs/remotes/<name>/*`,
 * adds tags that do not exist here, and adopts the remote's version numbers.
 */
export async function fetchFromRemote(repo: Repository, s: RemoteSession, opts: FetchOptions): Promise<FetchTransfer> {
  return (await fetchAndStage(repo, s, opts)).transfer;
}

/** Options of a fetch: concurrent requests, progress, and versions wanted besides the remote's refs. */
export interface FetchOptions {
  jobs: number;
  progress?: Progress;
  want?: string[];
  /**
   * Also fetch what the versions already here need and lack (objects fsck
   * --repair set aside, say): a walk of every version, so only when asked
   * (fetch --full) or when `.mvm/lost/` holds objects not yet replaced.
   */
  refetch?: boolean;
}

/**
 * fetchFromRemote that also builds, while the chunks download, the files of
 * the version `stage` picks from the remote's refs (null: none), for
 * checkout to take; the caller discards what it does not take.
 */
export async function fetchAndStage(
  repo: Repository,
  s: RemoteSession,
  opts: FetchOptions & { stage?: (refs: RemoteRef[]) => string | null },
): Promise<{ transfer: FetchTransfer; staged: StagedFiles | null }> {
  const empty: FetchTransfer = { refs: [], objects: 0, bytes: 0, rewound: [], tagConflicts: [] };
  if (!s.exists) return { transfer: empty, staged: null };
  const refs = await listRemoteRefs(s);
  const index = await syncRemoteIndex(repo, s.remote.name, s.backend, opts.jobs);
  // 1. manifests, level by level, checked before anything is stored
  const versions = new Map<string, { stored: Buffer; v: Version }>();
  const absent: Absent =
    opts.refetch || hasLostObjects(repo)
      ? absentObjects(repo)
      : { versions: [], files: [], filesWithChunks: [], chunks: [] };
  const onRemote = (id: string) => index.has(id);
  // a wanted version no pack holds was never pushed (mvm.lock naming it, say): the caller says so, the remote is fine
  let level = [
    ...new Set([...refs.map((r) => r.id), ...(opts.want ?? []).filter(onRemote), ...absent.versions.filter(onRemote)]),
  ].filter((id) => !repo.objects.has(id));
  let bytes = 0;
  while (level.length) {
    const next = new Set<string>();
    bytes += await download(s, index, level, opts.jobs, (id, stored, content) => {
      const v = decodeVersion(content, id);
      // what any system may hold: a name only some systems cannot write is refused by their checkout
      assertSafeVersion(v, id, 'any');
      versions.set(id, { stored, v });
      for (const p of [...v.parents, ...(v.deps.base ? [v.deps.base] : [])])
        if (!versions.has(p) && !repo.objects.has(p)) next.add(p);
    });
    level = [...next].filter((id) => !versions.has(id));
  }
  // 2. file objects
  const files = new Map<string, { stored: Buffer; f: FileObject }>();
  const wantFiles = [
    ...new Set([
      ...[...versions.values()].flatMap(({ v }) => Object.values(v.files).map((e) => e.file)),
      ...absent.files.filter(onRemote),
    ]),
  ].filter((id) => !repo.objects.has(id));
  bytes += await download(s, index, wantFiles, opts.jobs, (id, stored, content) =>
    files.set(id, { stored, f: decodeFileObject(content, id) }),
  );
  // signatures of the versions here or fetched, checked before anything is stored
  const signatures = await readRemoteSignatures(repo, s, (id) => versions.has(id) || repo.objects.has(id), opts.jobs);
  // 3. chunks, stored as they arrive (content-addressed: harmless until a manifest names them): of every
  // version fetched or asked for, those of the paths this workspace holds (all of them, unless --only).
  // A partial store takes from its own remote only the chunks of the version being staged, and keeps
  // those in its files only; from any other remote it takes every chunk, as what it leaves there is
  // fetched from its own remote alone.
  const sparse = repo.sparse();
  const partial = partialRemote(repo) === s.remote.name;
  const stageId = opts.stage?.(refs) ?? null;
  const stageVersion = stageId
    ? (versions.get(stageId)?.v ?? (repo.objects.has(stageId) ? repo.version(stageId) : null))
    : null;
  const wanted = partial
    ? stageVersion
      ? [stageVersion]
      : []
    : [
        ...[...versions.values()].map(({ v }) => v),
        ...(opts.want ?? []).filter((id) => !versions.has(id) && repo.objects.has(id)).map((id) => repo.version(id)),
      ];
  const fileOf = (id: string) => files.get(id)?.f ?? repo.file(id);
  // each chunk's size as its file object declares it: its decode is held to that before it allocates
  // (a chunk fetched again for a file object here is held to the chunk limit)
  const chunkSizes = new Map(
    wanted.flatMap((v) =>
      Object.values(visibleFiles(v.files, sparse)).flatMap((e) =>
        fileOf(e.file).chunks.map((c) => [c.id, c.size] as const),
      ),
    ),
  );
  const wantChunks = [...new Set([...chunkSizes.keys(), ...refetchChunks(absent, files).filter(onRemote)])].filter(
    (id) => !repo.objects.has(id),
  );
  opts.progress?.start?.(
    `fetch ${s.remote.name}`,
    wantChunks.reduce((n, id) => n + (index.get(id)?.length ?? 0), 0),
  );
  const staged = stageVersion ? StagedFiles.create(repo, visibleFiles(stageVersion.files, sparse), fileOf) : null;
  const rewound: FetchTransfer['rewound'] = [];
  const tagConflicts: string[] = [];
  try {
    // every core decodes and hashes; a worker thread has the range while the next one downloads
    bytes += await withPool((pool) =>
      download(
        s,
        index,
        wantChunks,
        opts.jobs,
        { repo, pool, staged, storePlaced: !partial },
        opts.progress,
        chunkSizes,
      ),
    );
    staged?.close();
    for (const [id, { stored }] of files) repo.objects.putStored(id, stored);
    for (const [id, { stored }] of versions) repo.objects.putStored(id, stored);
    clearReplacedLost(repo, partial ? onRemote : undefined);
    storeSignatures(repo, signatures);
    opts.progress?.done?.();
    // 4. refs last
    const load = (id: string) => repo.version(id);
    for (const r of refs) {
      const name = r.ref.replace(/^refs\/(heads|tags)\//, '');
      if (r.ref.startsWith('refs/heads/')) {
        const tracking = `refs/remotes/${s.remote.name}/${name}`;
        const before = repo.refs.read(tracking);
        if (before && before !== r.id && repo.objects.has(before) && !isAncestor(before, r.id, load))
          rewound.push({ ref: r.ref, from: before, to: r.id });
        repo.refs.write(tracking, r.id);
      } else {
        const local = repo.refs.read(r.ref);
        if (!local) repo.refs.write(r.ref, r.id);
        else if (local !== r.id) tagConflicts.push(name);
      }
    }
    await adoptNumbers(repo, s, new Set(versions.keys()));
  } catch (e) {
    staged?.discard();
    throw e;
  }
  return {
    transfer: { refs, objects: versions.size + files.size + wantChunks.length, bytes, rewound, tagConflicts },
    staged,
  };
}

/**
 * Chunks to fetch again: those absentObjects found missing under file
 * objects that are here, and those of the file objects it found missing,
 * now fetched (none in a partial store: it takes chunks when it reads them).
 */
function refetchChunks(absent: Absent, files: Map<string, { f: FileObject }>): string[] {
  return [...absent.chunks, ...absent.filesWithChunks.flatMap((id) => files.get(id)?.f.chunks.map((c) => c.id) ?? [])];
}

/** Reads the remote's number registry (capped, checked whole) and makes local numbers follow it for the versions held here; `fetched` were just verified. */
async function adoptNumbers(repo: Repository, s: RemoteSession, fetched: ReadonlySet<string>): Promise<void> {
  const file = await s.backend.read('numbers', REMOTE_LIMITS.registry);
  if (file) await followRegistry(repo, parseRegistry(file.data, s.remote.url), fetched);
}

/**
 * Makes sure a version and everything it needs is here, fetching it by id
 * from the default remote when it is not (a version mvm.lock names after
 * `git checkout` of an older commit, say). Call with the lock held.
 */
export async function ensureVersion(repo: Repository, id: string, progress?: Progress): Promise<void> {
  if (holdsVersion(repo, id)) return;
  const remote = findRemote(repo);
  await withRemote(repo, remote, false, async (s) => {
    await fetchFromRemote(repo, s, { jobs: defaultJobs(remote), progress, want: [id] });
  });
  if (!holdsVersion(repo, id)) {
    throw new MvmError('UNKNOWN_REVISION', `version ${id.slice(0, 12)} is neither here nor on ${remote.name}`, {
      revision: id,
      hint: 'push it from the clone that made it',
    });
  }
}

/**
 * True when the version, its file objects and the chunks of the paths this
 * workspace holds are all here (a partial store needs no chunks: they are
 * fetched when read).
 */
export function holdsVersion(repo: Repository, id: string): boolean {
  if (!repo.objects.has(id)) return false;
  const partial = partialRemote(repo) !== null;
  for (const e of Object.values(visibleFiles(repo.version(id).files, repo.sparse()))) {
    if (!repo.objects.has(e.file)) return false;
    if (!partial && repo.file(e.file).chunks.some((c) => !repo.objects.has(c.id))) return false;
  }
  return true;
}

/**
 * Fetches chunks by id from the remote a partial store names, verifying and
 * storing each: what a partial store's `repo.chunks.ensure` (transfer/partial.ts) calls for the chunks a
 * command is about to read.
 */
export async function fetchChunks(
  repo: Repository,
  ids: string[],
  progress?: Progress,
  sizes?: ReadonlyMap<string, number>,
): Promise<Fetched> {
  const remote = findRemote(repo, partialRemote(repo) ?? undefined);
  return withRemote(repo, remote, false, async (s) => {
    if (!s.exists) {
      throw new MvmError(
        'REMOTE_NOT_FOUND',
        `${remote.name} (${remote.url}) holds no mvm repository, so the ${ids.length} chunk(s) this partial store needs cannot be fetched`,
        {
          url: remote.url,
          remote: remote.name,
          hint: 'mount or reach the remote again, or point the remote at a copy of it (mvm remote add)',
        },
      );
    }
    const jobs = defaultJobs(remote);
    const index = await syncRemoteIndex(repo, s.remote.name, s.backend, jobs);
    const absent = ids.filter((id) => !index.get(id));
    if (absent.length) {
      throw new MvmError(
        'OBJECT_MISSING',
        `object ${absent[0]} is not here, and ${remote.name} (${remote.url}) does not hold it either`,
        { id: absent[0], remote: remote.name, hint: 'push it from a clone that has it, then run the command again' },
      );
    }
    progress?.start?.(
      `fetch ${remote.name}`,
      ids.reduce((n, id) => n + (index.get(id)?.length ?? 0), 0),
    );
    const bytes = await withPool((pool) =>
      download(s, index, ids, jobs, { repo, pool, staged: null, storePlaced: true }, progress, sizes),
    );
    progress?.done?.();
    return { objects: ids.length, bytes, requests: s.backend.stats.requests };
  });
}
