import { relative } from 'node:path';
import { readdirSync } from 'node:fs';
import { MvmError, isMvmError } from '../errors.js';
import {
  type Repository,
  withLock,
  withPool,
  type Progress,
  bounded,
  partialRemote,
  leftOnRemote,
} from '../repo/repository/index.js';
import {
  repairRepository,
  deployLog,
  envLogName,
  listEnvs,
  numberLookup,
  removedVersions,
} from '../repo/history/index.js';
import { DEFAULT_ENV } from '../core/revision.js';
import { versionProblems } from '../core/versionCheck.js';
import { dropStatCache, isCovered } from '../repo/workspace/index.js';
import { readEnvConfigs, modelFolder, staleStaging } from '../repo/deploy/index.js';
import type { AnnotationLogEntry } from '../core/objects.js';
import { findRemote, defaultJobs, withRemote, checkRemote, type RemoteCheck } from '../repo/transfer/index.js';
import { loadSignature, signatureLog } from '../repo/signing/index.js';

/** Where a damaged object is used: which version and path. */
export interface ObjectUse {
  version: string;
  number: number | null;
  path?: string;
}

/** One problem fsck found. */
export interface FsckProblem {
  kind: 'missing' | 'corrupt' | 'bad-ref' | 'unsafe' | 'bad-log' | 'bad-file';
  /** The object id, for missing and corrupt objects. */
  id?: string;
  /** The ref or file, for bad refs. */
  ref?: string;
  message: string;
  usedBy: ObjectUse[];
}

/** What `mvm fsck` checked and found. */
export interface FsckResult {
  ok: boolean;
  objectsChecked: number;
  versions: number;
  refsChecked: number;
  problems: FsckProblem[];
  /** Versions that no branch, tag, HEAD or deployment reaches (kept, not errors). */
  unreachable: number;
  /** Temporary files left by an interrupted write; removed by the next write command. */
  leftoverTemp: number;
  /** Staging folders an interrupted export left in an env's serving folder; removed by the next export there. */
  staleExports: string[];
  /** Numbered versions that `mvm gc` removed (recorded in logs/gc; not problems). */
  removedByGc: number;
  /**
   * Chunks and file objects a partial store (a clone without --full) leaves on its remote (the chunks of those
   * file objects not counted: unknown here): fetched when needed, not problems.
   */
  onRemote: number;
  /** With --repair: what was done, and how many problems there were before (`problems` lists those left). */
  repaired?: string[];
  problemsBefore?: number;
}

/**
 * Verifies the repository: every ref names a readable version, every version,
 * file object and chunk referenced exists and hashes to its id, and every
 * other stored object hashes correctly too. Damaged objects are reported with
 * the versions and paths that use them.
 */
export async function fsck(
  repo: Repository,
  opts: { progress?: Progress; repair?: boolean } = {},
): Promise<FsckResult> {
  if (!opts.repair) return check(repo, opts);
  // --repair: check, mend what can be rebuilt or set aside, check again; under the writer lock
  return withLock(repo, 'fsck', async () => {
    const before = await check(repo, opts);
    const repaired = await repairRepository(repo, before.problems);
    // a stored copy is gone or set aside: the next commit reads every tracked file again and stores what was lost
    if (before.problems.some((p) => p.kind === 'missing' || p.kind === 'corrupt')) {
      dropStatCache(repo);
      repaired.push(
        'dropped the stat cache (the next commit re-reads every tracked file and stores again the lost chunks ' +
          'they hold)',
      );
    }
    const after = await check(repo, opts);
    return { ...after, repaired, problemsBefore: before.problems.length };
  });
}

async function check(repo: Repository, opts: { progress?: Progress }): Promise<FsckResult> {
  const problems: FsckProblem[] = [];
  const numbers = repo.numbers.readAll();
  const sparse = repo.sparse();
  const numberOf = numberLookup(repo);
  // refs
  const roots = new Set<string>();
  let refsChecked = 0;
  const checkRef = (name: string, read: () => string | null) => {
    refsChecked++;
    try {
      const id = read();
      if (id) roots.add(id);
      if (id && !repo.objects.has(id))
        problems.push({
          kind: 'bad-ref',
          ref: name,
          id,
          message: `${name} points at missing version ${id}`,
          usedBy: [],
        });
    } catch (e) {
      problems.push({ kind: 'bad-ref', ref: name, message: isMvmError(e) ? e.message : String(e), usedBy: [] });
    }
  };
  checkRef('HEAD', () => repo.headId());
  for (const prefix of ['refs/heads/', 'refs/tags/'])
    for (const r of repo.refs.list(prefix)) checkRef(r.ref, () => repo.refs.read(r.ref));
  checkRef('refs/deployed', () => repo.refs.read('refs/deployed'));
  for (const r of repo.refs.list('refs/envs/')) checkRef(r.ref, () => repo.refs.read(r.ref));
  const envs = listEnvs(repo);
  for (const env of envs) {
    for (const e of deployLog(repo, env)) {
      roots.add(e.to);
      if (e.from) roots.add(e.from);
    }
  }
  // walk versions: numbered ones and everything refs reach
  const versions = new Set<string>([...numbers.filter((x): x is string => !!x), ...roots]);
  const reachable = new Set<string>();
  const stack = [...roots];
  const parentsOf = new Map<string, string[]>();
  const fileObjects = new Set<string>();
  const chunks = new Set<string>();
  const broken = new Set<string>();
  const report = (id: string, e: unknown) => {
    if (broken.has(id)) return;
    broken.add(id);
    const missing = isMvmError(e, 'OBJECT_MISSING');
    problems.push({
      kind: missing ? 'missing' : 'corrupt',
      id,
      message: isMvmError(e) ? e.message : String(e),
      usedBy: [],
    });
  };
  const missing = (id: string) => report(id, new MvmError('OBJECT_MISSING', `object ${id} is missing`, { id }));
  const filesOnRemote = new Set<string>();
  const gone = removedVersions(repo);
  let removed = 0;
  for (const id of versions) {
    // a numbered version that gc removed is not damage (it is only a problem when a ref still names it)
    if (gone.has(id) && !roots.has(id) && !repo.objects.has(id)) {
      removed++;
      continue;
    }
    let v;
    try {
      v = repo.version(id);
    } catch (e) {
      report(id, e);
      continue;
    }
    parentsOf.set(id, v.parents);
    const unsafe = versionProblems(v, 'any');
    if (unsafe.length)
      problems.push({
        kind: 'unsafe',
        id,
        message: `version ${id.slice(0, 12)} cannot be checked out safely: ${unsafe.join('; ')}`,
        usedBy: [],
      });
    for (const p of v.parents) versions.add(p);
    if (v.deps.base) versions.add(v.deps.base);
    for (const [path, f] of Object.entries(v.files)) {
      // a partial clone (--only) holds the chunks of its own paths only
      const held = !sparse || isCovered(path, sparse);
      const key = held ? f.file : `elsewhere:${f.file}`;
      if (fileObjects.has(key)) continue;
      fileObjects.add(key);
      // a partial store fetches a version's file objects when a command reads them
      if (leftOnRemote(repo, f.file)) {
        filesOnRemote.add(f.file);
        continue;
      }
      try {
        for (const c of repo.file(f.file).chunks) {
          if (held) chunks.add(c.id);
        }
      } catch (e) {
        report(f.file, e);
      }
    }
  }
  while (stack.length) {
    const id = stack.pop()!;
    if (reachable.has(id)) continue;
    reachable.add(id);
    stack.push(...(parentsOf.get(id) ?? []));
  }
  for (const e of repo.refs.readLog<AnnotationLogEntry>('annotations')) {
    try {
      repo.annotation(e.annotation);
    } catch (err) {
      report(e.annotation, err);
    }
  }
  // signature objects, every field (whether they verify is for 'mvm verify': that needs ssh-keygen and the allowed
  // signers)
  for (const e of signatureLog(repo)) {
    try {
      if (loadSignature(repo, e.signature).target !== e.target)
        throw new MvmError(
          'OBJECT_CORRUPT',
          `signature ${e.signature} signs another version than logs/signatures says (${e.target})`,
          { id: e.signature },
        );
    } catch (err) {
      report(e.signature, err);
    }
  }
  for (const b of repo.refs.logProblems('signatures'))
    problems.push({
      kind: 'bad-log',
      ref: 'logs/signatures',
      message: `logs/signatures line ${b.line} is not a valid entry (${JSON.stringify(b.text)}); readers skip it`,
      usedBy: [],
    });
  // the logs, the number log and the tracked paths: what readers skip or refuse
  for (const name of ['deployed', 'annotations', 'gc', ...envs.filter((e) => e !== DEFAULT_ENV).map(envLogName)]) {
    for (const b of repo.refs.logProblems(name))
      problems.push({
        kind: 'bad-log',
        ref: `logs/${name}`,
        message: `logs/${name} line ${b.line} is not a valid entry (${JSON.stringify(b.text)}); readers skip it`,
        usedBy: [],
      });
  }
  for (const n of repo.numbers.garbled())
    problems.push({
      kind: 'bad-file',
      ref: 'numbers',
      message: `numbers line ${n} is garbled, so v${n} names no version`,
      usedBy: [],
    });
  const registry = repo.numbers.registryState();
  if (registry === null || (registry && registry.numbered > numbers.length))
    problems.push({
      kind: 'bad-file',
      ref: 'registry.json',
      message: registry
        ? `registry.json confirms ${registry.numbered} numbers but numbers has ${numbers.length} lines`
        : 'registry.json is not what mvm writes, so no number here counts as a registry number',
      usedBy: [],
    });
  try {
    repo.tracked();
  } catch (e) {
    problems.push({
      kind: 'bad-file',
      ref: 'tracked.json',
      message: isMvmError(e) ? e.message : String(e),
      usedBy: [],
    });
  }
  // every stored object, plus referenced chunks that are not stored
  const all = new Set<string>(repo.objects.list());
  for (const bad of repo.objects.packs().problems)
    problems.push({ kind: 'bad-file', ref: relative(repo.dir, bad.path), message: bad.message, usedBy: [] });
  // a partial store leaves chunks on its remote until a command needs them
  const partial = partialRemote(repo) !== null;
  let onRemote = filesOnRemote.size;
  for (const c of chunks) {
    if (all.has(c)) continue;
    if (partial) onRemote++;
    else missing(c);
  }
  opts.progress?.start?.('fsck', all.size);
  await withPool(async (pool) => {
    const ids = [...all].filter((id) => !broken.has(id));
    // a damaged object is reported and the check goes on
    await bounded(ids.length, pool.capacity, (i) =>
      pool
        .submit({ op: 'verify', id: ids[i]!, store: repo.objects.workerHandle() })
        .then(
          () => undefined,
          (e) => report(ids[i]!, e),
        )
        .finally(() => opts.progress?.advance?.(1)),
    );
  });
  opts.progress?.done?.();
  // every version and path that needs a damaged object, found in a second pass over the readable versions
  const bad = new Set(problems.filter((p) => p.id && (p.kind === 'missing' || p.kind === 'corrupt')).map((p) => p.id!));
  const usedBy = new Map<string, ObjectUse[]>();
  const add = (id: string, u: ObjectUse) => {
    if (!bad.has(id)) return;
    const l = usedBy.get(id) ?? [];
    const last = l[l.length - 1];
    if (!last || last.version !== u.version || last.path !== u.path) l.push(u);
    usedBy.set(id, l);
  };
  if (bad.size) {
    for (const id of parentsOf.keys()) {
      const v = repo.version(id);
      const n = numberOf(id);
      for (const p of v.parents) add(p, { version: id, number: n });
      if (v.deps.base) add(v.deps.base, { version: id, number: n });
      for (const [path, f] of Object.entries(v.files)) {
        add(f.file, { version: id, number: n, path });
        if (bad.has(f.file) || !repo.objects.has(f.file)) continue;
        for (const c of repo.file(f.file).chunks) add(c.id, { version: id, number: n, path });
      }
    }
    for (const e of repo.refs.readLog<AnnotationLogEntry>('annotations'))
      add(e.annotation, { version: e.target, number: numberOf(e.target) });
  }
  for (const p of problems) if (p.id) p.usedBy = usedBy.get(p.id) ?? [];
  let leftoverTemp = 0;
  try {
    leftoverTemp = readdirSync(repo.tmpDir).length;
  } catch {
    /* no tmp dir */
  }
  return {
    ok: problems.length === 0,
    onRemote,
    objectsChecked: all.size,
    versions: versions.size,
    refsChecked,
    problems,
    unreachable: [...versions].filter((v) => !reachable.has(v) && !(gone.has(v) && !repo.objects.has(v))).length,
    removedByGc: removed,
    leftoverTemp,
    staleExports: staleExports(repo),
  };
}

/** The staging folders interrupted exports left in the envs' serving folders. */
function staleExports(repo: Repository): string[] {
  let configs;
  try {
    configs = Object.values(readEnvConfigs(repo));
  } catch {
    return []; // a bad envs file is reported on its own
  }
  return [...new Set(configs.flatMap((c) => (c.export ? staleStaging(modelFolder(c.export)) : [])))].sort();
}

/**
 * `mvm fsck --remote NAME`: verifies a remote instead of this repository
 * (pack indexes and sizes, every object's hash, refs and what they reach,
 * the number registry); see repo/transfer/remoteCheck.ts.
 */
export async function fsckRemote(
  repo: Repository,
  opts: { remote: string; jobs?: number; progress?: Progress },
): Promise<RemoteCheck> {
  const remote = findRemote(repo, opts.remote);
  return withRemote(repo, remote, false, (s) =>
    checkRemote(repo, s, { jobs: opts.jobs ?? defaultJobs(remote), progress: opts.progress }),
  );
}
