import { remoteOptions, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  url: string;
  dir?: string;
  rev?: string;
  only?: string[];
  full?: boolean;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  allowHttp?: boolean;
  jobs?: number;
}

/** `mvm clone`: a new repository from a remote. */
export const cloneCommand: Command<Args> = {
  command: 'clone <url> [dir]',
  describe: 'Create a repository from a remote (as origin) and check out its main branch',
  builder: (y) =>
    remoteOptions(y)
      .positional('url', {
        type: 'string',
        demandOption: true,
        describe: 's3://bucket/prefix, file:///path or a folder',
      })
      .positional('dir', { type: 'string', describe: 'Folder to create (default the last part of the URL)' })
      .option('rev', { type: 'string', describe: 'Branch, tag, vN or hash to check out (default main)' })
      .option('only', {
        type: 'string',
        array: true,
        describe: 'Only these files or folders: only their chunks are fetched',
      })
      .option('full', {
        type: 'boolean',
        describe:
          'Keep a local copy of every chunk (default: chunks other than the checked-out files stay on the remote ' +
          'until needed)',
      })
      .option('json', { type: 'boolean' })
      .example('mvm clone s3://models-bucket/team-a', 'a copy of the team repository in ./team-a')
      .example('mvm clone /mnt/share/mvm model --rev v12', 'version 12 in ./model')
      .example(
        'mvm clone s3://models-bucket/team-a --full',
        'with every chunk of every version kept here, for offline work',
      )
      .example('mvm clone s3://models-bucket/team-a --only models/config.json', 'one file, fetching only its chunks'),
  run: async (argv) => {
    const { clone, cloneTarget } = await import('../../ops/clone.js');
    const { finishCloneAdvice } = await import('../../repo/repository/index.js');
    // Ctrl-C or a kill: say how to finish (the folder is marked an unfinished clone), then end as the signal would
    const stop = (sig: NodeJS.Signals) => {
      const line = `mvm: ${finishCloneAdvice(cloneTarget(argv.url, argv.dir))}\n`;
      process.stderr.write(process.stderr.isTTY ? `\n${line}` : line); // after the progress bar
      process.kill(process.pid, sig);
    };
    const onSignal = { SIGINT: () => stop('SIGINT'), SIGTERM: () => stop('SIGTERM') } as const;
    for (const [sig, fn] of Object.entries(onSignal)) process.once(sig, fn);
    const r = await clone(argv.url, {
      dir: argv.dir,
      rev: argv.rev,
      only: argv.only,
      full: argv.full,
      endpoint: argv.endpoint,
      region: argv.region,
      pathStyle: argv.pathStyle,
      allowHttp: argv.allowHttp,
      jobs: argv.jobs,
      progress: progressBar(!argv.quiet && !argv.json),
    }).finally(() => {
      for (const [sig, fn] of Object.entries(onSignal)) process.removeListener(sig, fn);
    });
    if (argv.json) return printJson(r);
    print(
      `Cloned ${r.url} into ${r.dir}: ${r.branch ? `branch ${r.branch} at ` : ''}${versionLabel(r.id, r.number)}, ` +
        `${r.checkout.written.length} file(s), ${formatBytes(r.bytes)} fetched`,
    );
  },
};
