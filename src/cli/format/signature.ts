import type { SignatureStatus, VersionSignatures } from '../../repo/signing/index.js';

/** One signature as `show` and `verify` print it. */
export function signatureLine(s: SignatureStatus): string {
  const key = s.key ? ` (key ${s.key})` : '';
  if (s.status === 'verified') return `good signature by ${s.principal}${key}`;
  if (s.status === 'unverified') return `signed, not verified${key}: ${s.reason}`;
  return `BAD signature ${s.id.slice(0, 12)}: ${s.reason}`;
}

/** A version's signatures in a few words: who signed, or why no one verified. */
export function signatureSummary(r: Pick<VersionSignatures, 'status' | 'principals' | 'signatures'>): string {
  if (r.status === 'unsigned') return 'not signed';
  if (r.status === 'verified') return `signed by ${r.principals.join(', ')}`;
  if (r.status === 'unverified')
    return `signed, not verified (${r.signatures.find((s) => s.status === 'unverified')?.reason})`;
  return 'BAD signature';
}
