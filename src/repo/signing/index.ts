/**
 * The signing wing: signatures of versions (recording, the signing key, the
 * allowed signers, checking) and the ssh-keygen runs behind them.
 */
export {
  assertSigned,
  checkSignatures,
  loadSignature,
  recordSignature,
  signatureLog,
  signaturesOf,
  type SignatureStatus,
  signByDefault,
  signingKey,
  signVersion,
  type VersionSignatures,
} from './signatures.js';
