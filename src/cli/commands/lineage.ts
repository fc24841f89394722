import type { LineageNode } from '../../ops/lineage.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  rev: string;
  downstream?: boolean;
  dot?: boolean;
  depth?: number;
}

/**
 * The lineage tree as text, each version on one line once (like `npm ls` dedupe): another reference to a
 * version the tree shows is named on the referring line (`[base v1]`), and a dataset shown already is named by
 * the version that first showed it (`data train (same as v3)`).
 */
function treeLines(root: LineageNode): string[] {
  const dataFirst = new Map<string, string>();
  const walk = (n: LineageNode, prefix: string, last: boolean, top: boolean): string[] => {
    const label = n.number ? `v${n.number}` : n.id.slice(0, 12);
    const data = n.data.map((d) => {
      const first = dataFirst.get(d.id);
      if (!first) dataFirst.set(d.id, label);
      return `data ${d.path ?? d.name}${first ? ` (same as ${first})` : `@${d.id.slice(0, 12)}`}`;
    });
    // a version already in the tree is named where it is referred to again, not printed again
    const refs = n.children
      .filter((c) => c.seen)
      .map((c) => `${c.relation} ${c.number ? `v${c.number}` : c.id.slice(0, 12)}`);
    const extra = [
      ...refs,
      ...data,
      ...(n.git ? [`git ${n.git.commit.slice(0, 12)}${n.git.dirty ? ' (dirty)' : ''}`] : []),
      ...(n.replayOf
        ? [
            `replays ${n.replayOf.id.slice(0, 12)}, made on ` +
              (n.replayOf.parent ? versionLabel(n.replayOf.parent, n.replayOf.parentNumber) : 'nothing'),
          ]
        : []),
    ];
    const shown = n.children.filter((c) => !c.seen);
    const rel = n.relation === 'root' ? '' : `${n.relation}: `;
    const line =
      `${top ? '' : prefix + (last ? '└── ' : '├── ')}${rel}${versionLabel(n.id, n.number)} ` +
      `${n.message.split('\n')[0]}${extra.length ? `  [${extra.join(', ')}]` : ''}`;
    const childPrefix = top ? '' : prefix + (last ? '    ' : '│   ');
    return [line, ...shown.flatMap((c, i) => walk(c, childPrefix, i === shown.length - 1, false))];
  };
  return walk(root, '', true, true);
}

function dot(root: LineageNode): string {
  const nodes = new Map<string, string>();
  const data = new Map<string, string>();
  const edges: string[] = [];
  const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const walk = (n: LineageNode) => {
    nodes.set(n.id, `${versionLabel(n.id, n.number)}\\n${q(n.message.split('\n')[0]!.slice(0, 40))}`);
    // datasets are nodes of their own: a dataset shared by versions shows as one
    for (const d of n.data) {
      data.set(d.id, `${q(d.path ?? d.name ?? 'data')}\\n${d.id.slice(0, 12)}`);
      edges.push(`  "${n.id.slice(0, 12)}" -> "data:${d.id.slice(0, 12)}" [label="data", style=dashed];`);
    }
    for (const c of n.children) {
      edges.push(`  "${c.id.slice(0, 12)}" -> "${n.id.slice(0, 12)}" [label="${c.relation}"];`);
      if (!c.seen) walk(c);
    }
  };
  walk(root);
  return [
    'digraph lineage {',
    '  rankdir=BT;',
    ...[...nodes].map(([id, label]) => `  "${id.slice(0, 12)}" [label="${label}"];`),
    ...[...data].map(([id, label]) => `  "data:${id.slice(0, 12)}" [label="${label}", shape=cylinder];`),
    ...[...new Set(edges)],
    '}',
  ].join('\n');
}

/** `mvm lineage`: where a version came from, or what was built from it. */
export const lineageCommand: Command<Args> = {
  command: 'lineage [rev]',
  describe:
    'Show where a version came from (parents, base model chain, datasets, git) or, with --downstream, what was ' +
    'built from it',
  builder: (y) =>
    y
      .positional('rev', { type: 'string', default: 'HEAD' })
      .option('downstream', { type: 'boolean', describe: 'Versions built from this one (children and fine-tunes)' })
      .option('depth', { type: 'number', describe: 'Stop after this many levels' })
      .option('dot', { type: 'boolean', describe: 'Graphviz output' })
      .option('json', { type: 'boolean' })
      .example('mvm lineage v7', 'parents, base models and data of v7')
      .example('mvm lineage v2 --downstream --dot | dot -Tpng > tree.png', 'draw everything derived from v2'),
  run: async (argv) => {
    const { lineage } = await import('../../ops/lineage.js');
    const r = await lineage(openRepo(), argv.rev, { downstream: argv.downstream, depth: argv.depth });
    if (argv.json) return printJson(r);
    print(argv.dot ? dot(r) : treeLines(r).join('\n'));
  },
};
