import { escapeControls } from './format/text.js';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { EXIT, MvmError, fromSystemError } from '../errors.js';
import type { Command, GlobalArgs } from './context.js';
import { initCommand } from './commands/init.js';
import { addCommand, rmCommand } from './commands/add.js';
import { statusCommand } from './commands/status.js';
import { commitCommand } from './commands/commit.js';
import { logCommand } from './commands/log.js';
import { showCommand } from './commands/show.js';
import { checkoutCommand } from './commands/checkout.js';
import { branchCommand, tagCommand } from './commands/refs.js';
import { diffCommand } from './commands/diff.js';
import { deployCommand, deploymentsCommand, promoteCommand, rollbackCommand } from './commands/deploy.js';
import { envCommand } from './commands/env.js';
import { exportCommand } from './commands/export.js';
import { getCommand } from './commands/get.js';
import { fsckCommand } from './commands/fsck.js';
import { gcCommand } from './commands/gc.js';
import { annotateCommand } from './commands/annotate.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/evaluate.js';
import { bestCommand } from './commands/best.js';
import { lineageCommand } from './commands/lineage.js';
import { remoteCommand } from './commands/remote.js';
import { pushCommand } from './commands/push.js';
import { fetchCommand } from './commands/fetch.js';
import { pullCommand } from './commands/pull.js';
import { cloneCommand } from './commands/clone.js';
import { hooksCommand } from './commands/hooks.js';
import { reportCommand } from './commands/report.js';

/** Every command the CLI knows, in the order `--help` lists them. */
// each command has its own argument type; yargs checks them at parse time
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const COMMANDS: Command<any>[] = [
  initCommand, addCommand, rmCommand, statusCommand, commitCommand, logCommand, showCommand, diffCommand,
  checkoutCommand, branchCommand, tagCommand, deployCommand, rollbackCommand, promoteCommand, deploymentsCommand, envCommand, exportCommand, getCommand,
  fsckCommand, gcCommand,
  annotateCommand, compareCommand, evalCommand, bestCommand, lineageCommand, reportCommand,
  remoteCommand, pushCommand, fetchCommand, pullCommand, cloneCommand, hooksCommand,
];

// yargs' CommonJS bundle loads in a third of the time of its ESM build, which matters for a CLI
// whose read commands must answer in well under 300 ms.
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;

/** The version in mvm's own package.json (yargs looks beside the entry script and finds none). */
function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Builds the parser; each command's `run` result lands in `exit.code`. */
function parser(args: string[], exit: { code: number }): Argv<GlobalArgs> {
  let y = yargs(args)
    .scriptName('mvm')
    .usage('mvm <command> [options]\n\nA content-addressed version store for machine-learning models.')
    .option('C', { type: 'string', describe: 'Run as if mvm was started in this folder', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'No progress bars', global: true })
    .middleware((argv) => {
      if (argv.C) {
        try {
          process.chdir(argv.C);
        } catch (e) {
          throw fromSystemError(e, argv.C, 'entering');
        }
      }
    }, true)
    .demandCommand(1, 'name a command; see mvm --help')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .completion('completion', 'Print a shell completion script (bash, or zsh when run from zsh): mvm completion >> ~/.bashrc')
    .version(packageVersion())
    .example('mvm init && mvm add models/ && mvm commit -m baseline --metric accuracy=0.91', 'start versioning a model')
    .example('mvm log --oneline && mvm diff v1 v2', 'see what changed')
    .epilog('Exit codes are listed in docs/exit-codes.md. Each command has examples: mvm <command> --help')
    .fail((msg, err) => {
      if (err) throw err;
      throw new MvmError('BAD_ARGUMENT', msg ?? 'bad arguments', { hint: 'see mvm --help' });
    }) as Argv<GlobalArgs>;
  for (const { run, ...c } of COMMANDS) {
    y = y.command({ ...c, handler: async (argv: never) => { exit.code = (await run(argv)) ?? EXIT.ok; } } as never);
  }
  // measuring the terminal for wrapping is slow; only help output needs it
  return args.some((a) => a === '--help' || a === '-h' || a === 'help') ? y.wrap(Math.min(110, process.stdout.columns || 100)) : y.wrap(null);
}

/** Formats an error as the one line mvm prints on stderr. */
export function errorLine(e: MvmError): string {
  return `mvm: ${e.message}${e.data.hint ? ` (${e.data.hint})` : ''}`;
}

/** Runs the CLI with `args` and returns the process exit code; the only place that decides it. */
export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  try {
    const exit = { code: EXIT.ok as number };
    await parser(args, exit).parseAsync();
    return exit.code;
  } catch (e) {
    const err = e instanceof MvmError ? e : (e as NodeJS.ErrnoException)?.code && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!) ? fromSystemError(e, (e as NodeJS.ErrnoException).path ?? '', 'accessing') : null;
    if (!err) {
      process.stderr.write(`mvm: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      return EXIT.failure;
    }
    if (json) process.stdout.write(JSON.stringify({ error: err.toJSON() }, null, 2) + '\n');
    process.stderr.write(escapeControls(errorLine(err)) + '\n');
    return err.exitCode;
  }
}

/** Entry point used by bin/mvm.js. */
export async function main(args: string[]): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const code = await run(args);
  process.exitCode = code;
}
