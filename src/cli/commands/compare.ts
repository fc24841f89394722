import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson } from '../format/text.js';
import { compareCsv, compareMarkdown, compareTable } from '../format/compareTable.js';

interface Args extends GlobalArgs {
  revs: string[];
  higherIsBetter?: string[];
  lowerIsBetter?: string[];
  format?: 'table' | 'md' | 'csv' | 'json';
}

const list = (v?: string[]) =>
  (v ?? [])
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);

/** `mvm compare`: versions side by side. */
export const compareCommand: Command<Args> = {
  command: 'compare <revs..>',
  describe:
    'Compare versions side by side: metadata, params, metrics (deltas against the first), size, shared chunks, ' +
    'data, base',
  builder: (y) =>
    y
      .positional('revs', { type: 'string', array: true, demandOption: true })
      .option('higher-is-better', {
        type: 'string',
        array: true,
        describe: 'Metrics where larger is better (comma-separated or repeated)',
      })
      .option('lower-is-better', {
        type: 'string',
        array: true,
        describe: 'Metrics where smaller is better, e.g. loss,latency_ms',
      })
      .option('format', {
        choices: ['table', 'md', 'csv', 'json'] as const,
        describe:
          'table (fits the terminal: versions become rows when it is too wide), md (for pull-request comments), ' +
          'csv, json',
      })
      .option('json', { type: 'boolean' })
      .example('mvm compare v3 v5 v8', 'one table, deltas against v3')
      .example('mvm compare v3 v5 --format md >> pr-comment.md', 'a Markdown table')
      .example('mvm compare v3 v5 --lower-is-better loss,latency_ms', 'declare metric directions'),
  run: async (argv) => {
    const { compare } = await import('../../ops/compare.js');
    const r = compare(openRepo(), argv.revs, {
      higherIsBetter: list(argv.higherIsBetter),
      lowerIsBetter: list(argv.lowerIsBetter),
    });
    const format = argv.json ? 'json' : (argv.format ?? 'table');
    if (format === 'json') return printJson(r);
    if (format === 'md') return print(compareMarkdown(r));
    if (format === 'csv') return print(compareCsv(r));
    print(compareTable(r, process.stdout.isTTY ? process.stdout.columns : undefined));
  },
};
