import type { TrackResult } from '../../ops/add.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson } from '../format/text.js';

interface Args extends GlobalArgs {
  paths: string[];
}

function report(r: TrackResult, verb: string, json?: boolean): void {
  if (json) {
    printJson(r);
    return;
  }
  for (const p of r.changed) print(`${verb} ${p}`);
  for (const p of r.unchanged) print(`already tracked: ${p}`);
  if (r.gitignore.length) print(`.gitignore: ${verb === 'tracking' ? 'added' : 'removed'} ${r.gitignore.join(' ')}`);
}

/** `mvm add`: track files or folders. */
export const addCommand: Command<Args> = {
  command: 'add <paths..>',
  describe: 'Track model files or folders (and tell git to ignore them)',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'Files or folders to track' })
      .option('json', { type: 'boolean' })
      .example('mvm add models/', 'track everything under models/')
      .example('mvm add model.safetensors tokenizer.json', 'track two files'),
  run: async (argv) => {
    const { add } = await import('../../ops/add.js');
    report(await add(openRepo(), argv.paths), 'tracking', argv.json);
  },
};

/** `mvm rm`: stop tracking files or folders. */
export const rmCommand: Command<Args> = {
  command: 'rm <paths..>',
  describe: 'Stop tracking files or folders (the files stay on disk and in old versions)',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, demandOption: true })
      .option('json', { type: 'boolean' })
      .example('mvm rm models/old.bin', 'untrack one file; the next commit no longer has it'),
  run: async (argv) => {
    const { rm } = await import('../../ops/add.js');
    report(await rm(openRepo(), argv.paths), 'untracked', argv.json);
  },
};
