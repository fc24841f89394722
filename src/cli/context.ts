import { Repository } from '../ops/repository.js';

/** Options every command accepts. */
export interface GlobalArgs {
  C?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Opens the repository for a command: from -C DIR when given, else the current directory. */
export function openRepo(argv: GlobalArgs): Repository {
  return Repository.open(argv.C ?? process.cwd());
}

/** The exit code a command handler asks for when it does not fail. */
export let requestedExit = 0;

/** Asks for a non-zero exit without an error (e.g. `status --exit-code` on a dirty workspace). */
export function setExit(code: number): void {
  requestedExit = code;
}
