import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  rev: string;
  path: string;
  output?: string;
}

/** `mvm get`: one file of a version, written somewhere outside the workspace's checkout. */
export const getCommand: Command<Args> = {
  command: 'get <rev> <path>',
  describe: 'Write one file of a version (verified) to a path, leaving the workspace and HEAD as they are',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', demandOption: true })
      .positional('path', { type: 'string', demandOption: true, describe: 'The file, as the version names it' })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'Where to write it: a file, or an existing folder (default: its name, here)',
      })
      .option('json', { type: 'boolean' })
      .example('mvm get v3 models/model.safetensors -o /tmp/v3.safetensors', 'v3 of one file, beside the current one'),
  run: async (argv) => {
    const { get } = await import('../../ops/get.js');
    const r = await get(openRepo(), argv.rev, argv.path, argv.output);
    if (argv.json) return printJson(r);
    print(`${r.output}: ${r.path} of ${versionLabel(r.id, r.number)}, ${formatBytes(r.size)}`);
  },
};
