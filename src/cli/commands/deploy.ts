import type { DeployResult } from '../../ops/deploy.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatDate, print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  rev?: string;
  reason?: string;
  history?: boolean;
  to?: string;
}

function report(r: DeployResult, json?: boolean): void {
  if (json) return printJson(r);
  const from = r.from ? versionLabel(r.from, r.fromNumber) : '(nothing)';
  const verb = r.action === 'deploy' ? 'Deployed' : 'Rolled back to';
  print(r.changed ? `${verb} ${versionLabel(r.to, r.toNumber)} (was ${from})` : `${versionLabel(r.to, r.toNumber)} is already deployed`);
}

/** `mvm deploy`: move the deployed pointer (or show its history). */
export const deployCommand: Command<Args> = {
  command: 'deploy [rev]',
  describe: 'Point "deployed" at a version (logged, so rollback can undo it); without REV, show the deploy history',
  builder: (y) =>
    y
      .positional('rev', { type: 'string' })
      .option('reason', { alias: 'm', type: 'string', describe: 'Why (kept in the deploy log)' })
      .option('json', { type: 'boolean' })
      .example('mvm deploy v2 -m "beats v1 on recall"', 'deploy v2')
      .example('mvm deploy', 'who deployed what, when, and why'),
  run: async (argv) => {
    const { deploy, deployHistory } = await import('../../ops/deploy.js');
    const repo = openRepo();
    if (!argv.rev) {
      const h = deployHistory(repo);
      if (argv.json) return printJson(h);
      if (!h.length) return print('nothing has been deployed yet');
      for (const e of h) print(`${formatDate(e.time)}  ${e.action.padEnd(8)} ${versionLabel(e.to, e.toNumber)}  from ${e.from ? versionLabel(e.from, e.fromNumber) : '-'}  by ${e.who}${e.reason ? `: ${e.reason}` : ''}`);
      return;
    }
    report(await deploy(repo, argv.rev, { reason: argv.reason }), argv.json);
  },
};

/** `mvm rollback`: back to the previous deployment. */
export const rollbackCommand: Command<Args> = {
  command: 'rollback',
  describe: 'Move "deployed" back to the previous deployment (or --to REV)',
  builder: (y) =>
    y
      .option('to', { type: 'string', describe: 'Roll back to this version instead' })
      .option('reason', { alias: 'm', type: 'string' })
      .option('json', { type: 'boolean' })
      .example('mvm rollback', 'undo the last deployment; run again to go further back')
      .example('mvm rollback --to v1', 'deploy v1, logged as a rollback'),
  run: async (argv) => {
    const { rollback } = await import('../../ops/deploy.js');
    report(await rollback(openRepo(), { to: argv.to, reason: argv.reason }), argv.json);
  },
};
