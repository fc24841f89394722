import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { signatureLine } from '../format/signature.js';
import { formatBytes, formatDate, formatPairs, print, printJson, table, versionLabel } from '../format/text.js';
import { commonPrefix, groupByLayer, RowBudget, rowLimit, shortName, shownLayer } from '../format/tensorGroups.js';
import type { EncodingCounts } from '../../repo/insight/index.js';
import type { ShowTensorsResult } from '../../ops/show.js';
import { MvmError } from '../../errors.js';

interface Args extends GlobalArgs {
  rev: string;
  path?: string;
  tensors?: boolean;
  limit?: number;
}

/** A tensor's encodings in a word: the one its chunks share, or each, most chunks first, joined by '+'. */
function encodingText(e: EncodingCounts): string {
  const keys = Object.keys(e).sort((a, b) => e[b]! - e[a]! || (a < b ? -1 : 1));
  return keys.length ? keys.join('+') : '-';
}

/** Stored bytes as a fraction of the bytes, two decimals. */
const ratio = (stored: number, bytes: number) => (bytes > 0 ? (stored / bytes).toFixed(2) : '-');

/** The text of `show --tensors`: per file, a table of tensors grouped by layer, at most `budget` rows. */
export function tensorListingLines(r: ShowTensorsResult, budget: RowBudget): string[] {
  const t = r.totals;
  const out = [
    `version ${versionLabel(r.id, r.number)}${r.path ? ` ${r.path}` : ''}: ${t.files} file(s), ${t.tensors} ` +
      `tensor(s), ${formatBytes(t.bytes)} in ${t.chunks} chunk(s), stored ${formatBytes(t.stored)}`,
  ];
  let shared = false;
  for (const f of r.files) {
    const absent = f.absentChunks ? `, ${f.absentChunks} chunk(s) not in this store (partial clone)` : '';
    const what = f.format ? `${f.format}, ${f.tensors.length} tensor(s)` : 'no tensors (not a model format mvm reads)';
    out.push(
      '',
      `${f.path}  ${what}, ${formatBytes(f.size)} in ${f.chunks} chunk(s), stored ${formatBytes(f.stored)} ` +
        `(${ratio(f.stored, f.size)})${absent}`,
    );
    if (f.unlisted) out.push(`  ${f.unlisted} small tensor(s) not listed: stored in packed runs, counted in other`);
    const prefix = commonPrefix(f.tensors.map((x) => x.name));
    if (prefix) out.push(`  names start with ${prefix}`);
    const rows: string[][] = [['dtype', 'shape', 'size', 'chunks', 'encoding', 'stored', 'ratio', 'name']];
    const heads = new Map<number, string>();
    for (const g of groupByLayer(f.tensors, (x) => x.name)) {
      const shown = budget.take(g.items);
      if (!shown.length) continue;
      const bytes = g.items.reduce((s, x) => s + x.bytes, 0);
      const stored = g.items.reduce((s, x) => s + x.stored, 0);
      if (g.items.length > 1 || shortName(g.items[0]!.name, g.layer) !== g.items[0]!.name)
        heads.set(
          rows.length,
          `  layer ${shownLayer(g.layer, prefix)}: ${g.items.length} tensor(s), ${formatBytes(bytes)}, ` +
            `stored ${formatBytes(stored)}`,
        );
      for (const x of shown) {
        shared ||= x.sharedChunks > 0;
        rows.push([
          x.dtype,
          `[${x.shape.join(', ')}]`,
          formatBytes(x.bytes),
          String(x.chunks),
          encodingText(x.encodings),
          formatBytes(x.stored) + (x.sharedChunks ? ' *' : ''),
          ratio(x.stored, x.bytes),
          shortName(x.name, g.layer),
        ]);
      }
    }
    if (rows.length > 1)
      table(rows, ['l', 'l', 'r', 'r', 'l', 'r', 'r'])
        .split('\n')
        .forEach((line, i) => {
          const head = heads.get(i);
          if (head) out.push(head);
          out.push(`    ${line}`);
        });
    out.push(...budget.flush('  ', 'tensor(s)'));
    const o = f.other;
    if (o.chunks)
      out.push(
        `  ${f.format ? 'other (header, padding, small tensors)' : 'data'}: ${formatBytes(o.bytes)} in ${o.chunks} ` +
          `chunk(s), ${encodingText(o.encodings)}, stored ${formatBytes(o.stored)}`,
      );
  }
  if (shared) out.push('', '* holds chunks an earlier tensor of the file also holds: their stored bytes count there');
  return out;
}

/** `mvm show`: one version in full. */
export const showCommand: Command<Args> = {
  command: 'show [rev] [path]',
  describe: 'Show a version: metadata, metrics, files, dependencies, annotations; or its tensors',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', default: 'HEAD' })
      .positional('path', { type: 'string', describe: 'With --tensors: one file or folder of the version' })
      .option('tensors', {
        type: 'boolean',
        describe: 'List every tensor: dtype, shape, size, chunks, how they are stored and what that takes',
      })
      .option('limit', { type: 'number', describe: 'With --tensors: at most N tensor rows (--json lists all)' })
      .option('json', { type: 'boolean' })
      .example('mvm show v3', 'everything about v3')
      .example('mvm show v3 --tensors models/model.safetensors', "that file's tensors, grouped by layer")
      .example('mvm show deployed --json', 'the deployed version, for scripts'),
  run: async (argv) => {
    if (argv.tensors) {
      const budget = new RowBudget(rowLimit(argv.limit, Number.POSITIVE_INFINITY));
      const { showTensors } = await import('../../ops/show.js');
      const r = await showTensors(openRepo(), argv.rev, argv.path);
      return argv.json ? printJson(r) : print(...tensorListingLines(r, budget));
    }
    if (argv.path !== undefined || argv.limit !== undefined)
      throw new MvmError('BAD_ARGUMENT', 'a path and --limit go with --tensors', {
        hint: `mvm show ${argv.rev} --tensors ${argv.path ?? ''}`.trimEnd(),
      });
    const { show } = await import('../../ops/show.js');
    const r = await show(openRepo(), argv.rev);
    if (argv.json) return printJson(r);
    const v = r.version;
    print(
      `version ${versionLabel(r.id, r.number)}${r.refs.length ? ` (${r.refs.join(', ')})` : ''}`,
      `id:      ${r.id}`,
    );
    if (v.parents.length) print(`parents: ${v.parents.map((p) => p.slice(0, 12)).join(' ')}`);
    print(`Author:  ${v.author}`, `Date:    ${formatDate(v.time)}`);
    for (const s of r.signatures.signatures) print(`Signed:  ${signatureLine(s)}`);
    if (v.git)
      print(
        `Git:     ${v.git.commit.slice(0, 12)}${v.git.dirty ? ' (dirty)' : ''}` +
          `${v.git.branch ? ` on ${v.git.branch}` : ''}`,
      );
    if (Object.keys(r.metrics).length) print(`Metrics: ${formatPairs(r.metrics)}`);
    if (Object.keys(v.params).length) print(`Params:  ${formatPairs(v.params)}`);
    if (Object.keys(v.meta).length) print(`Meta:    ${formatPairs(v.meta)}`);
    if (v.deps.base) print(`Base:    ${v.deps.base.slice(0, 12)}`);
    for (const d of v.deps.data ?? []) print(`Data:    ${d.path ?? d.name} ${d.id.slice(0, 16)}`);
    print('', ...v.message.split('\n').map((l) => `    ${l}`), '');
    const rows = Object.entries(v.files).map(([p, f]) => [
      f.mode.toString(8).padStart(4, '0'),
      formatBytes(f.size),
      f.file.slice(0, 12),
      p,
    ]);
    print(table([['mode', 'size', 'file', 'path'], ...rows], ['l', 'r']));
    print(`${rows.length} file(s), ${formatBytes(r.logicalBytes)}`);
    for (const [path, m] of Object.entries(r.models)) {
      const keys = Object.keys(m.metadata);
      if (!keys.length) continue;
      print(`${path} (${m.format} metadata):`);
      for (const k of keys) print(`    ${k}: ${m.metadata[k]}`);
    }
    for (const a of r.annotations)
      print(
        `annotated ${formatDate(a.time)} by ${a.author}: ${formatPairs(a.metrics)}` + (a.note ? ` — ${a.note}` : ''),
      );
  },
};
