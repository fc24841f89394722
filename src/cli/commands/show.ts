import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { signatureLine } from '../format/signature.js';
import { formatBytes, formatDate, formatPairs, print, printJson, table, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  rev: string;
}

/** `mvm show`: one version in full. */
export const showCommand: Command<Args> = {
  command: 'show [rev]',
  describe: 'Show a version: metadata, metrics, files, dependencies, annotations',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', default: 'HEAD' })
      .option('json', { type: 'boolean' })
      .example('mvm show v3', 'everything about v3')
      .example('mvm show deployed --json', 'the deployed version, for scripts'),
  run: async (argv) => {
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
