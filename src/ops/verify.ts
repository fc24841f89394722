import type { Repository } from '../repo/repository/index.js';
import { numberOf, resolveRevision } from '../repo/history/index.js';
import { assertSigned, checkSignatures, type VersionSignatures } from '../repo/signing/index.js';

/** What `mvm verify` found: the version's signatures, checked. */
export interface VerifyResult extends VersionSignatures {
  number: number | null;
}

/**
 * Checks a version's signatures against the allowed-signers file: returns
 * who signed it, or throws NOT_SIGNED, BAD_SIGNATURE or SIGNER_NOT_ALLOWED
 * (whose data carries the same report).
 */
export function verify(repo: Repository, rev = 'HEAD'): VerifyResult {
  const target = resolveRevision(repo, rev);
  repo.version(target);
  const r = checkSignatures(repo, target);
  const number = numberOf(repo, target);
  assertSigned(r, number ? `v${number}` : `version ${target.slice(0, 12)}`, '');
  return { ...r, number };
}
