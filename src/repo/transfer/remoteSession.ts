import { MvmError } from '../../errors.js';
import type { RemoteBackend } from '../../storage/remote/backend.js';
import { FolderBackend } from '../../storage/remote/folder.js';
import { openBackend } from '../../storage/remote/open.js';
import { REMOTE_FORMAT } from '../../storage/remote/packs.js';
import { isObjectId } from '../../core/ids.js';
import { validateRefName } from '../../core/revision.js';
import type { Repository } from '../repository/index.js';
import type { RemoteEntry } from './remotes.js';
import { assertRemoteUsable } from './remoteTrust.js';
import { REMOTE_LIMITS } from '../../core/limits.js';

const FORMAT_KEY = 'mvm-remote.json';

/** An opened remote: its configuration, backend, and whether it holds anything yet. */
export interface RemoteSession {
  remote: RemoteEntry;
  backend: RemoteBackend;
  /** False for a remote nothing was pushed to yet. */
  exists: boolean;
}

/** How many transfers run at once unless told otherwise. */
export function defaultJobs(remote: RemoteEntry): number {
  return remote.url.startsWith('s3://') ? 4 : 2;
}

/**
 * Opens a remote and checks its format file; writes nothing (a push makes an
 * empty remote usable with initRemote, after its last check). A shared remote
 * not trusted here, a folder a remote may not be, or plain HTTP without
 * consent is refused before any request. A remote in a newer format is REMOTE_FORMAT.
 */
export async function openRemote(repo: Repository, remote: RemoteEntry, _create: boolean): Promise<RemoteSession> {
  assertRemoteUsable(repo, remote);
  const backend = openBackend(remote, repo.root);
  try {
    const file = await backend.read(FORMAT_KEY, REMOTE_LIMITS.config);
    if (!file) return { remote, backend, exists: false };
    checkFormat(remote, file.data);
    return { remote, backend, exists: true };
  } catch (e) {
    await backend.close();
    throw e;
  }
}

/** Checks a remote's format file: unreadable is REMOTE_CORRUPT, newer than this mvm REMOTE_FORMAT. */
function checkFormat(remote: RemoteEntry, data: Buffer): void {
  let format: unknown;
  try {
    format = (JSON.parse(data.toString('utf8')) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (typeof format !== 'number')
    throw new MvmError('REMOTE_CORRUPT', `${remote.url} has an unreadable ${FORMAT_KEY}`, { url: remote.url });
  if (format > REMOTE_FORMAT)
    throw new MvmError(
      'REMOTE_FORMAT',
      `${remote.url} is in remote format ${format}, newer than this mvm understands (${REMOTE_FORMAT})`,
      { url: remote.url, hint: 'upgrade mvm' },
    );
}

/**
 * Makes an empty remote usable (its folder, then its format file): a push
 * calls it after every check that could refuse it, right before its first
 * write, so a refused push leaves nothing behind. A folder that holds other
 * files and no format file is not made a remote.
 */
export async function initRemote(s: RemoteSession): Promise<void> {
  if (s.exists) return;
  if (s.backend instanceof FolderBackend) {
    const other = s.backend.foreignEntries();
    if (other.length) {
      throw new MvmError(
        'BAD_VALUE',
        `folder ${s.backend.root} holds other files (${other.slice(0, 3).join(', ')}) and is not an mvm remote`,
        { url: s.remote.url, hint: 'push to an empty or new folder' },
      );
    }
    s.backend.ensure();
  }
  if (!(await s.backend.swap(FORMAT_KEY, Buffer.from(JSON.stringify({ format: REMOTE_FORMAT }) + '\n'), null))) {
    // another push created it first: it must be a format this mvm reads
    const file = await s.backend.read(FORMAT_KEY, REMOTE_LIMITS.config);
    if (!file)
      throw new MvmError('REMOTE_CORRUPT', `${s.remote.url} lost its ${FORMAT_KEY} while pushing`, {
        url: s.remote.url,
        hint: 'run the push again',
      });
    checkFormat(s.remote, file.data);
  }
  s.exists = true;
}

/** A ref on the remote: full name (`refs/heads/main`), version id and tag for compare-and-swap. */
export interface RemoteRef {
  ref: string;
  id: string;
  tag: string;
}

/** Reads one ref on the remote; null when absent. Garbage is REMOTE_CORRUPT. */
export async function readRemoteRef(s: RemoteSession, ref: string): Promise<RemoteRef | null> {
  const f = await s.backend.read(ref, REMOTE_LIMITS.ref);
  if (!f) return null;
  const id = f.data.toString('utf8').trim();
  if (!isObjectId(id))
    throw new MvmError('REMOTE_CORRUPT', `remote ref ${ref} on ${s.remote.url} does not hold a version id`, {
      url: s.remote.url,
      ref,
    });
  return { ref, id, tag: f.tag };
}

/** Every branch and tag on the remote; a ref name mvm would not write is refused as REMOTE_CORRUPT. */
export async function listRemoteRefs(s: RemoteSession): Promise<RemoteRef[]> {
  const out: RemoteRef[] = [];
  for (const key of await s.backend.list('refs/')) {
    const m = /^refs\/(heads|tags)\/(.+)$/.exec(key);
    try {
      if (!m) throw new Error('not under refs/heads or refs/tags');
      validateRefName(m[2]!, m[1] === 'heads' ? 'branch' : 'tag');
    } catch (e) {
      throw new MvmError(
        'REMOTE_CORRUPT',
        `remote ${s.remote.url} holds a ref mvm does not accept: ${JSON.stringify(key)} (${(e as Error).message})`,
        { url: s.remote.url, ref: key, hint: 'nothing was fetched; remove that ref from the remote' },
      );
    }
    const r = await readRemoteRef(s, key);
    if (r) out.push(r);
  }
  return out;
}

/** Runs `fn` with a remote opened (see openRemote), and releases its connections afterwards. */
export async function withRemote<T>(
  repo: Repository,
  remote: RemoteEntry,
  create: boolean,
  fn: (s: RemoteSession) => Promise<T>,
): Promise<T> {
  const s = await openRemote(repo, remote, create);
  try {
    return await fn(s);
  } finally {
    await s.backend.close();
  }
}
