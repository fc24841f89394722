import { paint } from '../format/color.js';
import { EXIT } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  exitCode?: boolean;
  short?: boolean;
}

const LETTER = { modified: 'M', added: 'A', deleted: 'D', mode: 'T' } as const;

/** `mvm status`: which tracked files changed since HEAD. */
export const statusCommand: Command<Args> = {
  command: 'status',
  describe: 'Show which tracked files changed since HEAD',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .option('short', { alias: 's', type: 'boolean', describe: 'One line per change: M/A/D/T and the path' })
      .option('exit-code', { type: 'boolean', describe: 'Exit with 1 when there are changes' })
      .example('mvm status', 'list modified, added and deleted tracked files')
      .example('mvm status --json | jq .clean', 'for scripts'),
  run: async (argv) => {
    const { status } = await import('../../ops/status.js');
    const r = await status(openRepo(), { progress: progressBar(!argv.quiet && !argv.json) });
    const code = argv.exitCode && !r.clean ? EXIT.failure : EXIT.ok;
    if (argv.json) {
      printJson(r);
      return code;
    }
    if (argv.short) {
      for (const c of r.changes) print(`${LETTER[c.status]} ${c.path}`);
      return code;
    }
    const at = r.head ? versionLabel(r.head, r.headNumber) : null;
    print(
      r.branch
        ? `On branch ${paint('branch', r.branch)}${at ? ` (${at})` : ', no versions yet'}`
        : `HEAD detached at ${at}`,
    );
    if (!r.tracked.length) print("Nothing is tracked yet; use 'mvm add PATH'.");
    if (r.clean)
      print(
        r.head
          ? 'nothing to commit, workspace matches HEAD'
          : r.tracked.length
            ? 'no files found under the tracked paths'
            : '',
      );
    else {
      print('Changes since HEAD:');
      for (const c of r.changes) {
        const kind = c.status === 'added' ? 'added' : c.status === 'deleted' ? 'removed' : 'modified';
        print(`  ${paint(kind, (c.status === 'mode' ? 'mode changed' : c.status).padEnd(14))}${c.path}`);
      }
    }
    for (const d of r.dataDrift)
      print(
        `warning: data ${d.path} changed since HEAD recorded it (${d.recorded.slice(0, 12)} -> ` +
          `${d.current ? d.current.slice(0, 12) : 'missing'})`,
      );
    if (r.lock && !r.lock.matchesHead)
      print(
        `warning: mvm.lock names ${versionLabel(r.lock.version, r.lock.number)}, not HEAD: 'mvm checkout --lock' ` +
          `restores it (after git checkout), 'mvm commit' or 'mvm checkout' rewrites it`,
      );
    else if (r.lock && !r.lock.matchesWorkspace) print(`warning: the workspace differs from what mvm.lock names`);
    return code;
  },
};
