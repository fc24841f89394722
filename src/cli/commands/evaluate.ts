import { EXIT } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatPairs, print, printJson, versionLabel } from '../format/text.js';
import { compareTable } from '../format/compareTable.js';

interface Args extends GlobalArgs {
  revs: string[];
  '--'?: (string | number)[];
  dryRun?: boolean;
  timeout?: number;
  higherIsBetter?: string[];
  lowerIsBetter?: string[];
}

/** `mvm eval`: run an evaluation command on each version and record its metrics. */
export const evalCommand: Command<Args> = {
  command: 'eval <revs..>',
  describe:
    'Run your evaluation command on each version (materialised in a temp folder), record the JSON metrics it ' +
    'prints, compare',
  builder: (y) =>
    y
      .positional('revs', { type: 'string', array: true, demandOption: true })
      .option('dry-run', { type: 'boolean', describe: 'Do not record the metrics as annotations' })
      .option('timeout', { type: 'number', describe: 'Seconds before a run is stopped' })
      .option('higher-is-better', { type: 'string', array: true })
      .option('lower-is-better', { type: 'string', array: true })
      .option('json', { type: 'boolean' })
      .parserConfiguration({ 'populate--': true })
      .example(
        'mvm eval v3 v5 -- python eval.py --model {path}',
        "{path} is the version's folder; MVM_PATH holds it too",
      )
      .example("mvm eval HEAD -- 'python eval.py $MVM_PATH | tail -1'", 'one quoted argument runs through the shell'),
  run: async (argv) => {
    const { evaluate } = await import('../../ops/evaluate.js');
    const command = (argv['--'] ?? []).map(String);
    const split = (v?: string[]) => (v ?? []).flatMap((x) => x.split(',')).filter(Boolean);
    const r = await evaluate(openRepo(), argv.revs, {
      command,
      dryRun: argv.dryRun,
      timeoutSeconds: argv.timeout,
      higherIsBetter: split(argv.higherIsBetter),
      lowerIsBetter: split(argv.lowerIsBetter),
      onStart: (rev) => {
        if (!argv.quiet && !argv.json && process.stderr.isTTY) process.stderr.write(`evaluating ${rev}...\n`);
      },
      // the evaluator's own stderr (its progress and logs) shows as it runs
      onStderr: argv.quiet ? undefined : (chunk) => process.stderr.write(chunk),
    });
    const code = r.runs.some((x) => !x.ok) ? EXIT.external : EXIT.ok;
    if (argv.json) {
      printJson(r);
      return code;
    }
    for (const run of r.runs) {
      const label = versionLabel(run.id, run.number);
      print(
        run.ok
          ? `${label}: ${formatPairs(run.metrics)} (${run.seconds.toFixed(1)} s)`
          : `${label}: FAILED: ${run.error}`,
      );
    }
    if (r.comparison) print('', compareTable(r.comparison));
    return code;
  },
};
