import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { MvmError } from '../../errors.js';
import {
  SIGNATURE_NAMESPACE,
  decodeSignature,
  encodeSignature,
  makeSignature,
  signedMessage,
  type Signature,
  type SignatureLogEntry,
} from '../../core/signature.js';
import { type Repository, readUserConfig } from '../repository/index.js';
import { sshSign, sshVerify, type SshCheck } from './sshKeygen.js';

/** The allowed-signers file (git's format) at the workspace root unless the user config names another. */
export const ALLOWED_SIGNERS_FILE = '.mvm-allowed-signers';

/** Every line of `logs/signatures` that passes its shape check. */
export function signatureLog(repo: Repository): SignatureLogEntry[] {
  return repo.refs.readLog<SignatureLogEntry>('signatures');
}

/** Loads a signature object, checked. */
export function loadSignature(repo: Repository, id: string): Signature {
  return decodeSignature(repo.objects.get(id), id);
}

/** Ids of the signature objects of a version, oldest first. */
export function signaturesOf(repo: Repository, target: string, log = signatureLog(repo)): string[] {
  return [...new Set(log.filter((e) => e.target === target).map((e) => e.signature))];
}

/** Versions with at least one signature (not verified: for log, which runs no ssh-keygen unless asked). */
export function signedVersions(repo: Repository): Set<string> {
  return new Set(signatureLog(repo).map((e) => e.target));
}

/**
 * Stores a signature object and lists it in `logs/signatures` (once); the caller holds the writer lock. Returns its id.
 */
export function recordSignature(repo: Repository, sig: Signature, log = signatureLog(repo)): string {
  const id = repo.objects.put(encodeSignature(sig));
  if (!log.some((e) => e.target === sig.target && e.signature === id)) {
    const entry: SignatureLogEntry = { target: sig.target, signature: id };
    repo.refs.appendLog('signatures', entry);
    log.push(entry);
  }
  return id;
}

function expandHome(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  return isAbsolute(p) ? p : resolve(base, p);
}

/** git's `user.signingkey` when `gpg.format` is ssh (a key path, not a literal `key::` one), else null. */
function gitSigningKey(root: string): string | null {
  const get = (k: string) => {
    try {
      return (
        execFileSync('git', ['config', '--get', k], {
          cwd: root,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 10_000,
        }).trim() || null
      );
    } catch {
      return null;
    }
  };
  if (get('gpg.format') !== 'ssh') return null;
  const key = get('user.signingkey');
  return key && !key.startsWith('key::') ? key : null;
}

/**
 * The SSH key to sign with: `--sign-key`, else `signing.key` in the user
 * config, else git's `user.signingkey` (with `gpg.format ssh`). A private key,
 * or a public key (`.pub`) whose private half ssh-agent holds.
 */
export function signingKey(repo: Repository, explicit?: string): string {
  const key = explicit ?? readUserConfig().signing?.key ?? gitSigningKey(repo.root);
  if (!key) {
    throw new MvmError('BAD_ARGUMENT', 'no SSH key to sign with', {
      hint:
        'pass --sign-key ~/.ssh/id_ed25519 (or its .pub with the key in ssh-agent), or set signing.key in ' +
        '~/.config/mvm/config.json',
    });
  }
  const path = expandHome(key, process.cwd());
  if (!existsSync(path))
    throw new MvmError('PATH_NOT_FOUND', `signing key ${path} does not exist`, {
      path,
      hint: 'give the path of an SSH private key, or of a public key whose private half is in ssh-agent',
    });
  return path;
}

/** Whether commit signs when neither --sign nor --no-sign is given (`signing.sign` in the user config). */
export function signByDefault(): boolean {
  return readUserConfig().signing?.sign === true;
}

/** Signs a version with an SSH key through ssh-keygen and returns the signature object (not stored yet). */
export function signVersion(target: string, key: string): Signature {
  return makeSignature(target, sshSign(key, SIGNATURE_NAMESPACE, signedMessage(target)));
}

/**
 * Where the allowed-signers file is (`signing.allowedSigners` in the user config, else `.mvm-allowed-signers` at the
 * workspace root), and whether it exists.
 */
export function allowedSigners(repo: Repository): { path: string; exists: boolean } {
  const configured = readUserConfig().signing?.allowedSigners;
  const path = configured ? expandHome(configured, repo.root) : join(repo.root, ALLOWED_SIGNERS_FILE);
  return { path, exists: existsSync(path) };
}

/** One signature of a version, checked. */
export interface SignatureStatus extends SshCheck {
  /** The signature object's id. */
  id: string;
}

/** A version's signatures, checked against the allowed signers. */
export interface VersionSignatures {
  target: string;
  /**
   * verified: at least one allowed signer signed it; unverified: signed, but by no allowed key (or no allowed-signers
   * file); bad: only signatures that do not match; unsigned: none.
   */
  status: 'verified' | 'unverified' | 'bad' | 'unsigned';
  /** The allowed-signers principals whose signatures verified. */
  principals: string[];
  signatures: SignatureStatus[];
  /** The allowed-signers file checked against (null when it does not exist). */
  allowedSigners: string | null;
}

/**
 * Checks every signature of a version with ssh-keygen (one to three runs per signature), against the allowed-signers
 * file `allowedPath` names, else the repository's (a follower on a serving host names its own).
 */
export function checkSignatures(
  repo: Repository,
  target: string,
  log?: SignatureLogEntry[],
  allowedPath?: string,
): VersionSignatures {
  const allowed = allowedPath ? { path: allowedPath, exists: existsSync(allowedPath) } : allowedSigners(repo);
  const file = allowed.exists ? allowed.path : null;
  const signatures: SignatureStatus[] = [];
  for (const id of signaturesOf(repo, target, log)) {
    let sig: Signature;
    try {
      sig = loadSignature(repo, id);
    } catch (e) {
      signatures.push({ id, status: 'bad', reason: (e as Error).message });
      continue;
    }
    // the log names the target, and so does the object: a mismatch is a signature moved to another version
    if (sig.target !== target)
      signatures.push({ id, status: 'bad', reason: `it signs ${sig.target.slice(0, 12)}, not this version` });
    else signatures.push({ id, ...sshVerify(sig.signature, SIGNATURE_NAMESPACE, signedMessage(target), file) });
  }
  const principals = [...new Set(signatures.filter((s) => s.status === 'verified').map((s) => s.principal!))];
  const status = !signatures.length
    ? 'unsigned'
    : principals.length
      ? 'verified'
      : signatures.some((s) => s.status === 'unverified')
        ? 'unverified'
        : 'bad';
  return { target, status, principals, signatures, allowedSigners: file };
}

/**
 * Throws unless an allowed signer signed the version: NOT_SIGNED,
 * BAD_SIGNATURE (only signatures that do not match it) or SIGNER_NOT_ALLOWED
 * (good signatures, by keys the allowed-signers file does not list, or no
 * such file). `what` names the version in messages, `why` the reason a
 * signature is needed.
 */
export function assertSigned(r: VersionSignatures, what: string, why: string): void {
  if (r.status === 'verified') return;
  const data = { id: r.target, status: r.status, allowedSigners: r.allowedSigners, signatures: r.signatures };
  if (r.status === 'unsigned')
    throw new MvmError('NOT_SIGNED', `${what} is not signed${why}`, {
      ...data,
      hint: `an allowed signer signs it: mvm sign ${r.target.slice(0, 12)}`,
    });
  if (r.status === 'bad')
    throw new MvmError(
      'BAD_SIGNATURE',
      `${what} has no valid signature: ${r.signatures[0]?.reason ?? 'it does not match'}${why}`,
      {
        ...data,
        hint: 'the signature was altered or belongs to another version; an allowed signer signs it again (mvm sign)',
      },
    );
  const keys = [...new Set(r.signatures.map((s) => s.key).filter(Boolean))].join(', ');
  throw new MvmError(
    'SIGNER_NOT_ALLOWED',
    `${what} is signed${keys ? ` by ${keys}` : ''}, but by no key ` +
      (r.allowedSigners
        ? `in ${r.allowedSigners}`
        : `in an allowed-signers file (${ALLOWED_SIGNERS_FILE} does not exist)`) +
      why,
    {
      ...data,
      hint: r.allowedSigners
        ? 'an allowed signer signs it (mvm sign), or the project adds the key to its allowed-signers file'
        : `commit ${ALLOWED_SIGNERS_FILE} (git's allowed_signers format: "PRINCIPAL namespaces=\\"` +
          `${SIGNATURE_NAMESPACE}\\" ssh-ed25519 AAAA...")`,
    },
  );
}
