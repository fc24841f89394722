import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  rev?: string;
  force?: boolean;
  lock?: boolean;
  only?: string[];
}

/** `mvm checkout`: make the workspace hold a version. */
export const checkoutCommand: Command<Args> = {
  command: 'checkout [rev]',
  describe: 'Restore the tracked files of a version or branch, bit for bit',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', describe: 'Version, branch, tag, vN...' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Discard local changes to tracked files' })
      .option('only', {
        type: 'string',
        array: true,
        describe: "Keep only these files or folders in the workspace (fetched if missing); '.' for all again",
      })
      .option('lock', {
        type: 'boolean',
        describe: 'The version mvm.lock names (after git checkout), fetched from origin if needed',
      })
      .option('json', { type: 'boolean' })
      .example('mvm checkout v1', 'the workspace now holds v1 (HEAD detached)')
      .example('mvm checkout main', 'back to the tip of branch main')
      .example('git checkout v1.2 && mvm checkout --lock', 'the model of that git commit')
      .example('mvm checkout v3 --only models/tokenizer.json', 'just that file of v3, fetching only its chunks'),
  run: async (argv) => {
    const { checkout } = await import('../../ops/checkout.js');
    const r = await checkout(openRepo(), argv.rev, {
      force: argv.force,
      lock: argv.lock,
      only: argv.only,
      progress: progressBar(!argv.quiet && !argv.json),
    });
    if (argv.json) return printJson(r);
    for (const p of r.written) print(`restored ${p}`);
    for (const p of r.removed) print(`removed  ${p}`);
    for (const p of r.chmod) print(`mode     ${p}`);
    const at = r.branch ? `Switched to branch ${r.branch} at` : 'HEAD is now at';
    const fetched = r.fetched.objects ? `; ${r.fetched.objects} chunk(s), ${formatBytes(r.fetched.bytes)} fetched` : '';
    print(
      `${at} ${versionLabel(r.id, r.number)}: ${r.written.length} written (${formatBytes(r.bytesWritten)}), ` +
        `${r.removed.length} removed, ${r.unchanged} unchanged${fetched}`,
    );
  },
};
