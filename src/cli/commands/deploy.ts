import type { DeployBestResult, ReleaseResult } from '../../ops/deploy.js';
import type { DeploymentRecord } from '../../ops/deployments.js';
import type { ServingLayout } from '../../repo/deploy/index.js';
import { MvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatDate, print, printJson, versionLabel } from '../format/text.js';
import { displayNumber } from '../../core/display.js';

interface Args extends GlobalArgs {
  rev?: string;
  env?: string;
  reason?: string;
  to?: string;
  require?: string[];
  betterThanCurrent?: string;
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
  best?: string;
  where?: string;
  all?: boolean;
  gates?: boolean;
  export?: string;
  layout?: string;
  name?: string;
  keep?: number;
  path?: string;
  from?: string;
}

const envLabel = (env: string) => (env === 'default' ? '' : ` to ${env}`);

/** `deploy --best`: which version was chosen, by what, over which better-ranked ones the gates refused. */
function bestLines(r: DeployBestResult): void {
  const b = r.best;
  const env = r.env === 'default' ? 'the default env' : r.env;
  const of = `of ${b.candidates} version(s) with ${b.metric}`;
  print(
    `  best by ${b.metric} (${b.direction} is better): ${displayNumber(b.value)}` +
      (b.skipped.length ? `, the best ${of} that passes ${env}'s gates` : `, the best ${of}`),
  );
  for (const c of b.skipped) {
    const n = c.number ? `v${c.number}` : c.id.slice(0, 12);
    print(`  skipped ${n} (${b.metric} ${displayNumber(c.value)}): ${c.failed.map((f) => f.message).join('; ')}`);
  }
}

/** Prints a move of an env: what moved, the gates it passed, the serving folder and hook output. */
export function report(r: ReleaseResult | DeployBestResult, json?: boolean): void {
  if (json) {
    printJson(r);
    return;
  }
  const from = r.from ? versionLabel(r.from, r.fromNumber) : 'nothing';
  const to = versionLabel(r.to, r.toNumber);
  const where = r.env === 'default' ? '' : ` (${r.env})`;
  if (!r.changed) print(`${to} is already deployed${envLabel(r.env)}`);
  else if (r.action === 'rollback') print(`Rolled back${where} to ${to} (was ${from})`);
  else if (r.action === 'promote') print(`Promoted ${to}${envLabel(r.env)} (was ${from})`);
  else print(`Deployed ${to}${envLabel(r.env)} (was ${from})`);
  if ('best' in r) bestLines(r);
  if (r.gates === 'skipped') print('  gates: skipped (--no-gates), recorded in the deploy log');
  else if (r.gates) for (const g of r.gates.passed) print(`  gate passed: ${g}`);
  if (r.export) {
    print(`  serving folder: ${r.export.path}${r.export.written ? '' : ' (already there)'}`);
    if (r.export.removed.length) print(`  removed version folders: ${r.export.removed.join(', ')}`);
  }
  // a hook that failed is an error (HOOK_FAILED, with its output); those that ran fine are listed
  for (const h of r.hooks) print(`  hook ran: ${h.command}`);
}

function historyLines(h: DeploymentRecord[]): void {
  if (!h.length) {
    print('nothing has been deployed yet');
    return;
  }
  for (const e of h) {
    const gates = e.gates === 'skipped' ? ' [gates skipped]' : '';
    const via = e.fromEnv ? ` (promoted from ${e.fromEnv})` : '';
    print(
      `${formatDate(e.time)}  ${e.env.padEnd(10)} ${e.action.padEnd(8)} ${versionLabel(e.to, e.toNumber)}  from ` +
        `${e.from ? versionLabel(e.from, e.fromNumber) : 'nothing'}${via}  by ` +
        `${e.who}${gates}${e.reason ? `: ${e.reason}` : ''}`,
    );
  }
}

function exportTarget(argv: Args) {
  if (argv.export === undefined) {
    if (argv.layout || argv.name || argv.keep !== undefined)
      throw new MvmError('BAD_ARGUMENT', '--layout, --name and --keep go with --export DIR');
    return undefined;
  }
  if (!argv.layout || !argv.name)
    throw new MvmError('BAD_ARGUMENT', '--export DIR needs --layout (tf-serving or triton) and --name', {
      hint: 'mvm deploy v5 --env production --export /srv/models --layout tf-serving --name resnet',
    });
  if (argv.keep !== undefined && !(Number.isSafeInteger(argv.keep) && argv.keep >= 1))
    throw new MvmError('BAD_VALUE', '--keep must be a whole number >= 1');
  return {
    dir: argv.export,
    layout: argv.layout as ServingLayout,
    name: argv.name,
    ...(argv.keep ? { keep: argv.keep } : {}),
    ...(argv.path ? { path: argv.path } : {}),
  };
}

/** `mvm deploy`: move an environment's pointer (or show the deploy history). */
export const deployCommand: Command<Args> = {
  command: 'deploy [rev]',
  describe:
    'Point an environment (default: "deployed") at a version, through its gates, serving folder and hooks; without ' +
    'REV, show the deploy history',
  builder: (y) =>
    y
      .positional('rev', { type: 'string' })
      .option('env', {
        alias: 'e',
        type: 'string',
        describe: 'Environment (default: default, the one "deployed" names)',
      })
      .option('reason', { alias: 'm', type: 'string', describe: 'Why (kept in the deploy log)' })
      .option('require', {
        type: 'string',
        array: true,
        describe: 'A condition the version must meet, in the --where language (repeatable)',
      })
      .option('better-than-current', {
        type: 'string',
        describe: "A metric the version must beat the env's current version on",
      })
      .option('best', {
        type: 'string',
        describe: 'Instead of REV: the best version by this metric (as `mvm best` ranks) that passes the gates',
      })
      .option('where', { type: 'string', describe: 'With --best: only versions matching this query' })
      .option('all', {
        type: 'boolean',
        describe: 'With --best: every branch, not only the versions HEAD descends from',
      })
      .option('lower-is-better', {
        type: 'boolean',
        describe: 'For --best and --better-than-current: smaller values win (default: inferred from the name)',
      })
      .option('higher-is-better', { type: 'boolean', describe: 'For --best and --better-than-current: larger wins' })
      .option('gates', {
        type: 'boolean',
        default: true,
        describe: 'Check the gates (--no-gates skips them; the log records it)',
      })
      .option('export', {
        type: 'string',
        describe: 'Keep this serving folder in step with the env (remembered for later moves)',
      })
      .option('layout', { type: 'string', choices: ['tf-serving', 'triton'], describe: 'Serving layout of --export' })
      .option('name', { type: 'string', describe: 'Model name: the folder DIR/NAME/<version number>/' })
      .option('keep', { type: 'number', describe: 'Numbered folders to keep in the serving folder' })
      .option('path', { type: 'string', describe: 'Export only the files under this path of the version' })
      .option('json', { type: 'boolean' })
      .example('mvm deploy v2 -m "beats v1 on recall"', 'deploy v2 to the default env')
      .example(
        "mvm deploy v5 --env production --require 'metrics.accuracy >= 0.9' --better-than-current f1",
        'gated deploy',
      )
      .example(
        'mvm deploy v5 --env production --export /srv/models --layout tf-serving --name resnet',
        'and keep a TF Serving folder in step',
      )
      .example(
        'mvm deploy --best accuracy --env production',
        'the best version on this branch that passes the gates of production',
      )
      .example('mvm deploy', 'who deployed what, when, and why'),
  run: async (argv) => {
    const repo = openRepo();
    if (argv.best !== undefined) return deployBest(repo, argv);
    if (argv.lowerIsBetter && argv.higherIsBetter)
      throw new MvmError('BAD_ARGUMENT', '--lower-is-better and --higher-is-better contradict each other');
    if (argv.where !== undefined || argv.all)
      throw new MvmError('BAD_ARGUMENT', '--where and --all go with --best METRIC', {
        hint: 'mvm deploy --best accuracy --env production --where \'meta.dataset = "v2"\'',
      });
    if (!argv.rev) {
      const { deployments } = await import('../../ops/deployments.js');
      const h = deployments(repo, { env: argv.env });
      if (argv.json) return printJson(h);
      return historyLines(h);
    }
    const { deploy } = await import('../../ops/deploy.js');
    const r = await deploy(repo, argv.rev, {
      env: argv.env,
      reason: argv.reason,
      require: argv.require,
      betterThanCurrent: argv.betterThanCurrent,
      lowerIsBetter: argv.lowerIsBetter ?? (argv.higherIsBetter ? false : undefined),
      noGates: argv.gates === false,
      export: exportTarget(argv),
    });
    report(r, argv.json);
  },
};

/** `mvm deploy --best METRIC`: the best version that passes the env's gates. */
async function deployBest(repo: ReturnType<typeof openRepo>, argv: Args): Promise<void> {
  if (argv.rev !== undefined)
    throw new MvmError('BAD_ARGUMENT', `give a version (${argv.rev}) or --best METRIC, not both`, {
      hint: 'mvm deploy --best accuracy --env production',
    });
  if (!argv.best) throw new MvmError('BAD_ARGUMENT', '--best needs a metric name', { hint: '--best accuracy' });
  const { deployBest } = await import('../../ops/deploy.js');
  const r = await deployBest(repo, {
    metric: argv.best,
    where: argv.where,
    all: argv.all,
    env: argv.env,
    reason: argv.reason,
    require: argv.require,
    betterThanCurrent: argv.betterThanCurrent,
    lowerIsBetter: argv.lowerIsBetter,
    higherIsBetter: argv.higherIsBetter,
    noGates: argv.gates === false,
    export: exportTarget(argv),
  });
  report(r, argv.json);
}

/** `mvm rollback`: back to the previous deployment of an env. */
export const rollbackCommand: Command<Args> = {
  command: 'rollback',
  describe: 'Move an environment back to its previous deployment (or --to REV); never gated',
  builder: (y) =>
    y
      .option('env', { alias: 'e', type: 'string', describe: 'Environment (default: default)' })
      .option('to', { type: 'string', describe: 'Roll back to this version instead' })
      .option('reason', { alias: 'm', type: 'string' })
      .option('json', { type: 'boolean' })
      .example('mvm rollback', 'undo the last deployment; run again to go further back')
      .example('mvm rollback --env production --to v1', 'put v1 back in production, logged as a rollback'),
  run: async (argv) => {
    const { rollback } = await import('../../ops/deploy.js');
    report(await rollback(openRepo(), { env: argv.env, to: argv.to, reason: argv.reason }), argv.json);
  },
};

/** `mvm promote`: deploy what one env serves to another. */
export const promoteCommand: Command<Args & { fromEnv?: string; toEnv?: string }> = {
  command: 'promote <fromEnv> <toEnv>',
  describe: "Deploy the version one environment serves to another, through the target's gates",
  builder: (y) =>
    y
      .positional('fromEnv', { type: 'string', demandOption: true })
      .positional('toEnv', { type: 'string', demandOption: true })
      .option('reason', { alias: 'm', type: 'string' })
      .option('require', {
        type: 'string',
        array: true,
        describe: 'An extra condition for this promotion (repeatable)',
      })
      .option('better-than-current', { type: 'string', describe: "A metric it must beat the target env's version on" })
      .option('gates', { type: 'boolean', default: true, describe: '--no-gates skips the gates (logged)' })
      .option('json', { type: 'boolean' })
      .example('mvm promote staging production -m "a week in staging"', 'ship what staging runs'),
  run: async (argv) => {
    const { promote } = await import('../../ops/promote.js');
    report(
      await promote(openRepo(), argv.fromEnv!, argv.toEnv!, {
        reason: argv.reason,
        require: argv.require,
        betterThanCurrent: argv.betterThanCurrent,
        noGates: argv.gates === false,
      }),
      argv.json,
    );
  },
};

/** `mvm deployments`: the deploy history of every env, or one. */
export const deploymentsCommand: Command<Args> = {
  command: 'deployments',
  describe: 'Who deployed what, where, when, from what and why: every environment, newest first',
  builder: (y) =>
    y
      .option('env', { alias: 'e', type: 'string', describe: 'Only this environment' })
      .option('json', { type: 'boolean' })
      .example('mvm deployments --env production', 'the production history'),
  run: async (argv) => {
    const { deployments } = await import('../../ops/deployments.js');
    const h = deployments(openRepo(), { env: argv.env });
    if (argv.json) return printJson(h);
    historyLines(h);
  },
};
