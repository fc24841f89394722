import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  'dry-run'?: boolean;
  grace?: number;
}

/** `mvm gc`: delete the objects nothing can reach. */
export const gcCommand: Command<Args> = {
  command: 'gc',
  describe:
    'Delete the objects no branch, tag, remote branch, deploy log, annotation or mvm.lock (now or in git history) ' +
    'can reach',
  builder: (y) =>
    y
      .option('dry-run', { alias: 'n', type: 'boolean', describe: 'Say what would be removed; remove nothing' })
      .option('grace', {
        type: 'number',
        describe: 'Keep unreachable objects written in the last DAYS days (default 1)',
      })
      .option('json', { type: 'boolean' })
      .example('mvm gc --grace 0', "after 'mvm branch -d NAME': free the space only that branch used")
      .example('mvm gc --dry-run', 'what would be removed'),
  run: async (argv) => {
    const { gc } = await import('../../ops/gc.js');
    const r = await gc(openRepo(), {
      dryRun: argv['dry-run'],
      graceDays: argv.grace,
      progress: progressBar(!argv.quiet && !argv.json, 'items'),
    });
    if (argv.json) return printJson(r);
    const verb = r.dryRun ? 'would remove' : 'removed';
    if (r.versions.length)
      print(
        `${verb} ${r.versions.length} version(s): ${r.versions.map((v) => versionLabel(v.id, v.number)).join(', ')}`,
      );
    print(
      `${verb} ${r.removed.objects} object(s), ${formatBytes(r.removed.bytes)}; ${r.reachable} reachable object(s) ` +
        `kept`,
    );
    if (r.young.objects)
      print(
        `kept ${r.young.objects} unreachable object(s), ${formatBytes(r.young.bytes)}, written in the last ` +
          `${r.graceDays} day(s) (--grace 0 removes them)`,
      );
  },
};
