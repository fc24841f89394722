import { DEFAULT_ENV } from '../../core/revision.js';
import { envLogName, listEnvs } from './deployments.js';
import { MvmError, isMvmError } from '../../errors.js';
import type { AnnotationLogEntry } from '../../core/objects.js';
import { type Repository, lockedVersionsInGit, partialRemote } from '../repository/index.js';
import { readLock } from './lockfile.js';

/** What keeps objects alive: the versions named by refs and logs, and annotation objects. */
export interface Roots {
  /** Version id -> one place that names it (for messages). */
  versions: Map<string, string>;
  /** Annotation objects, kept with the log that names them. */
  annotations: Set<string>;
}

/**
 * Everything that can name a version: HEAD, every ref (branches, tags,
 * remote-tracking branches, the deployed pointer), every entry of the deploy
 * log, the version mvm.lock names now and in any git commit, and annotation
 * objects. A ref that cannot be read stops gc: it might have named anything.
 */
export function gcRoots(repo: Repository): Roots {
  const versions = new Map<string, string>();
  const add = (id: string | null | undefined, where: string) => {
    if (id && !versions.has(id)) versions.set(id, where);
  };
  const unreadable = (where: string, e: unknown) =>
    new MvmError('REF_CORRUPT', `gc stopped: ${where} cannot be read (${isMvmError(e) ? e.message : String(e)})`, {
      ref: where,
      hint: "run 'mvm fsck' and repair the ref first; gc deletes nothing while a ref is unreadable",
    });
  try {
    add(repo.headId(), 'HEAD');
  } catch (e) {
    throw unreadable('HEAD', e);
  }
  for (const r of repo.refs.list('refs/')) {
    try {
      add(repo.refs.read(r.ref), r.ref);
    } catch (e) {
      throw unreadable(r.ref, e);
    }
  }
  // every environment's log, whole (not only the moves that took effect): rollback targets stay
  for (const env of new Set([DEFAULT_ENV, ...listEnvs(repo)])) {
    for (const e of repo.refs.readLog<{ from?: string | null; to?: string }>(envLogName(env))) {
      add(e.from, `the deploy log of ${env}`);
      add(e.to, `the deploy log of ${env}`);
    }
  }
  add(readLock(repo.root)?.version, 'mvm.lock');
  for (const id of lockedVersionsInGit(repo.root)) add(id, 'mvm.lock in a git commit');
  const annotations = new Set<string>();
  for (const e of repo.refs.readLog<AnnotationLogEntry>('annotations')) annotations.add(e.annotation);
  // signature objects too, kept with logs/signatures as annotations are with theirs
  for (const e of repo.refs.readLog<{ signature: string }>('signatures')) annotations.add(e.signature);
  return { versions, annotations };
}

/** The objects the roots reach, and the versions among them. */
export interface Reachable {
  versions: Set<string>;
  objects: Set<string>;
}

/**
 * Walks from the roots through parents and base models to every version,
 * and from each to its file objects and their chunks (and the bases of chunks
 * stored as deltas). A manifest or file
 * object that is missing or corrupt stops the walk (OBJECT_MISSING,
 * OBJECT_CORRUPT): what it names is unknown, so nothing may be deleted. A
 * chunk that is absent is fine (a partial clone holds only some), and so is
 * a file object in a partial store (it holds those of the versions it read).
 */
export function reachableObjects(repo: Repository, roots: Roots): Reachable {
  const versions = new Set<string>();
  const objects = new Set<string>(roots.annotations);
  const files = new Set<string>();
  const damaged = (id: string, what: string) =>
    new MvmError('OBJECT_MISSING', `gc stopped: ${what} ${id} is missing, so what it names is unknown`, {
      id,
      hint: "run 'mvm fsck'; gc deletes nothing in a damaged repository",
    });
  const partial = partialRemote(repo) !== null;
  // a root whose version is not here (an mvm.lock of a commit made elsewhere) names nothing more
  const stack = [...roots.versions.keys()].filter((id) => repo.objects.has(id));
  while (stack.length) {
    const id = stack.pop()!;
    if (versions.has(id)) continue;
    if (!repo.objects.has(id)) throw damaged(id, 'version');
    versions.add(id);
    objects.add(id);
    const v = repo.version(id);
    stack.push(...v.parents, ...(v.deps.base ? [v.deps.base] : []));
    for (const f of Object.values(v.files)) {
      if (files.has(f.file)) continue;
      files.add(f.file);
      objects.add(f.file);
      if (!repo.objects.has(f.file)) {
        // a partial store fetches file objects when it reads them: what one not fetched names is on the remote
        if (partial) continue;
        throw damaged(f.file, 'file object');
      }
      for (const c of repo.file(f.file).chunks) {
        if (objects.has(c.id)) continue;
        objects.add(c.id);
        // a chunk stored as a delta keeps its base (and the base's base...)
        for (let b = repo.objects.deltaBase(c.id); b && !objects.has(b); b = repo.objects.deltaBase(b)) objects.add(b);
      }
    }
  }
  return { versions, objects };
}
