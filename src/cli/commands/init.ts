import { print, printJson, formatBytes } from '../format/text.js';
import type { Command, GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  chunkSize?: number;
  level?: number;
  fsync?: 'none' | 'refs' | 'all';
}

/** `mvm init`: create a repository in the current folder. */
export const initCommand: Command<Args> = {
  command: 'init',
  describe: 'Create an mvm repository (.mvm/) in the current folder',
  builder: (y) =>
    y
      .option('chunk-size', {
        type: 'number',
        describe: 'Chunk size in bytes (default 1 MiB); recorded per file, so old versions stay readable',
      })
      .option('level', {
        type: 'number',
        describe:
          'zstd level for stored chunks (0 = store raw; default 3, or init.compressionLevel of the user config)',
      })
      .option('fsync', {
        choices: ['none', 'refs', 'all'] as const,
        describe: "When to fsync: 'refs' (manifests and refs, default) or 'all' (every object too)",
      })
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .example('mvm init', 'create .mvm/ here and add it to .gitignore')
      .example('mvm init --chunk-size 4194304', 'use 4 MiB chunks'),
  run: async (argv) => {
    const { init } = await import('../../ops/init.js');
    const r = init({ chunkSize: argv.chunkSize, compressionLevel: argv.level, fsync: argv.fsync });
    if (argv.json) return printJson(r);
    print(`Initialized empty mvm repository in ${r.mvmDir} (chunk size ${formatBytes(r.chunkSize)})`);
  },
};
