import { didYouMean, suggest } from '../../core/suggest.js';
import { setKey } from '../../core/values.js';
import { join } from 'node:path';
import { MvmError } from '../../errors.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { readJsonFile } from '../../storage/jsonFile.js';
import { parseRemoteUrl, type RemoteSpec } from '../../storage/remote/open.js';
import type { Repository } from '../repository/index.js';

/** The remotes file at the workspace root that git tracks, so a fresh `git clone` knows the remotes. */
export const SHARED_REMOTES_FILE = 'mvm-remotes.json';
const LOCAL_REMOTES_FILE = 'remotes.json';

/** A configured remote: its name, how to reach it, and whether it lives in the shared file. */
export interface RemoteEntry extends RemoteSpec {
  name: string;
  shared: boolean;
  /**
   * Consent to a plain-HTTP endpoint that is not loopback; kept in this clone's file only (see remoteTrust.ts for
   * shared ones).
   */
  allowHttp?: boolean;
}

type LocalSpec = RemoteSpec & { allowHttp?: boolean };
type RemotesFile = { remotes: Record<string, LocalSpec> };

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a remote name: letters, digits, . _ - (no slashes, so it stays one folder under .mvm/remotes). */
export function validateRemoteName(name: string): string {
  if (!NAME_RE.test(name))
    throw new MvmError('BAD_VALUE', `'${name}' is not a valid remote name`, {
      name,
      hint: 'use letters, digits, ., _ and -',
    });
  return name;
}

/** Checks what a remotes file says about one remote; a hostile shared file gets no further than this. */
function checkSpec(name: string, v: unknown, path: string, root: string, local: boolean): LocalSpec {
  const bad = (why: string) =>
    new MvmError('BAD_VALUE', `${path}: remote '${name}' ${why}`, {
      path,
      hint: `fix or remove the entry with 'mvm remote remove ${name}'`,
    });
  if (!NAME_RE.test(name)) throw bad('has an invalid name');
  const s = v as Partial<LocalSpec> | null;
  if (!s || typeof s !== 'object' || typeof s.url !== 'string') throw bad('has no url');
  parseRemoteUrl(s.url, root);
  if (
    s.endpoint !== undefined &&
    (typeof s.endpoint !== 'string' || !/^https?:\/\/[^\s@/]+(\/[^\s]*)?$/.test(s.endpoint))
  )
    throw bad('has an endpoint that is not an http(s) URL without credentials');
  if (s.region !== undefined && (typeof s.region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(s.region)))
    throw bad('has an invalid region');
  if (s.pathStyle !== undefined && typeof s.pathStyle !== 'boolean')
    throw bad('has a pathStyle that is not true/false');
  // consent to plain HTTP counts only in this clone's own file: a shared file cannot grant it to itself
  const allowHttp = local && s.allowHttp === true;
  return {
    url: s.url,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.region ? { region: s.region } : {}),
    ...(s.pathStyle !== undefined ? { pathStyle: s.pathStyle } : {}),
    ...(allowHttp ? { allowHttp } : {}),
  };
}

function readRemotes(path: string, root: string, local: boolean): Record<string, LocalSpec> {
  const v = readJsonFile(
    path,
    () => new MvmError('BAD_VALUE', `${path} is not valid JSON`, { path }),
  ) as RemotesFile | null;
  const out: Record<string, LocalSpec> = Object.create(null) as Record<string, LocalSpec>;
  for (const [name, spec] of Object.entries(v?.remotes ?? {}))
    setKey(out, name, checkSpec(name, spec, path, root, local));
  return out;
}

function paths(repo: Repository): { local: string; shared: string } {
  return { local: join(repo.dir, LOCAL_REMOTES_FILE), shared: join(repo.root, SHARED_REMOTES_FILE) };
}

/** Every remote, shared ones first; a local remote of the same name overrides a shared one. */
export function listRemotes(repo: Repository): RemoteEntry[] {
  const p = paths(repo);
  const shared = readRemotes(p.shared, repo.root, false);
  const local = readRemotes(p.local, repo.root, true);
  const out = new Map<string, RemoteEntry>();
  for (const [name, s] of Object.entries(shared)) out.set(name, { name, shared: true, ...s });
  for (const [name, s] of Object.entries(local)) out.set(name, { name, shared: false, ...s });
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The remote a command means: the named one, else `origin`, else the only one. */
export function findRemote(repo: Repository, name?: string): RemoteEntry {
  const all = listRemotes(repo);
  const want = name ?? (all.some((r) => r.name === 'origin') ? 'origin' : all.length === 1 ? all[0]!.name : undefined);
  const found = all.find((r) => r.name === want);
  if (found) return found;
  if (!name && !all.length)
    throw new MvmError('UNKNOWN_REMOTE', 'no remote is configured', {
      hint: 'add one with mvm remote add origin s3://bucket/prefix (or a folder)',
    });
  const names = all.map((r) => r.name);
  const near = name ? suggest(name, names) : [];
  throw new MvmError(
    'UNKNOWN_REMOTE',
    name ? `no remote named '${name}'${didYouMean(name, names)}` : 'several remotes and none is origin: name one',
    { remotes: names, ...(near.length ? { suggestions: near } : {}), hint: 'mvm remote lists them' },
  );
}

/** Adds a remote to the local file, or with `shared` to the workspace file git tracks. */
export function saveRemote(repo: Repository, name: string, spec: LocalSpec, shared: boolean): RemoteEntry {
  validateRemoteName(name);
  const checked = checkSpec(name, spec, 'remote add', repo.root, !shared);
  if (listRemotes(repo).some((r) => r.name === name)) {
    throw new MvmError('REMOTE_EXISTS', `a remote named '${name}' already exists`, {
      name,
      hint: `remove it first with 'mvm remote remove ${name}'`,
    });
  }
  const p = paths(repo);
  const file = shared ? p.shared : p.local;
  const remotes = readRemotes(file, repo.root, !shared);
  remotes[name] = checked;
  const text =
    JSON.stringify(
      { remotes: Object.fromEntries(Object.entries(remotes).sort(([a], [b]) => (a < b ? -1 : 1))) },
      null,
      2,
    ) + '\n';
  writeFileAtomic(file, text, { tmpDir: shared ? repo.root : repo.tmpDir });
  return { name, shared, ...checked };
}

/** Removes a remote from whichever file holds it (both, when both do). */
export function deleteRemote(repo: Repository, name: string): RemoteEntry {
  const entry = findRemote(repo, name);
  const p = paths(repo);
  for (const [file, tmpDir] of [
    [p.local, repo.tmpDir],
    [p.shared, repo.root],
  ] as const) {
    const remotes = readRemotes(file, repo.root, file === p.local);
    if (!(name in remotes)) continue;
    delete remotes[name];
    writeFileAtomic(file, JSON.stringify({ remotes }, null, 2) + '\n', { tmpDir });
  }
  return entry;
}
