import { escapeControls } from './format/text.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
// scripts/bundle.mjs points this at yargs' CommonJS build, which loads faster than its ESM build
import yargs from 'yargs/yargs';
import { EXIT, MvmError, fromSystemError } from '../errors.js';
import { suggest } from '../core/suggest.js';
import type { Command, GlobalArgs } from './context.js';
/** A loaded command module: its exports, some of which are commands. */
type CommandModuleExports = Record<string, unknown>;

/**
 * Every command the CLI knows, in the order `--help` lists them, with the
 * module that defines it. Modules load on demand: a run of one command loads
 * only that command's module, which keeps short commands short.
 */
const COMMANDS: [name: string, load: () => Promise<CommandModuleExports>][] = [
  ['init', () => import('./commands/init.js')],
  ['add', () => import('./commands/add.js')],
  ['rm', () => import('./commands/add.js')],
  ['status', () => import('./commands/status.js')],
  ['commit', () => import('./commands/commit.js')],
  ['log', () => import('./commands/log.js')],
  ['show', () => import('./commands/show.js')],
  ['sign', () => import('./commands/sign.js')],
  ['verify', () => import('./commands/sign.js')],
  ['diff', () => import('./commands/diff.js')],
  ['checkout', () => import('./commands/checkout.js')],
  ['branch', () => import('./commands/refs.js')],
  ['tag', () => import('./commands/refs.js')],
  ['deploy', () => import('./commands/deploy.js')],
  ['rollback', () => import('./commands/deploy.js')],
  ['promote', () => import('./commands/deploy.js')],
  ['deployments', () => import('./commands/deploy.js')],
  ['env', () => import('./commands/env.js')],
  ['export', () => import('./commands/export.js')],
  ['get', () => import('./commands/get.js')],
  ['fsck', () => import('./commands/fsck.js')],
  ['gc', () => import('./commands/gc.js')],
  ['annotate', () => import('./commands/annotate.js')],
  ['compare', () => import('./commands/compare.js')],
  ['eval', () => import('./commands/evaluate.js')],
  ['best', () => import('./commands/best.js')],
  ['lineage', () => import('./commands/lineage.js')],
  ['report', () => import('./commands/report.js')],
  ['remote', () => import('./commands/remote.js')],
  ['push', () => import('./commands/push.js')],
  ['fetch', () => import('./commands/fetch.js')],
  ['pull', () => import('./commands/pull.js')],
  ['clone', () => import('./commands/clone.js')],
  ['hooks', () => import('./commands/hooks.js')],
  ['follow', () => import('./commands/follow.js')],
  ['merge-lock', () => import('./commands/mergeLock.js')],
];

/** The command named `name` among a module's exports (its `command` starts with the name). */
function commandIn(exports: CommandModuleExports, name: string): Command<GlobalArgs> {
  for (const v of Object.values(exports)) {
    const c = v as Partial<Command<GlobalArgs>> | null;
    if (
      c &&
      typeof c === 'object' &&
      typeof c.command === 'string' &&
      typeof c.run === 'function' &&
      c.command.split(' ')[0] === name
    )
      return c as Command<GlobalArgs>;
  }
  throw new Error(`no command '${name}' in its module`);
}

/**
 * The command word of a command line: the first argument that is not an
 * option (skipping `-C DIR`). Null when there is none, or when the line asks
 * for shell completions (which need every command).
 */
export function commandWord(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--get-yargs-completions' || a === '--') return null;
    if (a === '-C' || a === '--C') i++;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/** Words yargs itself answers besides the commands. */
const BUILT_IN = new Set(['help', 'completion']);

/**
 * Refuses a command line whose command word is no command, with or without
 * `--help` (yargs would print the general help and exit 0 for `mvm lgo --help`,
 * so a script could not tell that the command does not exist).
 */
function assertKnownCommand(args: string[]): void {
  const word = commandWord(args);
  if (word === null || BUILT_IN.has(word) || COMMANDS.some(([name]) => name === word)) return;
  const names = COMMANDS.map(([name]) => name);
  // a short word with two letters swapped (lgo) is further than suggest allows for its length
  const letters = (w: string) => [...w.toLowerCase()].sort().join('');
  const near = suggest(word, names);
  if (!near.length) near.push(...names.filter((n) => n.length === word.length && letters(n) === letters(word)));
  const mean = near.length ? ` (did you mean ${near.map((n) => `'${n}'`).join(' or ')}?)` : '';
  throw new MvmError('BAD_ARGUMENT', `'${word}' is not an mvm command${mean}`, {
    command: word,
    ...(near.length ? { suggestions: near } : {}),
    hint: 'see mvm --help',
  });
}

/** The commands to register for `args`: the one it names, or every command (help, completion, a typo). */
async function commandsFor(args: string[]): Promise<Command<GlobalArgs>[]> {
  const word = commandWord(args);
  const named = COMMANDS.find(([name]) => name === word);
  const wanted = named && !args.includes('--get-yargs-completions') ? [named] : COMMANDS;
  return Promise.all(wanted.map(async ([name, load]) => commandIn(await load(), name)));
}

/** The version in mvm's own package.json (yargs looks beside the entry script and finds none). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8'),
    ) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
/** Read once, at module load: the start-up snapshot holds it, as it holds the code of the same package.json. */
const VERSION = packageVersion();

/** Loads every command module (the start-up snapshot evaluates them all when it is built). */
export async function loadCommands(): Promise<void> {
  await Promise.all(COMMANDS.map(([, load]) => load()));
}

/** What yargs' getOptions returns, the parts read here. */
interface ParserOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  hiddenOptions?: string[];
}

/** The option names a parser knows (aliases too, not camelCase copies or hidden ones), as typed: `-n`, `--all`. */
function optionNames(y: Argv<GlobalArgs>): string[] {
  // getOptions is yargs' own (not in its types): the keys, aliases and hidden options declared so far
  const o = (y as unknown as { getOptions(): ParserOptions }).getOptions();
  const hidden = new Set(o.hiddenOptions ?? []);
  const names = [...Object.keys(o.key), ...Object.values(o.alias).flat()];
  return [...new Set(names)]
    .filter((k) => k !== '$0' && k !== '_' && !hidden.has(k) && !/[A-Z]/.test(k.slice(1)))
    .map((k) => (k.length === 1 ? `-${k}` : `--${k}`));
}

/**
 * The error for options no command knows, each with the closest known options (`--onelin`: did you mean
 * `--oneline`?); null when the unknown arguments are not options (an extra word) so yargs' message stands.
 */
export function unknownFlags(args: string[], unknown: string[], known: string[]): MvmError | null {
  const typed = (n: string) =>
    args.some((a) => a === `-${n}` || a === `--${n}` || a.startsWith(`--${n}=`) || a === `--no-${n}`);
  const flags = unknown.filter((n) => n && typed(n)).map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
  if (!flags.length) return null;
  const near = flags.map((f) => (f.length > 3 ? suggest(f, known) : []));
  const words = flags.map((f, i) => `${f}${near[i]!.length ? ` (did you mean ${near[i]!.join(' or ')}?)` : ''}`);
  const suggestions = [...new Set(near.flat())];
  return new MvmError('BAD_ARGUMENT', `unknown option${flags.length > 1 ? 's' : ''} ${words.join(', ')}`, {
    options: flags,
    ...(suggestions.length ? { suggestions } : {}),
    hint: `see mvm ${commandWord(args) ?? ''} --help`.replace('  ', ' '),
  });
}

/** Builds the parser; each command's `run` result lands in `exit.code`. */
function parser(args: string[], commands: Command<GlobalArgs>[], exit: { code: number }): Argv<GlobalArgs> {
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
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .completion(
      'completion',
      'Print a shell completion script (bash, or zsh when run from zsh): mvm completion >> ~/.bashrc',
    )
    .version(VERSION)
    .example('mvm init && mvm add models/ && mvm commit -m baseline --metric accuracy=0.91', 'start versioning a model')
    .example('mvm log --oneline && mvm diff v1 v2', 'see what changed')
    .epilog('Exit codes are listed in docs/exit-codes.md. Each command has examples: mvm <command> --help')
    .fail((msg, err) => {
      if (err) throw err;
      // yargs words some messages over two lines ("Invalid values:\n  Argument: ..."): mvm prints one
      const line = (msg ?? 'bad arguments').replace(/\s*\n\s*/g, ' ');
      const names = known.length ? known : optionNames(y);
      const unknown =
        /^Unknown arguments?: (.+)$/.exec(line)?.[1]?.split(', ') ??
        // `mvm --verison`: no command, so yargs asks for one; the option is what is wrong
        (commandWord(args) === null
          ? args
              .filter((a) => a.startsWith('-') && !names.includes(a.replace(/=.*$/, '')) && a !== '--json')
              .map((a) => a.replace(/^-+|=.*$/g, ''))
          : []);
      const flagError = unknownFlags(args, unknown, names);
      if (flagError) throw flagError;
      throw new MvmError('BAD_ARGUMENT', line, { hint: 'see mvm --help' });
    }) as Argv<GlobalArgs>;
  // yargs renders and caches every command's whole help text before running its handler (about 10 ms), for a
  // failure it would print help for; mvm's fail handler above never prints help, so the text is never used
  (y as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } })
    .getInternalMethods()
    .getUsageInstance().cacheHelpMessage = () => {};
  // the option names of the command being parsed, read when its builder has run (for "did you mean --x?")
  let known: string[] = [];
  for (const { run, builder, ...c } of commands) {
    y = y.command({
      ...c,
      builder:
        typeof builder === 'function'
          ? (b: Argv<GlobalArgs>) => {
              const built = (builder as (b: Argv<GlobalArgs>) => Argv<GlobalArgs>)(b) ?? b;
              known = optionNames(built);
              return built;
            }
          : builder,
      handler: async (argv: never) => {
        exit.code = (await run(argv)) ?? EXIT.ok;
      },
    } as never);
  }
  // measuring the terminal for wrapping is slow; only help output needs it
  return args.some((a) => a === '--help' || a === '-h' || a === 'help')
    ? y.wrap(Math.min(110, process.stdout.columns || 100))
    : y.wrap(null);
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
    assertKnownCommand(args);
    await parser(args, await commandsFor(args), exit).parseAsync();
    return exit.code;
  } catch (e) {
    const err =
      e instanceof MvmError
        ? e
        : (e as NodeJS.ErrnoException)?.code &&
            typeof (e as NodeJS.ErrnoException).code === 'string' &&
            /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
          ? fromSystemError(e, (e as NodeJS.ErrnoException).path ?? '', 'accessing')
          : null;
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
