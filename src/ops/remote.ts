import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../errors.js';
import { partialRemote } from '../repo/partial.js';
import type { Repository } from '../repo/repository.js';
import { withLock } from '../repo/session.js';
import { deleteRemote, listRemotes, saveRemote, type RemoteEntry } from '../repo/remotes.js';
import { parseRemoteUrl } from '../storage/remote/open.js';

/** Options of `mvm remote add`. */
export interface RemoteAddOptions {
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  /** Write it to the workspace file git tracks (mvm-remotes.json), so clones of the project know it. */
  shared?: boolean;
}

/** The configured remotes. */
export function remotes(repo: Repository): RemoteEntry[] {
  return listRemotes(repo);
}

/** Adds a remote: a folder, file:// URL or s3://bucket/prefix. Nothing is contacted yet. */
export async function addRemote(repo: Repository, name: string, url: string, opts: RemoteAddOptions = {}, cwd = process.cwd()): Promise<RemoteEntry> {
  // a folder is kept as an absolute path, resolved where the user typed it (as git does)
  const target = parseRemoteUrl(url, cwd);
  if (target.kind === 'folder') url = target.path;
  return withLock(repo, 'remote', async () =>
    saveRemote(repo, name, { url, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.region ? { region: opts.region } : {}), ...(opts.pathStyle !== undefined ? { pathStyle: opts.pathStyle } : {}) }, !!opts.shared),
  );
}

/** Removes a remote, its remote-tracking branches and its cached pack indexes; the remote itself is not touched. */
export async function removeRemote(repo: Repository, name: string): Promise<RemoteEntry> {
  return withLock(repo, 'remote', async () => {
    if (partialRemote(repo) === name) {
      throw new MvmError('BAD_ARGUMENT', `${name} holds the chunks this partial store lacks, so it cannot be removed`, { remote: name, hint: `run 'mvm fetch ${name} --full' first: the store then holds every chunk itself` });
    }
    const entry = deleteRemote(repo, name);
    for (const r of repo.refs.list(`refs/remotes/${entry.name}/`)) repo.refs.delete(r.ref);
    rmSync(join(repo.dir, 'refs', 'remotes', entry.name), { recursive: true, force: true });
    rmSync(join(repo.dir, 'remotes', entry.name), { recursive: true, force: true });
    return entry;
  });
}
