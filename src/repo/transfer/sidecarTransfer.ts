import { MvmError, isMvmError } from '../../errors.js';
import { decodeSignature } from '../../core/signature.js';
import { decodeAnnotation, type AnnotationLogEntry } from '../../core/objects.js';
import {
  MAX_ANNOTATION_OBJECT,
  MAX_ANNOTATIONS_PER_VERSION,
  MAX_SIGNATURE_OBJECT,
  MAX_SIGNATURES_PER_VERSION,
} from '../../core/limits.js';
import { blake3Hex } from '../../storage/hash.js';
import { type Repository, bounded } from '../repository/index.js';
import type { RemoteSession } from './remoteSession.js';
import { recordSignature, signatureLog } from '../signing/index.js';

/**
 * Objects that belong to a version and are added after it (signatures, annotations: metrics checked later, `eval`
 * results), carried beside the packs as one remote file each: `<prefix><version id>/<object id>.<bytes>`, the
 * object's canonical JSON. They are content-addressed, so a file is written once and never changes.
 */
export interface Sidecar {
  /** What one is called in messages. */
  what: string;
  prefix: string;
  /** Largest object taken, and most per version. */
  maxBytes: number;
  maxPerVersion: number;
  /** Checks an object field by field and returns the version it belongs to (throws on anything else). */
  targetOf(bytes: Buffer, id: string): string;
  /** This repository's objects of this kind: which version, which object. */
  local(repo: Repository): { target: string; id: string }[];
  /** Stores objects fetched and lists them in their log (the caller holds the writer lock). */
  store(repo: Repository, objects: { target: string; id: string; bytes: Buffer }[]): void;
}

export const SIGNATURES: Sidecar = {
  what: 'signature',
  prefix: 'signatures/',
  maxBytes: MAX_SIGNATURE_OBJECT,
  maxPerVersion: MAX_SIGNATURES_PER_VERSION,
  targetOf: (bytes, id) => decodeSignature(bytes, id).target,
  local: (repo) => signatureLog(repo).map((e) => ({ target: e.target, id: e.signature })),
  store(repo, objects) {
    const log = signatureLog(repo);
    for (const o of objects) recordSignature(repo, decodeSignature(o.bytes, o.id), log);
  },
};

export const ANNOTATIONS: Sidecar = {
  what: 'annotation',
  prefix: 'annotations/',
  maxBytes: MAX_ANNOTATION_OBJECT,
  maxPerVersion: MAX_ANNOTATIONS_PER_VERSION,
  targetOf: (bytes, id) => decodeAnnotation(bytes, id).target,
  local: (repo) =>
    repo.refs.readLog<AnnotationLogEntry>('annotations').map((e) => ({ target: e.target, id: e.annotation })),
  store(repo, objects) {
    const have = new Set(ANNOTATIONS.local(repo).map((e) => `${e.target}/${e.id}`));
    for (const o of objects) {
      repo.objects.put(o.bytes);
      if (have.has(`${o.target}/${o.id}`)) continue;
      const entry: AnnotationLogEntry = { target: o.target, annotation: o.id };
      repo.refs.appendLog('annotations', entry);
      have.add(`${o.target}/${o.id}`);
    }
  },
};

/** The remote key of an object of a kind. */
export function sidecarKey(kind: Sidecar, target: string, id: string, length: number): string {
  return `${kind.prefix}${target}/${id}.${length}`;
}

/** Objects read from a remote by readRemoteSidecars, checked, not stored yet. */
export type Fetched = { kind: Sidecar; target: string; id: string; bytes: Buffer }[];

/**
 * Reads the objects of a kind a remote lists for the versions `held` accepts
 * and this repository does not have yet: every key checked by name, length
 * capped before a byte is read, content hash-checked against its id, and the
 * object checked field by field, its version the one its key names.
 * Anything else refuses the fetch (REMOTE_CORRUPT); nothing is stored here.
 */
export async function readRemoteSidecars(
  repo: Repository,
  s: RemoteSession,
  kind: Sidecar,
  held: (id: string) => boolean,
  jobs: number,
): Promise<Fetched> {
  const url = s.remote.url;
  const corrupt = (key: string, why: string) =>
    new MvmError('REMOTE_CORRUPT', `${kind.what} ${key} on ${url} ${why}`, {
      url,
      key,
      hint: 'nothing was fetched; remove that file from the remote',
    });
  const keyRe = new RegExp(`^${kind.prefix}([0-9a-f]{64})/([0-9a-f]{64})\\.([1-9][0-9]{0,7})$`);
  const have = new Set(kind.local(repo).map((e) => `${e.target}/${e.id}`));
  const perVersion = new Map<string, number>();
  const wanted: { key: string; target: string; id: string; length: number }[] = [];
  for (const key of await s.backend.list(kind.prefix)) {
    const m = keyRe.exec(key);
    if (!m) throw corrupt(JSON.stringify(key), `is not named ${kind.prefix}<version id>/<${kind.what} id>.<bytes>`);
    const [, target, id, len] = m as unknown as [string, string, string, string];
    const length = Number(len);
    if (length > kind.maxBytes)
      throw corrupt(key, `says it holds ${length} bytes, more than a ${kind.what} may (${kind.maxBytes})`);
    const n = (perVersion.get(target) ?? 0) + 1;
    perVersion.set(target, n);
    if (n > kind.maxPerVersion)
      throw corrupt(key, `is one of more than ${kind.maxPerVersion} ${kind.what}s of version ${target.slice(0, 12)}`);
    if (held(target) && !have.has(`${target}/${id}`)) wanted.push({ key, target, id, length });
  }
  const out: Fetched = [];
  await bounded(wanted.length, jobs, async (i) => {
    const w = wanted[i]!;
    const bytes = await s.backend.readRange(w.key, 0, w.length);
    if (blake3Hex(bytes) !== w.id) throw corrupt(w.key, 'does not match its id');
    let target: string;
    try {
      target = kind.targetOf(bytes, w.id);
    } catch (e) {
      throw isMvmError(e) ? corrupt(w.key, `is not a valid ${kind.what} object (${e.message})`) : e;
    }
    if (target !== w.target)
      throw corrupt(w.key, `belongs to version ${target.slice(0, 12)}, not the one its name says`);
    out.push({ kind, target, id: w.id, bytes });
  });
  return out;
}

/** Stores what readRemoteSidecars read and lists each object in its log; the caller holds the writer lock. */
export function storeSidecars(repo: Repository, fetched: Fetched): void {
  for (const kind of new Set(fetched.map((f) => f.kind)))
    kind.store(
      repo,
      fetched.filter((f) => f.kind === kind),
    );
}

/**
 * Sends every local object of a kind whose version the remote holds and that
 * the remote does not list yet (content-addressed, so a plain write). Lists the
 * remote's only when there is something to send. Returns how many it sent.
 */
export async function pushSidecars(
  repo: Repository,
  s: RemoteSession,
  kind: Sidecar,
  onRemote: (id: string) => boolean,
  jobs: number,
): Promise<number> {
  const local = kind.local(repo).filter((e) => onRemote(e.target));
  if (!local.length) return 0;
  const there = new Set(await s.backend.list(kind.prefix));
  const todo: { key: string; bytes: Buffer }[] = [];
  const seen = new Set<string>();
  for (const e of local) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const bytes = repo.objects.get(e.id);
    // a damaged or foreign object, or one larger than readers take, is never sent: they would refuse the fetch
    kind.targetOf(bytes, e.id);
    if (bytes.length > kind.maxBytes) continue;
    const key = sidecarKey(kind, e.target, e.id, bytes.length);
    if (!there.has(key)) todo.push({ key, bytes });
  }
  await bounded(todo.length, jobs, (i) => s.backend.write(todo[i]!.key, todo[i]!.bytes));
  return todo.length;
}
