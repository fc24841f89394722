import type { EnvState } from '../../ops/env.js';
import type { ServingLayout } from '../../repo/deploy/index.js';
import { MvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  environment?: string;
  name?: string;
  require?: string[];
  betterThanCurrent?: string;
  lowerIsBetter?: boolean;
  export?: string;
  layout?: string;
  /** The old spelling of --name, kept working for scripts (hidden, deprecated). */
  model?: string;
  keep?: number;
  path?: string;
  hook?: string[];
  onHookFailure?: 'keep' | 'undo';
  clearGates?: boolean;
  clearExport?: boolean;
  clearHooks?: boolean;
  requireSigned?: boolean;
  create?: boolean;
  remove?: boolean;
}

function describeEnv(s: EnvState): string[] {
  const c = s.config;
  const out = [
    `${s.env}: ${s.id ? versionLabel(s.id, s.number) : '(nothing deployed)'}${s.moves ? `, ${s.moves} move(s)` : ''}`,
  ];
  for (const r of c.require ?? []) out.push(`  require: ${r}`);
  if (c.betterThanCurrent)
    out.push(`  better than current: ${c.betterThanCurrent}${c.direction ? ` (${c.direction} is better)` : ''}`);
  if (c.export)
    out.push(
      `  serving folder: ${c.export.dir}/${c.export.name} (${c.export.layout}` +
        `${c.export.keep ? `, keep ${c.export.keep}` : ''}${c.export.path ? `, files under ${c.export.path}` : ''})`,
    );
  else if (c.serving)
    out.push(
      `  serving layout: ${c.serving.name} (${c.serving.layout}` +
        (c.serving.keep ? `, keep ${c.serving.keep}` : '') +
        (c.serving.path ? `, files under ${c.serving.path}` : '') +
        `); no serving folder here (mvm env ${s.env} --export DIR)`,
    );
  for (const h of c.hooks ?? []) out.push(`  hook: ${h}`);
  if (c.hooks?.length) out.push(`  on hook failure: ${c.onHookFailure ?? 'keep'}`);
  if (c.requireSigned)
    out.push(
      '  signatures: required (an allowed signer must have signed every version deployed, promoted or rolled back to)',
    );
  return out;
}

/** `mvm env`: list environments, or show and change one's gates, serving folder and hooks. */
export const envCommand: Command<Args> = {
  command: 'env [environment]',
  describe: "List deploy environments, or show and set one's gates, serving folder and hooks (kept in .mvm/envs.json)",
  builder: (y) =>
    y
      .positional('environment', { type: 'string', describe: 'The environment to show or change' })
      .option('require', {
        type: 'string',
        array: true,
        describe: 'Gate conditions every deploy must meet (replaces the stored ones)',
      })
      .option('better-than-current', {
        type: 'string',
        describe: 'A metric every deploy must beat the current version on',
      })
      .option('lower-is-better', { type: 'boolean', describe: 'For --better-than-current: smaller values win' })
      .option('export', { type: 'string', describe: 'Serving folder kept in step with the env' })
      .option('layout', { type: 'string', choices: ['tf-serving', 'triton'] })
      .option('name', { type: 'string', describe: 'Model name in the serving folder (as deploy and export call it)' })
      // the old name of --name: hidden, still accepted so existing scripts keep working
      .option('model', { type: 'string', hidden: true })
      .option('keep', { type: 'number', describe: 'Numbered folders to keep' })
      .option('path', { type: 'string', describe: 'Export only the files under this path' })
      .option('hook', {
        type: 'string',
        array: true,
        describe: 'Shell command run after each deploy, promote and rollback (replaces the stored ones)',
      })
      .option('on-hook-failure', {
        type: 'string',
        choices: ['keep', 'undo'],
        describe: 'When a hook fails: keep the move or undo it',
      })
      .option('clear-gates', { type: 'boolean' })
      .option('clear-export', { type: 'boolean' })
      .option('clear-hooks', { type: 'boolean' })
      .option('require-signed', {
        type: 'boolean',
        describe: 'Refuse every move to a version no allowed signer signed (--no-require-signed lifts it)',
      })
      .option('create', { type: 'boolean', describe: 'Create the environment (deploys to unknown envs are refused)' })
      .option('remove', { type: 'boolean', describe: 'Remove the environment; its history is kept' })
      .option('json', { type: 'boolean' })
      .example('mvm env', 'every environment and what it serves')
      .example('mvm env staging --create', 'a new environment')
      .example(
        "mvm env production --require 'metrics.accuracy >= 0.9' --better-than-current f1",
        'gates for production',
      )
      .example(
        "mvm env production --hook 'curl -fsS -X POST localhost:8501/reload' --on-hook-failure undo",
        'tell the server, undo if it fails',
      ),
  run: async (argv) => {
    if (argv.name !== undefined && argv.model !== undefined && argv.name !== argv.model)
      throw new MvmError('BAD_ARGUMENT', '--model is the old name of --name: give one of them', {
        hint: 'mvm env production --export /srv/models --layout tf-serving --name resnet',
      });
    const model = argv.name ?? argv.model;
    const env = argv.environment;
    const { configureEnv, listEnvironments, removeEnv } = await import('../../ops/env.js');
    const repo = openRepo();
    const changing =
      argv.require ||
      argv.betterThanCurrent ||
      argv.lowerIsBetter !== undefined ||
      argv.export ||
      // without --export these are refused below, not ignored
      argv.layout ||
      model ||
      argv.keep ||
      argv.path ||
      argv.hook ||
      argv.onHookFailure ||
      argv.clearGates ||
      argv.clearExport ||
      argv.clearHooks ||
      argv.create ||
      argv.requireSigned !== undefined;
    if (!env) {
      if (changing)
        throw new MvmError('BAD_ARGUMENT', 'name the environment to change', {
          hint: 'mvm env production --require ...',
        });
      const all = listEnvironments(repo);
      if (argv.json) return printJson(all);
      if (!all.length) return print('no environment yet: mvm env NAME --create, or mvm deploy REV');
      for (const s of all) print(...describeEnv(s));
      return;
    }
    if (argv.remove) {
      if (changing)
        throw new MvmError('BAD_ARGUMENT', '--remove takes no settings', { hint: `mvm env ${env} --remove` });
      const r = await removeEnv(repo, env);
      if (argv.json) return printJson(r);
      return print(`Removed environment ${r.env} (its ${r.moves} move(s) are kept in its history)`);
    }
    let state: EnvState | undefined;
    if (changing) {
      // a layout describes a serving folder: given without one it would be dropped unseen
      if (!argv.export && (argv.layout || model || argv.keep || argv.path))
        throw new MvmError(
          'BAD_ARGUMENT',
          '--layout, --name, --keep and --path describe a serving folder: add --export',
          {
            hint: 'mvm env production --export /srv/models --layout tf-serving --name resnet',
          },
        );
      if (argv.export && (!argv.layout || !model))
        throw new MvmError('BAD_ARGUMENT', '--export DIR needs --layout and --name', {
          hint: 'mvm env production --export /srv/models --layout tf-serving --name resnet',
        });
      state = await configureEnv(repo, env, {
        require: argv.require,
        betterThanCurrent: argv.betterThanCurrent,
        direction: argv.lowerIsBetter === undefined ? undefined : argv.lowerIsBetter ? 'lower' : 'higher',
        export: argv.export
          ? {
              dir: argv.export,
              layout: argv.layout as ServingLayout,
              name: model!,
              ...(argv.keep ? { keep: argv.keep } : {}),
              ...(argv.path ? { path: argv.path } : {}),
            }
          : undefined,
        hooks: argv.hook,
        onHookFailure: argv.onHookFailure,
        clearGates: argv.clearGates,
        clearExport: argv.clearExport,
        clearHooks: argv.clearHooks,
        requireSigned: argv.requireSigned,
        create: argv.create,
      });
    } else {
      const { validateEnvName } = await import('../../core/revision.js');
      validateEnvName(env);
      state = listEnvironments(repo).find((s) => s.env === env);
      if (!state) {
        const { didYouMean, suggest } = await import('../../core/suggest.js');
        const names = listEnvironments(repo).map((s) => s.env);
        const near = suggest(env, names);
        throw new MvmError('UNKNOWN_ENV', `there is no environment '${env}'${didYouMean(env, names)}`, {
          env,
          envs: names,
          ...(near.length ? { suggestions: near } : {}),
          hint: `create it with mvm env ${env} --create`,
        });
      }
    }
    if (argv.json) return printJson(state);
    print(...describeEnv(state));
  },
};
