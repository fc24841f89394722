import { MvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson } from '../format/text.js';

interface Args extends GlobalArgs {
  action: string;
}

/** `mvm hooks install`: git hooks that keep the model in step with git. */
export const hooksCommand: Command<Args> = {
  command: 'hooks <action>',
  describe:
    'Install git hooks: after git checkout/merge restore the model mvm.lock names; before git push, mvm push; ' +
    'and a merge driver for mvm.lock',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['install'], demandOption: true })
      .option('json', { type: 'boolean' })
      .example('mvm hooks install', 'existing hooks are kept; mvm says which line to add to them'),
  run: async (argv) => {
    if (argv.action !== 'install') throw new MvmError('BAD_ARGUMENT', `unknown hooks action '${argv.action}'`);
    const { installHooks } = await import('../../ops/hooks.js');
    const r = installHooks(openRepo());
    if (argv.json) return printJson(r);
    for (const h of r)
      print(
        h.outcome === 'kept'
          ? `kept ${h.path} (not mvm's): add the line '${h.line}' to it`
          : `${h.outcome} ${h.path}${h.hook === 'merge driver' ? ' (the merge driver for mvm.lock: commit it)' : ''}`,
      );
  },
};
