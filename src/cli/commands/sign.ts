import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';
import { signatureLine } from '../format/signature.js';

interface SignArgs extends GlobalArgs {
  rev: string;
  key?: string;
}

/** `mvm sign`: sign an existing version with an SSH key. */
export const signCommand: Command<SignArgs> = {
  command: 'sign [rev]',
  describe: 'Sign an existing version with your SSH key (ssh-keygen -Y sign, namespace mvm-version)',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', default: 'HEAD' })
      .option('key', {
        alias: 'sign-key',
        type: 'string',
        describe:
          'SSH key: a private key, or a .pub whose private half is in ssh-agent (default: signing.key in the user ' +
          'config)',
      })
      .option('json', { type: 'boolean' })
      .example('mvm sign v3 --key ~/.ssh/id_ed25519.pub', 'sign v3 with a key held by ssh-agent'),
  run: async (argv) => {
    const { sign } = await import('../../ops/sign.js');
    const r = await sign(openRepo(), argv.rev, { key: argv.key });
    if (argv.json) return printJson(r);
    print(`signed ${versionLabel(r.target, r.number)} with ${r.key}: signature ${r.signature.slice(0, 12)}`);
  },
};

interface VerifyArgs extends GlobalArgs {
  rev: string;
}

/** `mvm verify`: check a version's signatures against the allowed signers. */
export const verifyCommand: Command<VerifyArgs> = {
  command: 'verify [rev]',
  describe: 'Check that an allowed signer (.mvm-allowed-signers) signed a version; exits 1 when not',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', default: 'HEAD' })
      .option('json', { type: 'boolean' })
      .example('mvm verify deployed:production', 'who signed what production serves'),
  run: async (argv) => {
    const { verify } = await import('../../ops/verify.js');
    const r = verify(openRepo(), argv.rev);
    if (argv.json) return printJson(r);
    for (const s of r.signatures) print(`${versionLabel(r.target, r.number)}: ${signatureLine(s)}`);
  },
};
