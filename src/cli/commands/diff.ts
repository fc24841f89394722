import type { FileDiff, TensorChange } from '../../core/diff.js';
import { paint } from '../format/color.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';
import { commonPrefix, groupByLayer, RowBudget, rowLimit, shortName, shownLayer } from '../format/tensorGroups.js';

interface Args extends GlobalArgs {
  from?: string;
  to?: string;
  stats?: boolean;
  limit?: number;
}

const MARK: Record<FileDiff['status'], string> = { added: 'A', removed: 'D', modified: 'M', mode: 'T', unchanged: ' ' };

/** Tensor rows `diff` prints when not told `--limit`; `--json` lists every one. */
export const DIFF_ROWS = 50;

/** What changed in one tensor, in words. */
function changeText(c: TensorChange): string {
  return c.status === 'added'
    ? `added ${c.dtype[1]} [${c.shape[1]?.join(', ')}]`
    : c.status === 'removed'
      ? 'removed'
      : c.status === 'retyped'
        ? `dtype ${c.dtype[0]} -> ${c.dtype[1]}`
        : c.status === 'reshaped'
          ? `shape [${c.shape[0]?.join(', ')}] -> [${c.shape[1]?.join(', ')}]`
          : `values: ${c.chunksChanged} of ${c.chunksTotal} chunk(s) changed`;
}

/**
 * The tensor part of a file diff, for the text output: changed tensors
 * grouped by layer, each named after its layer's prefix, a prefix all of the
 * file's changed tensors share said once, rows taken from `budget`.
 */
export function tensorLines(f: FileDiff, budget: RowBudget): string[] {
  const t = f.tensors;
  if (!t) return [];
  const out = [`    ${t.format}: ${t.changes.length} tensor(s) changed, ${t.unchanged} unchanged`];
  if (t.unlisted)
    out.push(`    ${t.unlisted[1]} small tensor(s) not listed (${t.unlisted[0]} before): compared by chunk only`);
  const prefix = commonPrefix(t.changes.map((c) => c.name));
  if (prefix) out.push(`    names start with ${prefix}`);
  const totals = new Map(t.layers.map((l) => [l.layer, l.total]));
  for (const g of groupByLayer(t.changes, (c) => c.name)) {
    const shown = budget.take(g.items);
    if (!shown.length) continue;
    const layer = shownLayer(g.layer, prefix);
    out.push(`    layer ${layer}: ${g.items.length} of ${totals.get(g.layer) ?? g.items.length} tensor(s) changed`);
    for (const c of shown) {
      out.push(`      ${shortName(c.name, g.layer)}: ${changeText(c)}`);
      if (c.stats) {
        const s = c.stats;
        out.push(
          `        max|d|=${s.maxAbsDelta.toPrecision(4)}  relL2=${s.relL2.toPrecision(4)}  ` +
            `changed=${(s.fractionChanged * 100).toFixed(2)}%  cos=${s.cosine.toFixed(6)}`,
        );
      } else if (c.statsSkipped) out.push(`        (${c.statsSkipped})`);
    }
  }
  out.push(...budget.flush('    ', 'changed tensor(s)'));
  return out;
}

/** `mvm diff`: compare two versions, or HEAD and the workspace. */
export const diffCommand: Command<Args> = {
  command: 'diff [from] [to]',
  describe: 'Compare two versions (or HEAD with the workspace) file by file and chunk by chunk',
  builder: (y) =>
    y
      .positional('from', { type: 'string', describe: 'Old version (default HEAD)' })
      .positional('to', { type: 'string', describe: 'New version (default: the workspace)' })
      .option('stats', {
        type: 'boolean',
        describe:
          'Stream changed tensors: max |delta|, relative L2 change, fraction changed, cosine similarity ' +
          '(between two versions, or a version and the workspace)',
      })
      .option('limit', {
        type: 'number',
        describe: `Tensor rows to print (default ${DIFF_ROWS}); --json always lists every tensor`,
      })
      .option('json', { type: 'boolean' })
      .example('mvm diff v1 v2 --limit 200', 'up to 200 changed tensors, grouped by layer')
      .example('mvm diff v1 v2', 'what changed between two versions')
      .example('mvm diff --stats v3 v5', 'how much each changed tensor moved')
      .example('mvm diff --stats', 'how much each tensor moved in the workspace since HEAD')
      .example('mvm diff --stats v3 -- models/model.safetensors', 'one file of v3 against the workspace')
      .example('mvm diff', 'what changed in the workspace since HEAD'),
  run: async (argv) => {
    const budget = new RowBudget(rowLimit(argv.limit, DIFF_ROWS));
    const { diff } = await import('../../ops/diff.js');
    // paths come after `--` (yargs leaves them after the command's name in `_`)
    const paths = [...((argv['--'] as unknown[] | undefined) ?? []), ...argv._.slice(1)].map(String);
    const r = await diff(openRepo(), {
      from: argv.from,
      to: argv.to,
      stats: argv.stats,
      paths,
      progress: progressBar(!argv.quiet && !argv.json),
    });
    if (argv.json) return printJson(r);
    const side = (s: typeof r.from) => (s.id ? `${s.label} (${versionLabel(s.id, s.number)})` : s.label);
    print(`diff ${side(r.from)} -> ${side(r.to)}`);
    for (const f of r.files) {
      if (f.status === 'unchanged') continue;
      const detail =
        f.status === 'added'
          ? `${formatBytes(f.newSize ?? 0)}, ${f.chunksTotal} chunk(s)`
          : f.status === 'removed'
            ? `${formatBytes(f.oldSize ?? 0)}`
            : f.status === 'mode'
              ? `mode ${f.oldMode?.toString(8)} -> ${f.newMode?.toString(8)}`
              : `${f.chunksChanged} of ${f.chunksTotal} chunk(s) changed, ${formatBytes(f.bytesNew)} new` +
                (f.oldSize !== f.newSize
                  ? `, size ${formatBytes(f.oldSize ?? 0)} -> ${formatBytes(f.newSize ?? 0)}`
                  : '');
      const kind = f.status === 'added' ? 'added' : f.status === 'removed' ? 'removed' : 'modified';
      print(`${paint(kind, MARK[f.status])} ${f.path}  ${detail}`);
      for (const m of f.metadata ?? [])
        print(
          `    metadata ${m.key}: ${m.from === null ? '(none)' : JSON.stringify(m.from)} -> ` +
            `${m.to === null ? '(removed)' : JSON.stringify(m.to)}`,
        );
      print(...tensorLines(f, budget));
    }
    const t = r.totals;
    print(
      `${t.modified} modified, ${t.added} added, ${t.removed} removed, ${t.unchanged} unchanged; ${t.chunksChanged} ` +
        `of ${t.chunksTotal} chunk(s) changed, ${formatBytes(t.bytesNew)} new`,
    );
    if (r.statsBytes !== undefined && r.statsSeconds)
      print(
        `streamed ${formatBytes(r.statsBytes)} of tensor data in ${r.statsSeconds.toFixed(2)} s ` +
          `(${formatBytes(r.statsBytes / r.statsSeconds)}/s)`,
      );
  },
};
