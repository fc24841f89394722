// Signed versions with real OpenSSH keys (scripts/ensure-tools.sh installs Debian's openssh-client):
// commit --sign and sign, verify against .mvm-allowed-signers, ssh-agent with an encrypted key,
// tampered and foreign signatures, signatures through push / clone / pull, and envs that require them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { canonicalJson } from '../../../src/core/canonical.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { sshKeys } from '../../helpers/sshKeys.js';

const ssh = sshKeys();
const { key, keygen, allowedLine } = ssh;

beforeAll(() => {
  keygen('alice');
  keygen('bob');
});
afterAll(() => ssh.cleanup());

/** A workspace with one model file and versions v1 (and v2), alice allowed to sign. */
function workspace(opts: { allowed?: boolean; versions?: number } = {}) {
  // the workspace is w/; remotes and clones go beside it
  const t0 = testdir({ 'w/model/w.bin': 'weights 1' });
  const t = { path: (p: string) => t0.path(join('w', p)), out: (p: string) => t0.path(p), cleanup: t0.cleanup };
  const run = (args: string[], env: Record<string, string> = {}, cwd = t.path('.')) => mvm(args, { cwd, env });
  ok(run(['init']));
  ok(run(['add', 'model']));
  ok(run(['commit', '-m', 'one']));
  for (let i = 2; i <= (opts.versions ?? 1); i++) {
    write(t.path('model/w.bin'), `weights ${i}`);
    ok(run(['commit', '-m', `v${i}`]));
  }
  if (opts.allowed !== false) writeFileSync(t.path('.mvm-allowed-signers'), allowedLine('alice@example.com', 'alice'));
  return { t, run };
}

describe('signing and verifying versions', () => {
  it(
    'commit --sign signs with the key; verify, show and log --show-signature say who signed; log alone says only ' +
      'that it is signed',
    () => {
      const { t, run } = workspace();
      try {
        write(t.path('model/w.bin'), 'weights 2');
        const c = json(run(['commit', '-m', 'two', '--sign', '--sign-key', key('alice'), '--json']));
        expect(c.signature).toMatch(/^[0-9a-f]{64}$/);
        const v = json(run(['verify', 'v2', '--json']));
        expect(v.status).toBe('verified');
        expect(v.principals).toEqual(['alice@example.com']);
        expect(v.signatures[0].key).toMatch(/^SHA256:/);
        expect(ok(run(['verify', 'v2'])).stdout).toContain('good signature by alice@example.com');
        expect(json(run(['show', 'v2', '--json'])).signatures.principals).toEqual(['alice@example.com']);
        expect(ok(run(['show', 'v2'])).stdout).toContain('alice@example.com');
        const log = json(run(['log', '--json']));
        expect(
          log.map((e: { number: number; signed: boolean; signature?: unknown }) => [e.number, e.signed, e.signature]),
        ).toEqual([
          [2, true, undefined],
          [1, false, undefined],
        ]);
        const shown = json(run(['log', '--show-signature', '--json']));
        expect(
          shown.map((e: { signature: { status: string; principals: string[] } }) => [
            e.signature.status,
            e.signature.principals,
          ]),
        ).toEqual([
          ['verified', ['alice@example.com']],
          ['unsigned', []],
        ]);
        // the signature object is kept by gc, and what fsck checks
        ok(run(['gc', '--grace', '0']));
        expect(json(run(['verify', 'v2', '--json'])).status).toBe('verified');
        ok(run(['fsck']));
        // a log line naming an object that is not a signature (the version itself): fsck reports it, verify calls it
        // bad
        // but keeps the good one
        const v2 = c.id as string;
        writeFileSync(
          t.path('.mvm/logs/signatures'),
          readFileSync(t.path('.mvm/logs/signatures'), 'utf8') + JSON.stringify({ target: v2, signature: v2 }) + '\n',
        );
        const f = mvm(['fsck', '--json'], { cwd: t.path('.') });
        expect(f.exitCode).toBe(7);
        expect(
          JSON.parse(f.stdout).problems.map((p: { id: string; message: string }) => [
            p.id,
            /not a valid signature/.test(p.message),
          ]),
        ).toEqual([[v2, true]]);
        expect(json(run(['verify', 'v2', '--json'])).signatures.map((x: { status: string }) => x.status)).toEqual([
          'verified',
          'bad',
        ]);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'sign signs an existing version; signing.sign and signing.key in the user config sign every commit (--no-sign ' +
      'does not)',
    () => {
      const { t, run } = workspace();
      try {
        expectError(run(['verify', 'v1', '--json']), 'NOT_SIGNED', 1);
        ok(run(['sign', 'v1', '--key', key('alice')]));
        expect(json(run(['verify', 'v1', '--json'])).principals).toEqual(['alice@example.com']);
        // signing the same version twice with the same key stores one signature (ed25519 signatures are deterministic)
        ok(run(['sign', 'v1', '--key', key('alice')]));
        expect(json(run(['verify', 'v1', '--json'])).signatures).toHaveLength(1);
        const config = t.path('config.json');
        writeFileSync(config, JSON.stringify({ signing: { sign: true, key: key('alice') } }));
        write(t.path('model/w.bin'), 'weights 2');
        ok(run(['commit', '-m', 'two'], { MVM_CONFIG: config }));
        expect(json(run(['verify', 'v2', '--json'], { MVM_CONFIG: config })).status).toBe('verified');
        write(t.path('model/w.bin'), 'weights 3');
        ok(run(['commit', '-m', 'three', '--no-sign'], { MVM_CONFIG: config }));
        expectError(run(['verify', 'v3', '--json'], { MVM_CONFIG: config }), 'NOT_SIGNED', 1);
        // a key that does not exist: nothing is committed
        write(t.path('model/w.bin'), 'weights 4');
        expectError(run(['commit', '-m', 'four', '--sign-key', t.path('nokey'), '--json']), 'PATH_NOT_FOUND', 4);
        expect(json(run(['log', '--json']))).toHaveLength(3);
        writeFileSync(config, JSON.stringify({ signing: { sign: 'yes' } }));
        expectError(run(['commit', '-m', 'four', '--json'], { MVM_CONFIG: config }), 'BAD_VALUE', 2);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'signs through ssh-agent: an encrypted key added with its passphrase (SSH_ASKPASS), then only its public half ' +
      'named',
    async () => {
      const { t, run } = workspace();
      const sock = key('agent.sock');
      let agent: ChildProcess | null = null;
      try {
        keygen('carol', 'correct horse');
        writeFileSync(t.path('.mvm-allowed-signers'), allowedLine('carol@example.com', 'carol'));
        agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
        for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
        const askpass = key('askpass.sh');
        write(askpass, '#!/bin/sh\necho "correct horse"\n', 0o755);
        const env = { SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
        const add = spawnSync('ssh-add', [key('carol')], {
          env: { ...process.env, ...env },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect(add.status, add.stderr).toBe(0);
        // the private key is gone: only the agent can sign
        rmSync(key('carol'));
        write(t.path('model/w.bin'), 'weights 2');
        ok(run(['commit', '-m', 'two', '--sign-key', key('carol.pub')], { SSH_AUTH_SOCK: sock }));
        expect(json(run(['verify', '--json'])).principals).toEqual(['carol@example.com']);
        // without the agent the public key cannot sign, and nothing is committed
        write(t.path('model/w.bin'), 'weights 3');
        expectError(
          run(['commit', '-m', 'three', '--sign-key', key('carol.pub'), '--json'], {
            SSH_AUTH_SOCK: key('no-agent.sock'),
          }),
          'SIGNING_FAILED',
          9,
        );
        expect(json(run(['log', '--json']))).toHaveLength(2);
      } finally {
        agent?.kill();
        t.cleanup();
      }
    },
  );

  it(
    'a key not in the allowed signers, or no allowed-signers file, is SIGNER_NOT_ALLOWED; show says signed, not ' +
      'verified',
    () => {
      const { t, run } = workspace();
      try {
        ok(run(['sign', 'v1', '--key', key('bob')]));
        const e = expectError(run(['verify', 'v1', '--json']), 'SIGNER_NOT_ALLOWED', 1);
        expect(e.data.status).toBe('unverified');
        expect(ok(run(['show', 'v1'])).stdout).toContain('signed, not verified');
        expect(json(run(['show', 'v1', '--json'])).signatures.status).toBe('unverified');
        // alice's key allowed only for git's namespace does not verify an mvm signature either
        ok(run(['sign', 'v1', '--key', key('alice')]));
        writeFileSync(
          t.path('.mvm-allowed-signers'),
          allowedLine('alice@example.com', 'alice').replace('mvm-version', 'git'),
        );
        expectError(run(['verify', 'v1', '--json']), 'SIGNER_NOT_ALLOWED', 1);
        rmSync(t.path('.mvm-allowed-signers'));
        expect(expectError(run(['verify', 'v1', '--json']), 'SIGNER_NOT_ALLOWED', 1).data.allowedSigners).toBeNull();
        // the user config may name another allowed-signers file
        const config = t.path('config.json');
        writeFileSync(t.path('elsewhere'), allowedLine('alice@example.com', 'alice'));
        writeFileSync(config, JSON.stringify({ signing: { allowedSigners: t.path('elsewhere') } }));
        expect(json(run(['verify', 'v1', '--json'], { MVM_CONFIG: config })).principals).toEqual(['alice@example.com']);
      } finally {
        t.cleanup();
      }
    },
  );
});

/** The canonical signature object and its id. */
function signatureObject(target: string, signature: string): { bytes: Buffer; id: string } {
  const bytes = Buffer.from(
    canonicalJson({ type: 'signature', format: 1, target, namespace: 'mvm-version', signature }),
  );
  return { bytes, id: blake3Hex(bytes) };
}

describe('signatures on a remote', () => {
  it(
    'travel with push and clone and verify there; a signature made after the push travels with the next push and ' +
      'pull',
    () => {
      const { t, run } = workspace({ versions: 2 });
      try {
        ok(run(['sign', 'v1', '--key', key('alice')]));
        ok(run(['remote', 'add', 'origin', t.out('remote')]));
        expect(json(run(['push', '--json'])).signatures).toBe(1);
        expect(json(run(['push', '--json'])).signatures).toBe(0);
        const keysThere = readdirSync(t.out('remote/signatures'), { recursive: true }).map(String);
        expect(keysThere.some((k) => /^[0-9a-f]{64}\/[0-9a-f]{64}\.\d+$/.test(k))).toBe(true);
        ok(run(['clone', t.out('remote'), t.out('c')]));
        const c = t.out('c');
        writeFileSync(join(c, '.mvm-allowed-signers'), allowedLine('alice@example.com', 'alice'));
        expect(json(run(['verify', 'v1', '--json'], {}, c)).principals).toEqual(['alice@example.com']);
        expectError(run(['verify', 'v2', '--json'], {}, c), 'NOT_SIGNED', 1);
        ok(run(['sign', 'v2', '--key', key('alice')]));
        const p = json(run(['push', '--json']));
        expect([p.objects, p.signatures]).toEqual([0, 1]);
        ok(run(['pull'], {}, c));
        expect(json(run(['verify', 'v2', '--json'], {}, c)).principals).toEqual(['alice@example.com']);
        ok(run(['fsck'], {}, c));
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'a signature moved to another version on the remote is fetched but is BAD_SIGNATURE; a file that does not ' +
      'match its id, or names a size over the cap, refuses the fetch and stores nothing',
    () => {
      const { t, run } = workspace({ versions: 2 });
      try {
        ok(run(['sign', 'v1', '--key', key('alice')]));
        ok(run(['remote', 'add', 'origin', t.out('remote')]));
        ok(run(['push']));
        const [v1, v2] = [json(run(['show', 'v1', '--json'])), json(run(['show', 'v2', '--json']))];
        const armored = json(run(['verify', 'v1', '--json'])).signatures[0].id;
        const sigText = JSON.parse(
          readFileSync(
            join(t.out('remote/signatures'), v1.id, readdirSync(join(t.out('remote/signatures'), v1.id))[0]!),
            'utf8',
          ),
        ).signature;
        expect(armored).toMatch(/^[0-9a-f]{64}$/);
        // an attacker with write access to the bucket copies alice's signature of v1 onto v2
        const moved = signatureObject(v2.id, sigText);
        write(t.out(`remote/signatures/${v2.id}/${moved.id}.${moved.bytes.length}`), moved.bytes);
        ok(run(['clone', t.out('remote'), t.out('c')]));
        const c = t.out('c');
        writeFileSync(join(c, '.mvm-allowed-signers'), allowedLine('alice@example.com', 'alice'));
        expect(expectError(run(['verify', 'v2', '--json'], {}, c), 'BAD_SIGNATURE', 1).data.status).toBe('bad');
        expect(json(run(['verify', 'v1', '--json'], {}, c)).status).toBe('verified');
        // bytes that do not hash to the name: refused at the door
        rmSync(t.out(`remote/signatures/${v2.id}`), { recursive: true });
        write(t.out(`remote/signatures/${v2.id}/${'0'.repeat(64)}.${moved.bytes.length}`), moved.bytes);
        const d = t.out('d');
        expectError(run(['clone', t.out('remote'), d, '--json']), 'REMOTE_CORRUPT', 7);
        expect(existsSync(d)).toBe(false);
        const before = readdirSync(t.out('c/.mvm/logs')).includes('signatures')
          ? readFileSync(t.out('c/.mvm/logs/signatures'), 'utf8')
          : '';
        expectError(run(['fetch', '--json'], {}, c), 'REMOTE_CORRUPT', 7);
        expect(readFileSync(t.out('c/.mvm/logs/signatures'), 'utf8')).toBe(before);
        ok(run(['fsck'], {}, c));
        // a name that says more bytes than a signature may hold is refused before it is read
        rmSync(t.out(`remote/signatures/${v2.id}`), { recursive: true });
        write(t.out(`remote/signatures/${v2.id}/${moved.id}.999999`), 'x');
        expectError(run(['fetch', '--json'], {}, c), 'REMOTE_CORRUPT', 7);
        // a signature object with a field too many is refused even when its hash matches
        rmSync(t.out(`remote/signatures/${v2.id}`), { recursive: true });
        const extra = Buffer.from(
          canonicalJson({
            type: 'signature',
            format: 1,
            target: v2.id,
            namespace: 'mvm-version',
            signature: sigText,
            by: 'alice',
          }),
        );
        write(t.out(`remote/signatures/${v2.id}/${blake3Hex(extra)}.${extra.length}`), extra);
        expectError(run(['fetch', '--json'], {}, c), 'REMOTE_CORRUPT', 7);
        ok(run(['fsck'], {}, c));
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('environments that require signed versions', () => {
  it(
    'deploy refuses a version nobody signed (--no-gates too) or one signed by a key not allowed, and accepts one ' +
      'alice signed',
    () => {
      const { t, run } = workspace();
      try {
        ok(run(['env', 'production', '--require-signed']));
        expect(json(run(['env', 'production', '--json'])).config.requireSigned).toBe(true);
        expectError(run(['deploy', 'v1', '--env', 'production', '--json']), 'NOT_SIGNED', 1);
        expectError(run(['deploy', 'v1', '--env', 'production', '--no-gates', '--json']), 'NOT_SIGNED', 1);
        ok(run(['sign', 'v1', '--key', key('bob')]));
        expectError(run(['deploy', 'v1', '--env', 'production', '--json']), 'SIGNER_NOT_ALLOWED', 1);
        ok(run(['sign', 'v1', '--key', key('alice')]));
        expect(json(run(['deploy', 'v1', '--env', 'production', '--json'])).changed).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'promote refuses what an env without the requirement serves while it is unsigned, and takes it once alice ' +
      'signed it',
    () => {
      const { t, run } = workspace({ versions: 2 });
      try {
        ok(run(['env', 'staging', '--create']));
        ok(run(['deploy', 'v1', '--env', 'staging']));
        ok(run(['env', 'production', '--require-signed']));
        expectError(run(['promote', 'staging', 'production', '--json']), 'NOT_SIGNED', 1);
        expectError(run(['show', 'deployed:production', '--json']), 'NOTHING_DEPLOYED', 4);
        ok(run(['sign', 'v1', '--key', key('alice')]));
        expect(json(run(['promote', 'staging', 'production', '--json'])).to).toBe(
          json(run(['show', 'v1', '--json'])).id,
        );
      } finally {
        t.cleanup();
      }
    },
  );

  it('rollback to an unsigned version is refused too; --no-require-signed lifts the requirement', () => {
    const { t, run } = workspace({ versions: 2 });
    try {
      ok(run(['env', 'production', '--create']));
      ok(run(['deploy', 'v1', '--env', 'production']));
      ok(run(['sign', 'v2', '--key', key('alice')]));
      ok(run(['env', 'production', '--require-signed']));
      ok(run(['deploy', 'v2', '--env', 'production']));
      expectError(run(['rollback', '--env', 'production', '--json']), 'NOT_SIGNED', 1);
      expect(json(run(['show', 'deployed:production', '--json'])).number).toBe(2);
      // --no-require-signed lifts it
      ok(run(['env', 'production', '--no-require-signed']));
      expect(json(run(['env', 'production', '--json'])).config.requireSigned).toBeUndefined();
      ok(run(['rollback', '--env', 'production']));
      expect(json(run(['show', 'deployed:production', '--json'])).number).toBe(1);
    } finally {
      t.cleanup();
    }
  });
});
