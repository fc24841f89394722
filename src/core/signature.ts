import { MvmError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import { isObjectId, type ObjectId } from './ids.js';
import { OBJECT_FORMAT } from './objects.js';
import { MAX_SIGNATURE_OBJECT, MAX_SIGNATURE_TEXT } from './limits.js';

/** The ssh-keygen namespace (`-n`) of version signatures, so no other signature made with the key can pass for one. */
export const SIGNATURE_NAMESPACE = 'mvm-version';

/** A signature object: an SSH signature (git's SSHSIG format) over the message naming one version. */
export interface Signature {
  type: 'signature';
  format: number;
  target: ObjectId;
  namespace: string;
  /**
   * The armored signature `ssh-keygen -Y sign` writes, `-----BEGIN SSH SIGNATURE-----` ... `-----END SSH
   * SIGNATURE-----\n`.
   */
  signature: string;
}

/** A line of the append-only log `logs/signatures`: which signature object belongs to which version. */
export interface SignatureLogEntry {
  target: ObjectId;
  signature: ObjectId;
}

/** The exact bytes signed for a version: `mvm version <64 hex digits>\n`. */
export function signedMessage(target: ObjectId): Buffer {
  return Buffer.from(`mvm version ${target}\n`, 'utf8');
}

const ARMOR = /^-----BEGIN SSH SIGNATURE-----\n(?:[A-Za-z0-9+/=]{1,76}\n){1,200}-----END SSH SIGNATURE-----\n$/;

/** The armored text as ssh-keygen wrote it, checked: line endings made `\n`, nothing around the armor. */
export function normalizeArmor(text: string): string | null {
  const t = text.replace(/\r\n/g, '\n').trim() + '\n';
  return t.length <= MAX_SIGNATURE_TEXT && ARMOR.test(t) ? t : null;
}

/** A signature object for a version. */
export function makeSignature(target: ObjectId, armored: string): Signature {
  const signature = normalizeArmor(armored);
  if (!signature)
    throw new MvmError('SIGNING_FAILED', 'ssh-keygen did not write an SSH signature', {
      hint: 'check that ssh-keygen is OpenSSH 8.2 or newer',
    });
  return { type: 'signature', format: OBJECT_FORMAT, target, namespace: SIGNATURE_NAMESPACE, signature };
}

/** The canonical bytes of a signature object. */
export function encodeSignature(s: Signature): Buffer {
  return Buffer.from(canonicalJson(s));
}

const KEYS = ['format', 'namespace', 'signature', 'target', 'type'];

/**
 * Parses a signature object, checking every field: exactly the five keys,
 * a full version id as target, mvm's namespace, an armored signature within
 * its cap, and canonical bytes (so one signature has one id). Anything else
 * is OBJECT_CORRUPT.
 */
export function decodeSignature(bytes: Uint8Array, id: string): Signature {
  const bad = (why: string) =>
    new MvmError('OBJECT_CORRUPT', `object ${id} is not a valid signature (${why})`, { id, hint: "run 'mvm fsck'" });
  if (bytes.length > MAX_SIGNATURE_OBJECT) throw bad(`${bytes.length} bytes, more than ${MAX_SIGNATURE_OBJECT}`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('not an object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  if (keys.length !== KEYS.length || keys.some((k, i) => k !== KEYS[i]))
    throw bad(`fields ${JSON.stringify(keys)}, expected ${KEYS.join(', ')}`);
  if (o.type !== 'signature') throw bad(`type ${JSON.stringify(o.type)}`);
  if (o.format !== OBJECT_FORMAT) throw bad(`format ${JSON.stringify(o.format)}`);
  if (typeof o.target !== 'string' || !isObjectId(o.target)) throw bad('target is not a version id');
  if (o.namespace !== SIGNATURE_NAMESPACE)
    throw bad(`namespace ${JSON.stringify(o.namespace)}, expected ${SIGNATURE_NAMESPACE}`);
  if (typeof o.signature !== 'string' || normalizeArmor(o.signature) !== o.signature)
    throw bad('signature is not an armored SSH signature');
  const s = o as unknown as Signature;
  if (!encodeSignature(s).equals(Buffer.from(bytes))) throw bad('not in canonical form');
  return { type: 'signature', format: OBJECT_FORMAT, target: s.target, namespace: s.namespace, signature: s.signature };
}
