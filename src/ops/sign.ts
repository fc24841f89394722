import { type Repository, withLock } from '../repo/repository/index.js';
import { numberOf, resolveRevision } from '../repo/history/index.js';
import { recordSignature, signVersion, signingKey } from '../repo/signing/index.js';

/** Options of `mvm sign`. */
export interface SignOptions {
  /** The SSH key (default: signing.key in the user config, else git's user.signingkey). */
  key?: string;
}

/** What `mvm sign` stored. */
export interface SignResult {
  target: string;
  number: number | null;
  /** The signature object's id. */
  signature: string;
  key: string;
}

/**
 * Signs an existing version with an SSH key (ssh-keygen does the signing, so
 * ssh-agent and passphrases work) and stores the signature object, listed
 * in `logs/signatures`. ssh-keygen runs before the writer lock is taken, so a
 * passphrase prompt holds up no one.
 */
export async function sign(repo: Repository, rev = 'HEAD', opts: SignOptions = {}): Promise<SignResult> {
  const target = resolveRevision(repo, rev);
  repo.version(target);
  const key = signingKey(repo, opts.key);
  const sig = signVersion(target, key);
  const signature = await withLock(repo, 'sign', async () => recordSignature(repo, sig));
  return { target, number: numberOf(repo, target), signature, key };
}
