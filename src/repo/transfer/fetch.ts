import { MvmError } from '../../errors.js';
import { decodeFileObject, decodeVersion, type FileObject, type Version } from '../../core/objects.js';
import { isAncestor } from '../../core/dag.js';
import { assertSafeVersion } from '../../core/versionCheck.js';
import { parseRegistry } from '../../storage/numbers.js';
import { type Repository, withPool, type Progress, partialRemote } from '../repository/index.js';
import { followRegistry } from '../history/index.js';
import { syncRemoteIndex } from './remoteIndex.js';
import { defaultJobs, listRemoteRefs, withRemote, type RemoteRef, type RemoteSession } from './remoteSession.js';
import { findRemote } from './remotes.js';
import { visibleFiles, StagedFiles } from '../workspace/index.js';
import { absentObjects, clearReplacedLost, hasLostObjects, type Absent } from './refetch.js';
import { ANNOTATIONS, readRemoteSidecars, SIGNATURES, storeSidecars } from './sidecarTransfer.js';
import { download } from './download.js';
import { REMOTE_LIMITS } from '../../core/limits.js';

/** What a fetch brought: refs seen on the remote, objects and bytes downloaded, and refs that moved oddly. */
export interface FetchTransfer {
  refs: RemoteRef[];
  objects: number;
  bytes: number;
  /** Remote branches whose new tip does not contain the old one (a forced push, or a lost update). */
  rewound: { ref: string; from: string; to: string }[];
  /** Remote tags that differ from a local tag of the same name (the local one is kept). */
  tagConflicts: string[];
  /** Numbers that name another version here than in the remote's registry (kept: see followRegistry). */
  divergedNumbers: number[];
}

/**
 * Fetches a remote's branches and tags: downloads and checks every version
 * manifest and file object they reach that this repository lacks (a partial
 * store, from its own remote: the manifests, and the file objects of the
 * version it stages only), refuses the
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
  const empty: FetchTransfer = { refs: [], objects: 0, bytes: 0, rewound: [], tagConflicts: [], divergedNumbers: [] };
  if (!s.exists) return { transfer: empty, staged: null };
  const refs = await listRemoteRefs(s);
  // a partial store reading its own remote reads the chunks' pack indexes only for the chunks it takes
  const partial = partialRemote(repo) === s.remote.name;
  const index = await syncRemoteIndex(repo, s.remote.name, s.backend, opts.jobs, { deferChunks: partial });
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
  // 2. file objects: of every version fetched, except that a partial store takes from its own remote only
  // those of the version being staged (the others when a command reads them: PartialChunks.ensureFiles)
  const stageId = opts.stage?.(refs) ?? null;
  const filesOf = (v: Version) => Object.values(v.files).map((e) => e.file);
  const heldVersion = (id: string) => versions.get(id)?.v ?? (repo.objects.has(id) ? repo.version(id) : null);
  const stageVersion = stageId ? heldVersion(stageId) : null;
  const files = new Map<string, { stored: Buffer; f: FileObject }>();
  const wantFiles = [
    ...new Set([
      ...(partial
        ? stageVersion
          ? filesOf(stageVersion)
          : []
        : [...versions.values()].flatMap(({ v }) => filesOf(v))),
      ...absent.files.filter(onRemote),
    ]),
  ].filter((id) => !repo.objects.has(id));
  bytes += await download(s, index, wantFiles, opts.jobs, (id, stored, content) =>
    files.set(id, { stored, f: decodeFileObject(content, id) }),
  );
  // signatures and annotations of the versions here or fetched, checked before anything is stored
  const held = (id: string) => versions.has(id) || repo.objects.has(id);
  const sidecars = [
    ...(await readRemoteSidecars(repo, s, SIGNATURES, held, opts.jobs)),
    ...(await readRemoteSidecars(repo, s, ANNOTATIONS, held, opts.jobs)),
  ];
  // 3. chunks, stored as they arrive (content-addressed: harmless until a manifest names them): of every
  // version fetched or asked for, those of the paths this workspace holds (all of them, unless --only).
  // A partial store takes from its own remote only the chunks of the version being staged, and keeps
  // those in its files only; from any other remote it takes every chunk, as what it leaves there is
  // fetched from its own remote alone.
  const sparse = repo.sparse();
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
  const wantedFiles = wanted.flatMap((v) => Object.values(visibleFiles(v.files, sparse)).map((e) => e.file));
  await index.loadChunkPacks(
    wantedFiles,
    [...chunkSizes.keys()].filter((id) => !repo.objects.has(id)),
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
  let divergedNumbers: number[] = [];
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
    storeSidecars(repo, sidecars);
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
    divergedNumbers = await adoptNumbers(repo, s, new Set(versions.keys()));
  } catch (e) {
    staged?.discard();
    throw e;
  }
  return {
    transfer: {
      refs,
      objects: versions.size + files.size + wantChunks.length,
      bytes,
      rewound,
      tagConflicts,
      divergedNumbers,
    },
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

/**
 * Reads the remote's number registry (capped, checked whole) and makes local numbers follow it for the versions held
 * here; `fetched` were just verified.
 */
async function adoptNumbers(repo: Repository, s: RemoteSession, fetched: ReadonlySet<string>): Promise<number[]> {
  const file = await s.backend.read('numbers', REMOTE_LIMITS.registry);
  return file ? await followRegistry(repo, parseRegistry(file.data, s.remote.url), s.remote.name, fetched) : [];
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
 * workspace holds are all here (a partial store needs only the manifest: file
 * objects and chunks are fetched when read).
 */
export function holdsVersion(repo: Repository, id: string): boolean {
  if (!repo.objects.has(id)) return false;
  if (partialRemote(repo) !== null) return true;
  for (const e of Object.values(visibleFiles(repo.version(id).files, repo.sparse()))) {
    if (!repo.objects.has(e.file)) return false;
    if (repo.file(e.file).chunks.some((c) => !repo.objects.has(c.id))) return false;
  }
  return true;
}
