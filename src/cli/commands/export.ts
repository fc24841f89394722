import type { ServingLayout } from '../../repo/deploy/index.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  rev: string;
  dir: string;
  layout: string;
  name: string;
  keep?: number;
  path?: string;
  force?: boolean;
  keepNewer?: boolean;
}

/** `mvm export`: write a version into a TF Serving or Triton model folder. */
export const exportCommand: Command<Args> = {
  command: 'export <rev> <dir>',
  describe: 'Write a version into a serving layout, DIR/NAME/<version number>/, complete or not at all',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', demandOption: true })
      .positional('dir', {
        type: 'string',
        demandOption: true,
        describe: 'The model repository folder the server polls',
      })
      .option('layout', { type: 'string', choices: ['tf-serving', 'triton'], demandOption: true })
      .option('name', { type: 'string', demandOption: true, describe: 'Model name: the folder under DIR' })
      .option('keep', {
        type: 'number',
        describe: 'Keep only the newest N numbered folders (never one an env points at)',
      })
      .option('path', {
        type: 'string',
        describe: 'Export only this file, or the files under this folder (relative to it)',
      })
      .option('keep-newer', {
        type: 'boolean',
        describe: 'Leave the numbered folders above this version (by default they go, so the server serves this one)',
      })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Replace a numbered folder that holds something else' })
      .option('json', { type: 'boolean' })
      .example('mvm export v5 /srv/models --layout tf-serving --name resnet --keep 3', 'writes /srv/models/resnet/5/')
      .example(
        'mvm export deployed:production /models --layout triton --name clf --path export/',
        'the files under export/ only',
      ),
  run: async (argv) => {
    const { exportServing } = await import('../../ops/export.js');
    const r = await exportServing(openRepo(), argv.rev, argv.dir, {
      layout: argv.layout as ServingLayout,
      name: argv.name,
      keep: argv.keep,
      path: argv.path,
      force: argv.force,
      keepNewer: argv.keepNewer,
    });
    if (argv.json) return printJson(r);
    print(
      r.written
        ? `Exported ${versionLabel(r.id, r.number)} to ${r.path}: ${r.files} file(s), ${formatBytes(r.bytes)}`
        : `${r.path} already holds ${versionLabel(r.id, r.number)}`,
    );
    if (r.removed.length) print(`removed version folders: ${r.removed.join(', ')}`);
    if (r.config) print(`wrote ${r.config} (the model's name and backend)`);
    if (r.above.length)
      print(
        `warning: ${r.above.join(', ')} above it remain${r.above.length > 1 ? '' : 's'}: ` +
          'a server serving the highest number serves that',
      );
  },
};
