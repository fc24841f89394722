import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { isMvmError, MvmError } from '../errors.js';
import { finishCloneAdvice, type Repository, unfinishedClone } from '../repo/repository/index.js';
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

/**
 * Opens the repository for a command from the current directory (main.ts has
 * already applied -C). In a clone that was interrupted, a note on stderr says
 * how to finish it; one interrupted before its store was whole says it in the
 * NOT_A_REPOSITORY error.
 */
export function openRepo(): Repository {
  let repo: Repository;
  try {
    repo = openRepository(process.cwd());
  } catch (e) {
    const clone = unfinishedClone(process.cwd());
    if (!clone || !isMvmError(e, 'NOT_A_REPOSITORY')) throw e;
    throw new MvmError('NOT_A_REPOSITORY', e.message, { ...e.data, hint: finishCloneAdvice(clone) });
  }
  const clone = unfinishedClone(repo.root);
  if (clone) process.stderr.write(`mvm: note: ${finishCloneAdvice(clone)}\n`);
  return repo;
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
