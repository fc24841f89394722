/** Real OpenSSH key pairs for the signing suites (commands/sign, commands/follow), in a temporary folder. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { testdir } from './cli.js';

export function sshKeys() {
  const keys = testdir();
  const key = (name: string) => keys.path(name);
  return {
    key,
    cleanup: keys.cleanup,
    /** Makes an ed25519 key pair KEY, KEY.pub (comment = name) with passphrase `pass`. */
    keygen(name: string, pass = ''): void {
      const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-C', name, '-f', key(name)], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
    },
    /** An allowed-signers line (git's format) for a key, limited to mvm's namespace. */
    allowedLine: (principal: string, name: string) =>
      `${principal} namespaces="mvm-version" ${readFileSync(key(`${name}.pub`), 'utf8').trim()}\n`,
  };
}
