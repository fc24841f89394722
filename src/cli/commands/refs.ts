import type { RefInfo } from '../../ops/refs.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  name?: string;
  rev?: string;
  delete?: boolean;
  D?: boolean;
  force?: boolean;
}

function refCommand(kind: 'branch' | 'tag'): Command<Args> {
  return {
    command: `${kind} [name] [rev]`,
    describe: kind === 'branch' ? 'List, create or delete branches' : 'List, create or delete tags',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: `Name of the ${kind} to create or delete` })
        .positional('rev', { type: 'string', describe: 'Version it names (default HEAD)' })
        .option('delete', {
          alias: 'd',
          type: 'boolean',
          describe:
            kind === 'branch' ? 'Delete the branch (refused when nothing else reaches its versions)' : 'Delete the tag',
        })
        .option('D', {
          type: 'boolean',
          hidden: kind !== 'branch',
          describe: 'Delete the branch even if nothing else reaches its versions',
        })
        .option('force', { alias: 'f', type: 'boolean', describe: `Move an existing ${kind}` })
        .option('json', { type: 'boolean' })
        .example(`mvm ${kind}`, `list ${kind}es`.replace('tages', 'tags'))
        .example(`mvm ${kind} ${kind === 'branch' ? 'experiment v3' : 'prod-2026-11 v5'}`, `create a ${kind}`)
        .example(`mvm ${kind} -d ${kind === 'branch' ? 'experiment' : 'prod-2026-11'}`, `delete it`),
    run: async (argv) => {
      const { createRef, deleteRef, listRefs } = await import('../../ops/refs.js');
      const repo = openRepo();
      let out: RefInfo | RefInfo[];
      if (!argv.name) out = listRefs(repo, kind);
      else if (argv.delete || argv.D) out = await deleteRef(repo, kind, argv.name, !!argv.D);
      else out = await createRef(repo, kind, argv.name, argv.rev ?? 'HEAD', argv.force);
      if (argv.json) return printJson(out);
      if (Array.isArray(out)) {
        for (const r of out) print(`${r.current ? '*' : ' '} ${r.name.padEnd(20)} ${versionLabel(r.id, r.number)}`);
      } else if (argv.delete || argv.D) print(`Deleted ${kind} ${out.name} (was ${versionLabel(out.id, out.number)})`);
      else if (!out.moved) print(`Created ${kind} ${out.name} at ${versionLabel(out.id, out.number)}`);
      else if (out.moved.from === out.id)
        print(`${kind === 'tag' ? 'Tag' : 'Branch'} ${out.name} already at ${versionLabel(out.id, out.number)}`);
      else
        print(
          `Moved ${kind} ${out.name} from ${versionLabel(out.moved.from, out.moved.fromNumber)} to ` +
            `${versionLabel(out.id, out.number)}`,
        );
    },
  };
}

/** `mvm branch`. */
export const branchCommand = refCommand('branch');
/** `mvm tag`. */
export const tagCommand = refCommand('tag');
