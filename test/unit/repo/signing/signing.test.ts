import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepository, Repository } from '../../../../src/repo/repository/index.js';
import { checkSignatures, signatureLog, signingKey } from '../../../../src/repo/signing/index.js';
import { allowedSigners } from '../../../../src/repo/signing/signatures.js';

// The signing wing over a temporary repository (no ssh-keygen run: nothing here is signed).
let dir = '';
const saved = process.env.MVM_CONFIG;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-signing-'));
  createRepository({ dir });
  // a user config of our own, so the tester's own signing settings do not leak in
  process.env.MVM_CONFIG = join(dir, 'user-config.json');
});
afterEach(() => {
  if (saved === undefined) delete process.env.MVM_CONFIG;
  else process.env.MVM_CONFIG = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('signing', () => {
  it('the signing key named must exist', () => {
    const repo = Repository.open(dir);
    expect(() => signingKey(repo, join(dir, 'no-such-key'))).toThrow(
      expect.objectContaining({ code: 'PATH_NOT_FOUND' }),
    );
    const key = join(dir, 'id_ed25519');
    writeFileSync(key, 'not read here');
    expect(signingKey(repo, key)).toBe(key);
  });

  it('the allowed-signers file is .mvm-allowed-signers at the workspace root unless the user config names one', () => {
    const repo = Repository.open(dir);
    expect(allowedSigners(repo)).toEqual({ path: join(dir, '.mvm-allowed-signers'), exists: false });
    writeFileSync(join(dir, '.mvm-allowed-signers'), '');
    expect(allowedSigners(repo).exists).toBe(true);
    writeFileSync(process.env.MVM_CONFIG!, JSON.stringify({ signing: { allowedSigners: 'team/signers' } }));
    expect(allowedSigners(repo).path).toBe(join(dir, 'team/signers'));
  });

  it('a version nobody signed has no signatures and an empty log', () => {
    const repo = Repository.open(dir);
    expect(signatureLog(repo)).toEqual([]);
    expect(checkSignatures(repo, 'c'.repeat(64)).signatures).toEqual([]);
  });
});
