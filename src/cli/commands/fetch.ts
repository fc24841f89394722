import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { divergedWarning, formatBytes, print, printJson } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  remote?: string;
  full?: boolean;
  jobs?: number;
}

/** `mvm fetch`: download a remote's branches, tags and versions. */
export const fetchCommand: Command<Args> = {
  command: 'fetch [remote]',
  describe:
    "Download a remote's branches (as REMOTE/BRANCH), tags and the versions they reach; the workspace is not touched",
  builder: (y) =>
    y
      .positional('remote', { type: 'string', describe: 'Remote name (default origin)' })
      .option('full', {
        type: 'boolean',
        describe:
          'Also fetch every object the versions here need and lack (what fsck --repair set aside); in a partial ' +
          'store (a clone without --full), every chunk it lacks, kept from now on',
      })
      .option('jobs', { alias: 'j', type: 'number', describe: 'Transfers at once' })
      .option('json', { type: 'boolean' })
      .example('mvm fetch && mvm log origin/main', 'see what the team pushed')
      .example('mvm fetch --full', 'before going offline: every version of this clone restorable without the remote'),
  run: async (argv) => {
    const { fetch } = await import('../../ops/fetch.js');
    const r = await fetch(openRepo(), {
      remote: argv.remote,
      full: argv.full,
      jobs: argv.jobs,
      progress: progressBar(!argv.quiet && !argv.json),
    });
    if (argv.json) return printJson(r);
    for (const x of r.rewound)
      print(
        `warning: ${x.ref} on ${r.remote} no longer contains ${x.from.slice(0, 12)} (a forced push, or a push that ` +
          `lost a race)`,
      );
    for (const t of r.tagConflicts) print(`warning: tag ${t} differs on ${r.remote}; the local one is kept`);
    for (const w of divergedWarning(r.divergedNumbers, r.remote)) print(w);
    print(
      `fetched ${r.objects} object(s), ${formatBytes(r.bytes)}, ${r.requests} request(s) from ${r.remote}; ` +
        `${r.refs.length} ref(s)`,
    );
    for (const e of r.envs.changed) print(`  env ${e}: updated from ${r.remote}`);
    for (const e of r.envs.removed) print(`  env ${e}: removed on ${r.remote} (its history is kept here)`);
    for (const e of r.envs.missing) print(`  env ${e}: its version is not on ${r.remote}; left as it was`);
    if (r.completed) print(`fetched ${r.completed.chunks} chunk(s) this store lacked: it is a full store now`);
  },
};
