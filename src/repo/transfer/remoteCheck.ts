import { MvmError, isMvmError } from '../../errors.js';
import { decodeFileObject, decodeVersion } from '../../core/objects.js';
import { isObjectId } from '../../core/ids.js';
import { validateRefName } from '../../core/revision.js';
import { decodeVerified } from '../../storage/objectFile.js';
import { indexKey, packKey, parsePackIndex, type PackEntry, type PackIndex } from '../../storage/remote/packs.js';
import { garbledNumberLines, parseNumberLog } from '../../storage/numbers.js';
import { type Repository, withPool, type Progress, bounded } from '../repository/index.js';
import type { RemoteSession } from './remoteSession.js';
import { checkPacks, type RemoteProblem } from './packCheck.js';
import { REMOTE_LIMITS } from '../../core/limits.js';

/** What `mvm fsck --remote` checked and found. */
export interface RemoteCheck {
  remote: string;
  url: string;
  ok: boolean;
  /** Pack indexes read (those that parse). */
  packs: number;
  /** Objects hashed, and the pack bytes read to do it. */
  objectsChecked: number;
  bytesChecked: number;
  /** Versions the refs and the registry reach. */
  versions: number;
  refsChecked: number;
  /** Entries of the number registry. */
  registry: number;
  /** Packs no index names (an interrupted push; harmless, as nothing reads them). */
  unindexedPacks: number;
  problems: RemoteProblem[];
}

/** A remote ref as found: its name, content tag, and id (null when the content is not a version id). */
export interface FoundRef {
  ref: string;
  tag: string;
  id: string | null;
  /** False when the name is one mvm does not write (not under refs/heads or refs/tags, or invalid). */
  validName: boolean;
}

/** What repair needs besides the report: where every good copy is and what is damaged. */
export interface RemoteDetail {
  /** Every pack index that parses, by pack id. */
  indexes: Map<string, PackIndex>;
  /** Packs whose index does not parse (what they hold is unknown). */
  garbledIndexes: Set<string>;
  /** Packs with a damaged copy, a wrong size, or no file at all. */
  badPacks: Set<string>;
  /** A verified copy of each object, in a sound pack when there is one. */
  good: Map<string, PackEntry>;
  /** Objects the refs and the registry need (every kind), and the versions among them. */
  needed: Set<string>;
  versions: Set<string>;
  refs: FoundRef[];
}

/** Every ref key on the remote, parsed without stopping at the first bad one. */
async function findRefs(s: RemoteSession): Promise<FoundRef[]> {
  const out: FoundRef[] = [];
  for (const key of await s.backend.list('refs/')) {
    const m = /^refs\/(heads|tags)\/(.+)$/.exec(key);
    let validName = !!m;
    try {
      if (m) validateRefName(m[2]!, m[1] === 'heads' ? 'branch' : 'tag');
    } catch {
      validName = false;
    }
    let f;
    try {
      f = await s.backend.read(key, REMOTE_LIMITS.ref);
    } catch (e) {
      // larger than any ref may be: garbled, and not read
      if (!isMvmError(e, 'REMOTE_CORRUPT')) throw e;
      out.push({ ref: key, tag: '', id: null, validName });
      continue;
    }
    if (!f) continue;
    const text = f.data.length <= 200 ? f.data.toString('utf8').trim() : '';
    out.push({ ref: key, tag: f.tag, id: isObjectId(text) ? text : null, validName });
  }
  return out;
}

/**
 * Verifies a remote: every pack index parses and matches its pack's size,
 * every object in every pack hashes to its id, every ref parses and names a
 * version the remote holds with everything it needs (manifest, file objects,
 * chunks), and the number registry parses and names held versions. Manifests
 * and file objects are read from this store when it has them (same id, same
 * content), else from the remote.
 */
export async function inspectRemote(
  repo: Repository,
  s: RemoteSession,
  opts: { jobs: number; progress?: Progress; restore?: (r: FoundRef) => string | null },
): Promise<{ report: RemoteCheck; detail: RemoteDetail }> {
  const url = s.remote.url;
  const problems: RemoteProblem[] = [];
  // 1. pack indexes
  const keys = await s.backend.list('packs/');
  const indexIds = keys.filter((k) => /^packs\/[0-9a-f]{64}\.idx$/.test(k)).map((k) => k.slice(6, 70));
  const packIds = new Set(keys.filter((k) => /^packs\/[0-9a-f]{64}\.pack$/.test(k)).map((k) => k.slice(6, 70)));
  const indexes = new Map<string, PackIndex>();
  const garbledIndexes = new Set<string>();
  await bounded(indexIds.length, opts.jobs, async (i) => {
    const id = indexIds[i]!;
    try {
      const file = await s.backend.read(indexKey(id), REMOTE_LIMITS.packIndex);
      if (!file) return;
      indexes.set(id, parsePackIndex(file.data, id, url));
    } catch (e) {
      // an index in a newer format is not damage: this mvm cannot judge the remote at all
      if (!isMvmError(e, 'REMOTE_CORRUPT')) throw e;
      garbledIndexes.add(id);
      problems.push({ kind: 'bad-index', pack: id, message: e.message, usedBy: [] });
    }
  });
  const unindexedPacks = [...packIds].filter((p) => !indexes.has(p) && !garbledIndexes.has(p)).length;
  // 2. every object of every pack, hashed
  const sorted = [...indexes.values()].sort((a, b) => (a.pack < b.pack ? -1 : 1));
  const swept = await withPool((pool) => checkPacks(s, sorted, opts.jobs, pool, opts.progress, repo.objects));
  problems.push(...swept.packProblems);
  const badPacks = new Set<string>([...swept.bad.keys(), ...swept.packProblems.map((p) => p.pack!)]);
  const good = new Map<string, PackEntry>();
  // sound packs first, so a damaged pack's good copies are used only when nothing else holds them
  for (const idx of [...sorted.filter((x) => !badPacks.has(x.pack)), ...sorted.filter((x) => badPacks.has(x.pack))]) {
    const badHere = swept.bad.get(idx.pack);
    for (const [id, offset, length] of idx.objects)
      if (!good.has(id) && !badHere?.has(id)) good.set(id, { pack: idx.pack, offset, length });
  }
  const listed = new Set<string>(sorted.flatMap((x) => x.objects.map(([id]) => id)));
  const held = (id: string) => listed.has(id);
  // 3. refs and the registry: what the remote must hold
  const refs = await findRefs(s);
  const roots: { id: string; from: string }[] = [];
  for (const r of refs) {
    if (!r.validName)
      problems.push({
        kind: 'bad-ref',
        ref: r.ref,
        message:
          `remote ref ${JSON.stringify(r.ref)} is not a branch or tag name mvm accepts (fetch refuses the ` +
          `remote while it is there)`,
        usedBy: [],
      });
    else if (r.id) roots.push({ id: r.id, from: r.ref });
    else {
      problems.push({
        kind: 'bad-ref',
        ref: r.ref,
        message: `remote ref ${r.ref} does not hold a version id`,
        usedBy: [],
      });
      // repair: the version the ref will be rewritten to must be there with all it needs
      const to = opts.restore?.(r);
      if (to) roots.push({ id: to, from: r.ref });
    }
  }
  let numbers = null;
  try {
    numbers = await s.backend.read('numbers', REMOTE_LIMITS.registry);
  } catch (e) {
    if (!isMvmError(e, 'REMOTE_CORRUPT')) throw e;
    problems.push({ kind: 'bad-registry', ref: 'numbers', message: e.message, usedBy: [] });
  }
  const registry = numbers ? parseNumberLog(numbers.data) : [];
  if (numbers) {
    for (const n of garbledNumberLines(numbers.data))
      problems.push({
        kind: 'bad-registry',
        ref: 'numbers',
        message: `line ${n} of the number registry is garbled`,
        usedBy: [],
      });
    if (numbers.data.length % 65 !== 0)
      problems.push({
        kind: 'bad-registry',
        ref: 'numbers',
        message: `the number registry ends in a partial line (${numbers.data.length % 65} byte(s))`,
        usedBy: [],
      });
    registry.forEach((id, i) => {
      if (id) roots.push({ id, from: `v${i + 1}` });
    });
  }
  // 4. walk: versions, their file objects and chunks
  const load = async (id: string): Promise<Buffer | null> => {
    if (repo.objects.has(id)) {
      try {
        return repo.objects.get(id);
      } catch {
        /* damaged here: read the remote's copy */
      }
    }
    const at = good.get(id);
    if (!at) return null;
    return decodeVerified(await s.backend.readRange(packKey(at.pack), at.offset, at.length), id);
  };
  const needed = new Set<string>();
  const versions = new Set<string>();
  const users = new Map<string, RemoteProblem['usedBy']>();
  const missing = new Map<string, RemoteProblem>();
  const use = (id: string, u: RemoteProblem['usedBy'][number]) => {
    needed.add(id);
    if (!held(id) && !missing.has(id))
      missing.set(id, {
        kind: 'missing',
        id,
        message: `object ${id} is needed but no pack index names it`,
        usedBy: [],
      });
    const l = users.get(id) ?? [];
    if (l.length < 5) l.push(u);
    users.set(id, l);
  };
  const stack: { id: string; from: string }[] = [...roots].reverse();
  const seenFiles = new Set<string>();
  while (stack.length) {
    const { id, from } = stack.pop()!;
    if (versions.has(id)) continue;
    use(id, isObjectId(from) ? { version: from } : { ref: from });
    const registryEntry = /^v\d+$/.test(from);
    let content: Buffer | null;
    try {
      content = await load(id);
    } catch (e) {
      if (!isMvmError(e)) throw e;
      content = null;
    }
    if (!content) continue; // missing, or damaged with no good copy: reported already
    let v;
    try {
      v = decodeVersion(content, id);
    } catch (e) {
      const what = registryEntry ? `registry entry ${from}` : `remote ref ${from}`;
      problems.push({
        kind: registryEntry ? 'bad-registry' : 'bad-ref',
        id,
        ref: registryEntry ? 'numbers' : from,
        message: `${what} names object ${id}, which is not a version (${isMvmError(e) ? e.message : String(e)})`,
        usedBy: [],
      });
      continue;
    }
    versions.add(id);
    for (const p of [...v.parents, ...(v.deps.base ? [v.deps.base] : [])])
      if (!versions.has(p)) stack.push({ id: p, from: id });
    for (const [path, e] of Object.entries(v.files)) {
      use(e.file, { version: id, path });
      if (seenFiles.has(e.file)) continue;
      seenFiles.add(e.file);
      let f;
      try {
        const c = await load(e.file);
        f = c ? decodeFileObject(c, e.file) : null;
      } catch (err) {
        if (!isMvmError(err)) throw err;
        f = null;
      }
      for (const c of f?.chunks ?? []) use(c.id, { version: id, path });
    }
  }
  problems.push(...missing.values());
  const gone = new Set(swept.packProblems.filter((p) => p.kind === 'missing-pack').map((p) => p.pack));
  for (const [pack, ids] of swept.bad) {
    // a missing pack is one problem, not one per object it held
    if (gone.has(pack)) continue;
    for (const [id, why] of ids)
      problems.push({ kind: 'corrupt', id, pack, message: `${why}, in pack ${pack}`, usedBy: [] });
  }
  for (const p of problems) if (p.id) p.usedBy = users.get(p.id) ?? [];
  const report: RemoteCheck = {
    remote: s.remote.name,
    url,
    ok: problems.length === 0,
    packs: indexes.size,
    objectsChecked: swept.objects,
    bytesChecked: swept.bytes,
    versions: versions.size,
    refsChecked: refs.length,
    registry: registry.length,
    unindexedPacks,
    problems,
  };
  return { report, detail: { indexes, garbledIndexes, badPacks, good, needed, versions, refs } };
}

/** inspectRemote's report alone, for `mvm fsck --remote`; a remote nothing was pushed to is REMOTE_NOT_FOUND. */
export async function checkRemote(
  repo: Repository,
  s: RemoteSession,
  opts: { jobs: number; progress?: Progress },
): Promise<RemoteCheck> {
  if (!s.exists)
    throw new MvmError('REMOTE_NOT_FOUND', `${s.remote.name} (${s.remote.url}) holds no mvm repository`, {
      url: s.remote.url,
      remote: s.remote.name,
      hint: 'push to it first, or check the remote URL (mvm remote list)',
    });
  return (await inspectRemote(repo, s, opts)).report;
}
