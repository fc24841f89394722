import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Repository } from '../repo/repository/index.js';
import { openRepository } from '../repo/transfer/index.js';

/** Options every command accepts. */
export interface GlobalArgs {
  C?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * A CLI command: yargs' command module, with `run` in place of the handler.
 * `run` returns the exit code it asks for when it does not fail (nothing
 * means 0); cli/main.ts alone turns it, or a thrown MvmError, into the
 * process's exit code.
 */
export interface Command<A extends GlobalArgs> extends Omit<CommandModule<GlobalArgs, A>, 'handler'> {
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing exits 0
  run(argv: ArgumentsCamelCase<A>): Promise<number | void> | number | void;
}

/** Opens the repository for a command from the current directory (main.ts has already applied -C). */
export function openRepo(): Repository {
  return openRepository(process.cwd());
}

/** Options of the commands that open a remote by URL (clone, follow): where an S3 remote is; transfers at once. */
export function remoteOptions<T>(y: Argv<T>) {
  return y
    .option('endpoint', { type: 'string', describe: 'S3-compatible endpoint URL' })
    .option('allow-http', {
      type: 'boolean',
      describe: 'Consent to a plain http:// endpoint that is not this machine',
    })
    .option('region', { type: 'string' })
    .option('path-style', { type: 'boolean' })
    .option('jobs', { alias: 'j', type: 'number', describe: 'Transfers at once' });
}
