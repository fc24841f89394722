import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatPairs, print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  rev: string;
  metric?: string[];
  note?: string;
  author?: string;
}

/** `mvm annotate`: attach later metrics or a note to a version. */
export const annotateCommand: Command<Args> = {
  command: 'annotate <rev>',
  describe: 'Attach metrics or a note to an existing version (its id does not change; history is kept)',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', demandOption: true })
      .option('metric', { type: 'string', array: true, describe: 'Metric key=number (repeatable)' })
      .option('note', { type: 'string', describe: 'Free text' })
      .option('author', { type: 'string' })
      .option('json', { type: 'boolean' })
      .example('mvm annotate v3 --metric f1=0.82 --note "eval on test-2026-11"', 'record a later evaluation'),
  run: async (argv) => {
    const { annotate } = await import('../../ops/annotate.js');
    const r = await annotate(openRepo(), argv.rev, { metrics: argv.metric, note: argv.note, author: argv.author });
    if (argv.json) return printJson(r);
    print(
      `annotated ${versionLabel(r.target, r.number)}` +
        `${Object.keys(r.metrics).length ? `: ${formatPairs(r.metrics)}` : ''}${r.note ? ` — ${r.note}` : ''}`,
    );
  },
};
