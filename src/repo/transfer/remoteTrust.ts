import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MvmError } from '../../errors.js';
import { canonicalJson } from '../../core/canonical.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { blake3Hex } from '../../storage/hash.js';
import { readJsonFile } from '../../storage/jsonFile.js';
import { parseRemoteUrl } from '../../storage/remote/open.js';
import type { Repository } from '../repository/index.js';
import { SHARED_REMOTES_FILE, type RemoteEntry } from './remotes.js';

/** Where this clone records which shared remote settings its user trusted: `.mvm/trusted-remotes.json`. */
const TRUST_FILE = 'trusted-remotes.json';

/** What trusting one shared remote recorded: the hash of the settings seen, and consent to plain HTTP. */
export interface TrustRecord {
  hash: string;
  allowHttp?: boolean;
}

/** The hash of a shared remote's settings as the user saw them: a later change to the file needs trust again. */
export function sharedEntryHash(e: RemoteEntry): string {
  return blake3Hex(
    Buffer.from(
      canonicalJson({
        name: e.name,
        url: e.url,
        endpoint: e.endpoint ?? null,
        region: e.region ?? null,
        pathStyle: e.pathStyle ?? null,
      }),
    ),
  );
}

/** The trust records of this clone, keyed by remote name; a malformed file trusts nothing. */
export function readTrust(repo: Repository): Map<string, TrustRecord> {
  const path = join(repo.dir, TRUST_FILE);
  const v = readJsonFile(
    path,
    () =>
      new MvmError('BAD_VALUE', `${path} is not valid JSON`, {
        path,
        hint: `remove it and run 'mvm remote trust' again`,
      }),
  ) as { trusted?: unknown } | null;
  const out = new Map<string, TrustRecord>();
  const t = v?.trusted;
  if (!t || typeof t !== 'object' || Array.isArray(t)) return out;
  for (const [name, r] of Object.entries(t as Record<string, unknown>)) {
    const rec = r as Partial<TrustRecord> | null;
    if (!rec || typeof rec !== 'object' || typeof rec.hash !== 'string' || !/^[0-9a-f]{64}$/.test(rec.hash)) continue;
    out.set(name, { hash: rec.hash, ...(rec.allowHttp === true ? { allowHttp: true } : {}) });
  }
  return out;
}

/** Writes the trust records (sorted by name). Call with the lock held. */
export function writeTrust(repo: Repository, records: Map<string, TrustRecord>): void {
  const trusted = Object.create(null) as Record<string, TrustRecord>;
  for (const name of [...records.keys()].sort()) trusted[name] = records.get(name)!;
  writeFileAtomic(join(repo.dir, TRUST_FILE), JSON.stringify({ trusted }, null, 2) + '\n', { tmpDir: repo.tmpDir });
}

/** True when an endpoint sends requests in clear text to another host (http:, not loopback). */
export function isInsecureEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return true;
  }
  if (u.protocol === 'https:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return !(host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
}

/** The path with symlinks resolved as far as it exists (the rest appended), so a link cannot hide where it points. */
function realish(path: string): string {
  let p = resolve(path);
  const rest: string[] = [];
  while (!existsSync(p) && dirname(p) !== p) {
    rest.unshift(basename(p));
    p = dirname(p);
  }
  try {
    p = realpathSync(p);
  } catch {
    /* unreadable: keep it as given */
  }
  return join(p, ...rest);
}

/**
 * Why a folder may not be a remote, or null: inside this workspace (its files
 * would be tracked, or its ref files checked out over), or inside any `.git`
 * or `.mvm` folder (a push would write refs and packs into git's or mvm's own store).
 */
export function folderRemoteProblem(root: string, folder: string): string | null {
  const path = realish(folder);
  const ws = realish(root);
  const rel = relative(ws, path);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return `is inside the workspace ${ws}`;
  if (path.split(sep).some((p) => p.toLowerCase() === '.git' || p.toLowerCase() === '.mvm'))
    return 'is inside a .git or .mvm folder';
  return null;
}

/** Refuses remote settings that point at a folder a remote may not be, or at plain HTTP without consent. */
export function assertSafeSpec(
  root: string,
  e: Pick<RemoteEntry, 'name' | 'url' | 'endpoint'>,
  allowHttp: boolean,
  where: string,
): void {
  const t = parseRemoteUrl(e.url, root);
  if (t.kind === 'folder') {
    const why = folderRemoteProblem(root, t.path);
    if (why)
      throw new MvmError('BAD_VALUE', `remote '${e.name}' (${where}): folder ${t.path} ${why}`, {
        remote: e.name,
        url: e.url,
        hint: 'a folder remote lives outside the workspace and outside any .git or .mvm folder',
      });
  }
  if (!allowHttp && t.kind === 's3' && isInsecureEndpoint(e.endpoint)) {
    throw new MvmError(
      'REMOTE_UNTRUSTED',
      `remote '${e.name}' (${where}) would send requests, signed with your credentials, in clear text to ${e.endpoint}`,
      {
        remote: e.name,
        endpoint: e.endpoint,
        hint:
          where === SHARED_REMOTES_FILE
            ? `use an https:// endpoint, or consent with 'mvm remote trust ${e.name} --allow-http'`
            : 'use an https:// endpoint, or consent with --allow-http (mvm remote add or mvm clone)',
      },
    );
  }
}

/** How a shared remote's settings read to a person deciding whether to trust them. */
export function describeRemote(e: RemoteEntry): string {
  return [
    e.url,
    e.endpoint ? `endpoint ${e.endpoint}` : '',
    e.region ? `region ${e.region}` : '',
    e.pathStyle !== undefined ? `pathStyle ${e.pathStyle}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Whether a remote may be used now: local ones always, shared ones once trusted in their current form. */
export function trustState(
  repo: Repository,
  e: RemoteEntry,
  records = readTrust(repo),
): 'local' | 'trusted' | 'untrusted' | 'changed' {
  if (!e.shared) return 'local';
  const r = records.get(e.name);
  if (!r) return 'untrusted';
  return r.hash === sharedEntryHash(e) ? 'trusted' : 'changed';
}

/**
 * Refuses, before any byte moves or credential is sent, a remote whose
 * settings came from the shared file and were not trusted in this clone (or
 * changed since), a folder a remote may not be, or plain HTTP without consent.
 */
export function assertRemoteUsable(repo: Repository, e: RemoteEntry): void {
  const records = readTrust(repo);
  const state = trustState(repo, e, records);
  if (state === 'untrusted' || state === 'changed') {
    throw new MvmError(
      'REMOTE_UNTRUSTED',
      `remote '${e.name}' comes from ${SHARED_REMOTES_FILE} (${describeRemote(e)}) and ` +
        `${state === 'changed' ? 'changed since it was trusted in this clone' : 'is not trusted in this clone yet'}`,
      {
        remote: e.name,
        url: e.url,
        ...(e.endpoint ? { endpoint: e.endpoint } : {}),
        hint:
          `check these settings, then run 'mvm remote trust ${e.name}'` +
          `${isInsecureEndpoint(e.endpoint) ? ' --allow-http' : ''}`,
      },
    );
  }
  const allowHttp = e.shared ? records.get(e.name)?.allowHttp === true : e.allowHttp === true;
  assertSafeSpec(repo.root, e, allowHttp, e.shared ? SHARED_REMOTES_FILE : 'remotes.json');
}

/** Records trust in a shared remote's current settings (checking them first). Call with the lock held. */
export function trustRemote(repo: Repository, e: RemoteEntry, allowHttp: boolean): TrustRecord {
  if (!e.shared)
    throw new MvmError('BAD_ARGUMENT', `remote '${e.name}' was added in this clone, so it needs no trust`, {
      remote: e.name,
      hint: `only remotes from ${SHARED_REMOTES_FILE} are trusted with 'mvm remote trust'`,
    });
  assertSafeSpec(repo.root, e, allowHttp, SHARED_REMOTES_FILE);
  const records = readTrust(repo);
  const rec: TrustRecord = {
    hash: sharedEntryHash(e),
    ...(allowHttp && isInsecureEndpoint(e.endpoint) ? { allowHttp: true } : {}),
  };
  records.set(e.name, rec);
  writeTrust(repo, records);
  return rec;
}
