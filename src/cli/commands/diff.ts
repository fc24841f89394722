import type { FileDiff } from '../../core/diff.js';
import { paint } from '../format/color.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  from?: string;
  to?: string;
  stats?: boolean;
}

const MARK: Record<FileDiff['status'], string> = { added: 'A', removed: 'D', modified: 'M', mode: 'T', unchanged: ' ' };

/** The tensor part of a file diff, for the text output. */
export function tensorLines(f: FileDiff): string[] {
  const t = f.tensors;
  if (!t) return [];
  const out = [`    ${t.format}: ${t.changes.length} tensor(s) changed, ${t.unchanged} unchanged`];
  if (t.unlisted)
    out.push(`    ${t.unlisted[1]} small tensor(s) not listed (${t.unlisted[0]} before): compared by chunk only`);
  for (const c of t.changes.slice(0, 50)) {
    const what =
      c.status === 'added'
        ? `added ${c.dtype[1]} [${c.shape[1]?.join(', ')}]`
        : c.status === 'removed'
          ? `removed`
          : c.status === 'retyped'
            ? `dtype ${c.dtype[0]} -> ${c.dtype[1]}`
            : c.status === 'reshaped'
              ? `shape [${c.shape[0]?.join(', ')}] -> [${c.shape[1]?.join(', ')}]`
              : `values: ${c.chunksChanged} of ${c.chunksTotal} chunk(s) changed`;
    out.push(`      ${c.name}: ${what}`);
    if (c.stats) {
      const s = c.stats;
      out.push(
        `        max|d|=${s.maxAbsDelta.toPrecision(4)}  relL2=${s.relL2.toPrecision(4)}  ` +
          `changed=${(s.fractionChanged * 100).toFixed(2)}%  cos=${s.cosine.toFixed(6)}`,
      );
    } else if (c.statsSkipped) out.push(`        (${c.statsSkipped})`);
  }
  if (t.changes.length > 50) out.push(`      ... and ${t.changes.length - 50} more`);
  for (const l of t.layers) out.push(`    layer ${l.layer}: ${l.changed} of ${l.total} tensor(s) changed`);
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
        describe: 'Stream changed tensors: max |delta|, relative L2 change, fraction changed, cosine similarity',
      })
      .option('json', { type: 'boolean' })
      .example('mvm diff v1 v2', 'what changed between two versions')
      .example('mvm diff --stats v3 v5', 'how much each changed tensor moved')
      .example('mvm diff', 'what changed in the workspace since HEAD'),
  run: async (argv) => {
    const { diff } = await import('../../ops/diff.js');
    const r = await diff(openRepo(), {
      from: argv.from,
      to: argv.to,
      stats: argv.stats,
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
      print(...tensorLines(f));
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
