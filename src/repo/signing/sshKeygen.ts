import { SSH_KEYGEN_MAX_OUTPUT } from '../../core/limits.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MvmError } from '../../errors.js';

/** What one ssh-keygen run returned. */
interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs ssh-keygen with `input` on stdin; a missing ssh-keygen is SIGNING_FAILED with the package to install. */
function sshKeygen(args: string[], input: Uint8Array): Run {
  // stdin carries the message; a passphrase prompt goes to the terminal (/dev/tty), as for git
  const r = spawnSync('ssh-keygen', args, { input, encoding: 'utf8', maxBuffer: SSH_KEYGEN_MAX_OUTPUT });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new MvmError(
      'SIGNING_FAILED',
      missing
        ? 'ssh-keygen was not found, so versions cannot be signed or verified'
        : `ssh-keygen could not run: ${r.error.message}`,
      {
        hint: missing
          ? "install OpenSSH's client (Debian: apt-get install openssh-client)"
          : 'check that ssh-keygen runs',
      },
    );
  }
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The last line ssh-keygen said on stderr, for messages. */
function said(r: Run): string {
  return (
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^Signing data on standard input/.test(l))
      .at(-1)
      ?.slice(0, 200) ?? ''
  );
}

/**
 * Signs `message` with `ssh-keygen -Y sign -f KEY -n NAMESPACE`: KEY is a
 * private key (ssh-keygen asks for its passphrase), or a public key whose
 * private half ssh-agent holds. Returns the armored signature.
 */
export function sshSign(key: string, namespace: string, message: Uint8Array): string {
  const r = sshKeygen(['-q', '-Y', 'sign', '-f', key, '-n', namespace], message);
  if (r.status !== 0) {
    throw new MvmError('SIGNING_FAILED', `ssh-keygen could not sign with ${key}${said(r) ? ` (${said(r)})` : ''}`, {
      key,
      hint: 'check the key path and passphrase; a public key needs its private half in ssh-agent (ssh-add)',
    });
  }
  return r.stdout;
}

/** The outcome of checking one signature: good by an allowed principal, good but by a key not allowed, or bad. */
export interface SshCheck {
  status: 'verified' | 'unverified' | 'bad';
  /** The allowed-signers principal that verified it. */
  principal?: string;
  /** The signing key's fingerprint (SHA256:...), when the signature is good. */
  key?: string;
  /** Why it is not verified, in a few words. */
  reason?: string;
}

/**
 * Checks a signature over `message` as git does: the signature itself
 * (`-Y check-novalidate`), then the principals of `allowedSigners` whose key
 * made it (`-Y find-principals`), each tried with `-Y verify -I PRINCIPAL`
 * (which also applies the file's namespaces= and validity options). Without
 * an allowed-signers file a good signature is `unverified`.
 */
export function sshVerify(
  armored: string,
  namespace: string,
  message: Uint8Array,
  allowedSigners: string | null,
): SshCheck {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-sig-'));
  try {
    const sig = join(dir, 'signature');
    writeFileSync(sig, armored, { mode: 0o600 });
    const check = sshKeygen(['-Y', 'check-novalidate', '-n', namespace, '-s', sig], message);
    if (check.status !== 0) return { status: 'bad', reason: said(check) || 'the signature does not match the version' };
    const key = /\bkey (SHA256:[A-Za-z0-9+/=]+)/.exec(check.stdout + check.stderr)?.[1];
    if (!allowedSigners) return { status: 'unverified', key, reason: 'no allowed-signers file' };
    const found = sshKeygen(['-Y', 'find-principals', '-s', sig, '-f', allowedSigners], Buffer.alloc(0));
    const principals =
      found.status === 0
        ? found.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
        : [];
    for (const principal of principals) {
      const v = sshKeygen(['-Y', 'verify', '-f', allowedSigners, '-I', principal, '-n', namespace, '-s', sig], message);
      if (v.status === 0) return { status: 'verified', principal, key };
    }
    return {
      status: 'unverified',
      key,
      reason: principals.length ? `key not allowed for ${namespace} signatures` : 'key not in allowed signers',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
