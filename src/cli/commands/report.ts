import { MvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, escapeControls } from '../format/text.js';

interface Args extends GlobalArgs {
  revs?: string[];
  where?: string;
  output?: string;
  /** yargs reads `--no-pair` as the negation of --pair: `[false]`. */
  pair?: (string | false)[];
  title?: string;
  serve?: boolean;
  port?: number;
}

/** `mvm report`: one self-contained HTML page with charts, lineage, a comparison table and a tensor diff. */
export const reportCommand: Command<Args> = {
  command: 'report [revs..]',
  describe:
    'Write an HTML report (metric charts, lineage graph, comparison table, tensor changes of a pair) that opens ' +
    'offline, or serve it live',
  builder: (y) =>
    y
      .positional('revs', { type: 'string', array: true, describe: 'The versions to show (default: every version)' })
      .option('where', { type: 'string', describe: 'Only versions matching this query (docs/QUERY.md)' })
      .option('output', { alias: 'o', type: 'string', describe: 'The HTML file to write (default report.html)' })
      .option('pair', {
        type: 'string',
        array: true,
        describe: 'The two versions whose tensors are compared per layer (default: the newest version and its parent)',
      })
      .option('no-pair', { type: 'boolean', describe: 'No tensor comparison (reads no tensor data)' })
      .option('title', { type: 'string', describe: 'The page title' })
      .option('serve', {
        type: 'boolean',
        describe: 'Serve the report on localhost and reload it when the repository changes',
      })
      .option('port', { type: 'number', default: 8741, describe: 'Port for --serve (0: any free port)' })
      .option('json', { type: 'boolean', describe: 'Print the report data as JSON instead' })
      .example('mvm report -o report.html', 'every version, in one file')
      .example(
        "mvm report --where 'metrics.accuracy > 0.9' --pair v3 v7",
        'the accurate versions; v3 against v7 tensor by tensor',
      )
      .example('mvm report --serve', 'a live page on http://127.0.0.1:8741/'),
  run: async (argv) => {
    const noPair = argv.pair?.length === 1 && argv.pair[0] === false;
    if (argv.pair && !noPair && (argv.pair.length !== 2 || argv.pair.includes(false)))
      throw new MvmError('BAD_ARGUMENT', `--pair takes two versions, not ${argv.pair.length}`, {
        hint: 'mvm report --pair v3 v7',
      });
    const ops = await import('../../ops/report.js');
    const sel = {
      revs: argv.revs,
      where: argv.where,
      pair: noPair ? undefined : (argv.pair as [string, string] | undefined),
      noPair,
      title: argv.title,
    };
    if (argv.json) return printJson(await ops.report(openRepo(), sel));
    if (argv.serve) {
      if (!Number.isInteger(argv.port) || argv.port! < 0 || argv.port! > 65535)
        throw new MvmError('BAD_VALUE', `--port must be a port number, not '${argv.port}'`, { value: argv.port });
      // the first page is built before listening, so a bad selection fails at once
      await ops.report(openRepo(), { ...sel, noPair: true });
      const s = await ops.serveReport(openRepo, {
        ...sel,
        port: argv.port,
        onError: (e) => process.stderr.write(escapeControls(`mvm: ${(e as Error).message}`) + '\n'),
      });
      print(`serving the report on ${s.url} (Ctrl-C to stop)`);
      await new Promise<void>((done) => {
        const stop = () => void s.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return;
    }
    const r = await ops.writeReport(openRepo(), { ...sel, output: argv.output });
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    print(
      `${r.output}: ${r.versions} version${r.versions === 1 ? '' : 's'}, ${r.metrics} ` +
        `metric${r.metrics === 1 ? '' : 's'}${r.pair ? `, tensors of v${r.pair.from} -> v${r.pair.to}` : ''} ` +
        `(${formatBytes(r.bytes)})`,
    );
  },
};
