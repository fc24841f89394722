import { MvmError, isMvmError } from '../../errors.js';
import { decodeSignature, type Signature } from '../../core/signature.js';
import { MAX_SIGNATURES_PER_VERSION, MAX_SIGNATURE_OBJECT } from '../../core/limits.js';
import { blake3Hex } from '../../storage/hash.js';
import { type Repository, bounded } from '../repository/index.js';
import type { RemoteSession } from './remoteSession.js';
import { recordSignature, signatureLog } from '../signing/index.js';

/**
 * Where signatures live on a remote: `signatures/<version id>/<signature id>.<bytes>`, the signature object's canonical
 * JSON.
 */
export const SIGNATURES_PREFIX = 'signatures/';

const KEY_RE = /^signatures\/([0-9a-f]{64})\/([0-9a-f]{64})\.([1-9][0-9]{0,5})$/;

/** The remote key of a signature object. */
export function signatureKey(target: string, id: string, length: number): string {
  return `${SIGNATURES_PREFIX}${target}/${id}.${length}`;
}

/**
 * Reads the signatures a remote lists for the versions `held` accepts and
 * this repository does not have yet: every key checked by name, length
 * capped before a byte is read, content hash-checked against its id, and the
 * object checked field by field, its target the version its key names.
 * Anything else refuses the fetch (REMOTE_CORRUPT); nothing is stored here.
 */
export async function readRemoteSignatures(
  repo: Repository,
  s: RemoteSession,
  held: (id: string) => boolean,
  jobs: number,
): Promise<Signature[]> {
  const url = s.remote.url;
  const corrupt = (key: string, why: string) =>
    new MvmError('REMOTE_CORRUPT', `signature ${key} on ${url} ${why}`, {
      url,
      key,
      hint: 'nothing was fetched; remove that file from the remote',
    });
  const have = new Set(signatureLog(repo).map((e) => `${e.target}/${e.signature}`));
  const perVersion = new Map<string, number>();
  const wanted: { key: string; target: string; id: string; length: number }[] = [];
  for (const key of await s.backend.list(SIGNATURES_PREFIX)) {
    const m = KEY_RE.exec(key);
    if (!m) throw corrupt(JSON.stringify(key), 'is not named signatures/<version id>/<signature id>.<bytes>');
    const [, target, id, len] = m as unknown as [string, string, string, string];
    const length = Number(len);
    if (length > MAX_SIGNATURE_OBJECT)
      throw corrupt(key, `says it holds ${length} bytes, more than a signature may (${MAX_SIGNATURE_OBJECT})`);
    const n = (perVersion.get(target) ?? 0) + 1;
    perVersion.set(target, n);
    if (n > MAX_SIGNATURES_PER_VERSION)
      throw corrupt(
        key,
        `is one of more than ${MAX_SIGNATURES_PER_VERSION} signatures of version ${target.slice(0, 12)}`,
      );
    if (held(target) && !have.has(`${target}/${id}`)) wanted.push({ key, target, id, length });
  }
  const out: Signature[] = [];
  await bounded(wanted.length, jobs, async (i) => {
    const w = wanted[i]!;
    const bytes = await s.backend.readRange(w.key, 0, w.length);
    if (blake3Hex(bytes) !== w.id) throw corrupt(w.key, 'does not match its id');
    let sig: Signature;
    try {
      sig = decodeSignature(bytes, w.id);
    } catch (e) {
      throw isMvmError(e) ? corrupt(w.key, `is not a valid signature object (${e.message})`) : e;
    }
    if (sig.target !== w.target)
      throw corrupt(w.key, `signs version ${sig.target.slice(0, 12)}, not the one its name says`);
    out.push(sig);
  });
  return out;
}

/**
 * Stores signatures read by readRemoteSignatures and lists them in `logs/signatures`; the caller holds the writer lock.
 */
export function storeSignatures(repo: Repository, sigs: Signature[]): void {
  const log = signatureLog(repo);
  for (const sig of sigs) recordSignature(repo, sig, log);
}

/**
 * Sends every local signature of a version the remote holds that the remote
 * does not list yet (content-addressed, so a plain write). Lists the remote's
 * signatures only when there is something to send. Returns how many it sent.
 */
export async function pushSignatures(
  repo: Repository,
  s: RemoteSession,
  onRemote: (id: string) => boolean,
  jobs: number,
): Promise<number> {
  const local = signatureLog(repo).filter((e) => onRemote(e.target));
  if (!local.length) return 0;
  const there = new Set(await s.backend.list(SIGNATURES_PREFIX));
  const todo: { key: string; bytes: Buffer }[] = [];
  const seen = new Set<string>();
  for (const e of local) {
    if (seen.has(e.signature)) continue;
    seen.add(e.signature);
    const bytes = repo.objects.get(e.signature);
    // a damaged or foreign object is never sent: the remote's readers would refuse it
    decodeSignature(bytes, e.signature);
    const key = signatureKey(e.target, e.signature, bytes.length);
    if (!there.has(key)) todo.push({ key, bytes });
  }
  await bounded(todo.length, jobs, (i) => s.backend.write(todo[i]!.key, todo[i]!.bytes));
  return todo.length;
}
