import type { Command, GlobalArgs } from '../context.js';
import { print, printJson } from '../format/text.js';

interface Args extends GlobalArgs {
  base: string;
  ours: string;
  theirs: string;
}

/** `mvm merge-lock BASE OURS THEIRS`: git's merge driver for mvm.lock (registered by `mvm hooks install`). */
export const mergeLockCommand: Command<Args> = {
  command: 'merge-lock <base> <ours> <theirs>',
  describe: false,
  builder: (y) =>
    y
      .positional('base', { type: 'string', demandOption: true })
      .positional('ours', { type: 'string', demandOption: true })
      .positional('theirs', { type: 'string', demandOption: true })
      .option('json', { type: 'boolean' }),
  run: async (argv) => {
    const { mergeLocks } = await import('../../ops/mergeLock.js');
    const r = mergeLocks(argv.base, argv.ours, argv.theirs);
    if (argv.json) printJson(r);
    if (r.outcome === 'merged') return;
    // git shows this, then reports mvm.lock as conflicted; the file holds our lock, valid as it stands
    print(
      `mvm.lock: both sides changed the model (ours ${r.ours.slice(0, 12)}, theirs ${r.theirs.slice(0, 12)}); ` +
        'ours is kept. To take theirs: git checkout --theirs mvm.lock. Then: git add mvm.lock && mvm checkout --lock',
    );
    return 1;
  },
};
