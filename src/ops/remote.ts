import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../errors.js';
import { partialRemote, withLock, createRepository, MVM_DIR, Repository } from '../repo/repository/index.js';
import {
  deleteRemote,
  findRemote,
  listRemotes,
  saveRemote,
  type RemoteEntry,
  assertSafeSpec,
  describeRemote,
  readTrust,
  trustRemote,
  trustState,
  writeTrust,
} from '../repo/transfer/index.js';
import { parseRemoteUrl } from '../storage/remote/open.js';

/** Options of `mvm remote add`. */
export interface RemoteAddOptions {
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  /** Write it to the workspace file git tracks (mvm-remotes.json), so clones of the project know it. */
  shared?: boolean;
  /**
   * Consent to a plain-HTTP endpoint that is not loopback (requests and the credentials' signatures travel in clear
   * text).
   */
  allowHttp?: boolean;
}

/** A configured remote and whether this clone may use it: local, trusted, untrusted or changed since trusted. */
export type ListedRemote = RemoteEntry & { trust: ReturnType<typeof trustState> };

/** The configured remotes, each with its trust state. */
export function remotes(repo: Repository): ListedRemote[] {
  const records = readTrust(repo);
  return listRemotes(repo).map((r) => ({ ...r, trust: trustState(repo, r, records) }));
}

/** What `mvm remote trust` recorded: the remote, the settings trusted, and consent to plain HTTP. */
export interface TrustResult {
  remote: RemoteEntry;
  settings: string;
  allowHttp: boolean;
  /** True when the store was created to hold the trust (a fresh git clone). */
  created: boolean;
}

/**
 * Trusts, in this clone, the current settings of a remote from
 * mvm-remotes.json (default: the one a command would use); a later change to
 * them needs trust again. In a fresh git clone (`root` with no store yet) the
 * store is created first, as `mvm pull` would.
 */
export async function trust(
  repoOrRoot: Repository | string,
  name: string | undefined,
  opts: { allowHttp?: boolean } = {},
): Promise<TrustResult> {
  const created = typeof repoOrRoot === 'string';
  if (created) createRepository({ dir: repoOrRoot });
  try {
    const repo = created ? Repository.open(repoOrRoot) : repoOrRoot;
    return await withLock(repo, 'remote', async () => {
      const entry = findRemote(repo, name);
      const rec = trustRemote(repo, entry, !!opts.allowHttp);
      return { remote: entry, settings: describeRemote(entry), allowHttp: rec.allowHttp === true, created };
    });
  } catch (e) {
    if (created) rmSync(join(repoOrRoot, MVM_DIR), { recursive: true, force: true });
    throw e;
  }
}

/** Adds a remote: a folder, file:// URL or s3://bucket/prefix. Nothing is contacted yet. */
export async function addRemote(
  repo: Repository,
  name: string,
  url: string,
  opts: RemoteAddOptions = {},
  cwd = process.cwd(),
): Promise<RemoteEntry> {
  // a folder is kept as an absolute path, resolved where the user typed it (as git does)
  const target = parseRemoteUrl(url, cwd);
  if (target.kind === 'folder') url = target.path;
  assertSafeSpec(repo.root, { name, url, endpoint: opts.endpoint }, !!opts.allowHttp, 'remote add');
  return withLock(repo, 'remote', async () => {
    const spec = {
      url,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.pathStyle !== undefined ? { pathStyle: opts.pathStyle } : {}),
    };
    if (!opts.shared)
      return saveRemote(
        repo,
        name,
        { ...spec, ...(opts.allowHttp && opts.endpoint ? { allowHttp: true } : {}) },
        false,
      );
    // who shares a remote trusts it in their own clone; every other clone decides for itself
    const entry = saveRemote(repo, name, spec, true);
    trustRemote(repo, entry, !!opts.allowHttp);
    return entry;
  });
}

/** Removes a remote, its remote-tracking branches and its cached pack indexes; the remote itself is not touched. */
export async function removeRemote(repo: Repository, name: string): Promise<RemoteEntry> {
  return withLock(repo, 'remote', async () => {
    if (partialRemote(repo) === name) {
      throw new MvmError('BAD_ARGUMENT', `${name} holds the chunks this partial store lacks, so it cannot be removed`, {
        remote: name,
        hint: `run 'mvm fetch ${name} --full' first: the store then holds every chunk itself`,
      });
    }
    const entry = deleteRemote(repo, name);
    const records = readTrust(repo);
    if (records.delete(entry.name)) writeTrust(repo, records);
    for (const r of repo.refs.list(`refs/remotes/${entry.name}/`)) repo.refs.delete(r.ref);
    rmSync(join(repo.dir, 'refs', 'remotes', entry.name), { recursive: true, force: true });
    rmSync(join(repo.dir, 'remotes', entry.name), { recursive: true, force: true });
    return entry;
  });
}
