import type { LogEntry, LogOptions } from '../../ops/log.js';
import { paint } from '../format/color.js';
import { renderGraph } from '../../core/dag.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { signatureSummary } from '../format/signature.js';
import { formatDate, formatPairs, print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs, Omit<LogOptions, 'limit'> {
  oneline?: boolean;
  n?: number;
  graph?: boolean;
  branch?: string;
}

function refsText(e: LogEntry): string {
  const one = (r: string) =>
    r.startsWith('HEAD -> ')
      ? `${paint('head', 'HEAD ->')} ${paint('branch', r.slice(8))}`
      : r === 'HEAD'
        ? paint('head', r)
        : r.startsWith('tag: ')
          ? paint('tag', r)
          : r.startsWith('deployed')
            ? paint('deployed', r)
            : r.includes('/')
              ? paint('remote', r)
              : paint('branch', r);
  return e.refs.length ? ` (${e.refs.map(one).join(', ')})` : '';
}

/** `mvm log`: the history of versions, newest first. */
export const logCommand: Command<Args> = {
  command: 'log [revs..]',
  describe: 'Show versions, newest first, with hash, author, date, message and metrics',
  builder: (y) =>
    y
      .positional('revs', { type: 'string', array: true, describe: 'Where to start (default HEAD)' })
      .option('oneline', { type: 'boolean', describe: 'One line per version' })
      .option('n', { alias: 'max-count', type: 'number', describe: 'Show at most N versions' })
      .option('graph', { type: 'boolean', describe: 'Draw the version graph' })
      .option('all', { type: 'boolean', describe: 'Every version, not only those reachable from HEAD' })
      .option('where', {
        type: 'string',
        describe: "Query, e.g. 'metrics.accuracy > 0.9 and params.lr < 0.01' (see docs/QUERY.md)",
      })
      .option('author', { type: 'string', describe: 'Only versions whose author contains this text' })
      .option('since', {
        type: 'string',
        describe: "Only versions made on or after this date (ISO, or '2 days ago', 'yesterday')",
      })
      .option('until', {
        type: 'string',
        describe: "Only versions made on or before this date (ISO, or '1 week ago', 'today')",
      })
      .option('grep', { type: 'string', describe: 'Only versions whose message matches this regular expression' })
      .option('branch', { type: 'string', describe: 'Start from this branch (same as giving it as a revision)' })
      .option('uses-data', { type: 'string', describe: 'Only versions trained on this dataset (id or path)' })
      .option('based-on', { type: 'string', describe: 'Only versions fine-tuned (directly or not) from this revision' })
      .option('show-signature', {
        type: 'boolean',
        describe: "Check each version's signatures with ssh-keygen and say who signed",
      })
      .option('json', { type: 'boolean' })
      .example('mvm log --oneline -n 5', 'the last five versions')
      .example("mvm log --where 'metrics.accuracy > 0.9 and params.lr < 0.01'", 'search by metrics and parameters'),
  run: async (argv) => {
    const revs = [...(argv.revs ?? []), ...(argv.branch ? [argv.branch] : [])];
    const { log } = await import('../../ops/log.js');
    const r = await log(openRepo(), {
      revs,
      all: argv.all,
      limit: argv.n,
      where: argv.where,
      author: argv.author,
      since: argv.since,
      until: argv.until,
      grep: argv.grep,
      usesData: argv.usesData,
      basedOn: argv.basedOn,
      showSignature: argv.showSignature,
    });
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    if (argv.json) return printJson(r.entries);
    const graph = argv.graph ? renderGraph(r.entries) : null;
    // one write for the whole log: a write per version is most of the time of a long log
    const out: string[] = [];
    r.entries.forEach((e, i) => {
      const g = graph?.[i];
      const pre = g ? `${g.prefix} ` : '';
      const cont = g ? `${g.prefix.replace(/\*/g, '|')} ` : '';
      const metrics = formatPairs(e.metrics);
      if (argv.oneline) {
        out.push(
          `${pre}${versionLabel(e.id, e.number)}${pending(e)}${refsText(e)} ${e.message.split('\n')[0]}` +
            `${metrics ? `  [${metrics}]` : ''}${e.signature ? `  (${signatureSummary(e.signature)})` : ''}`,
        );
      } else {
        const lines = [
          `${pre}version ${versionLabel(e.id, e.number)}${pending(e)}${refsText(e)}`,
          `${cont}Author:  ${e.author}`,
          `${cont}Date:    ${formatDate(e.time)}`,
        ];
        if (e.signature) lines.push(`${cont}Signed:  ${signatureSummary(e.signature)}`);
        else if (e.signed) lines.push(`${cont}Signed:  yes (--show-signature verifies)`);
        if (metrics) lines.push(`${cont}Metrics: ${metrics}`);
        if (Object.keys(e.params).length) lines.push(`${cont}Params:  ${formatPairs(e.params)}`);
        lines.push(cont, ...e.message.split('\n').map((l) => `${cont}    ${l}`), cont.trimEnd());
        out.push(...lines.map((l) => l.trimEnd()));
      }
      out.push(...(g?.after ?? []));
    });
    if (out.length) print(out.join('\n'));
  },
};

/** The mark of a version the shared registry has not numbered yet (made here and not pushed): it has only its id. */
function pending(e: { number: number | null }): string {
  return e.number === null ? ' (not numbered yet)' : '';
}
