import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson } from '../format/text.js';

interface Args extends GlobalArgs {
  metric: string;
  where?: string;
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
  number?: boolean;
  all?: boolean;
}

/** `mvm best`: the version with the best value of a metric, for scripts. */
export const bestCommand: Command<Args> = {
  command: 'best',
  describe:
    'Print the id of the version on the current branch (or --all) with the best value of a metric (annotations ' +
    'included)',
  builder: (y) =>
    y
      .option('metric', { type: 'string', demandOption: true, describe: 'The metric to rank by' })
      .option('where', { type: 'string', describe: 'Only versions matching this query (docs/QUERY.md)' })
      .option('lower-is-better', {
        type: 'boolean',
        describe: 'Smaller wins (default: inferred from the name: loss, latency... are lower-is-better)',
      })
      .option('higher-is-better', { type: 'boolean', describe: 'Larger wins' })
      .option('number', { type: 'boolean', describe: 'Print vN instead of the full id' })
      .option('all', { type: 'boolean', describe: 'Search every branch, not only the versions HEAD descends from' })
      .option('json', { type: 'boolean' })
      .example('mvm deploy $(mvm best --metric f1)', 'deploy the best version on this branch by f1')
      .example('mvm best --metric f1 --all', 'the best on any branch')
      .example('mvm best --metric loss --where \'meta.dataset = "imagenet-2024"\'', 'lowest loss on one dataset'),
  run: async (argv) => {
    const { best } = await import('../../ops/best.js');
    const r = await best(openRepo(), {
      metric: argv.metric,
      where: argv.where,
      lowerIsBetter: argv.lowerIsBetter,
      higherIsBetter: argv.higherIsBetter,
      all: argv.all,
    });
    if (argv.json) return printJson(r);
    // a version the shared registry has not numbered yet has only its id
    print(argv.number && r.number !== null ? `v${r.number}` : r.id);
  },
};
