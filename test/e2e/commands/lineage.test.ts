/**
 * `mvm lineage`, end to end through the real CLI: upstream (parents and the
 * base chain), --downstream, --depth and --dot (Graphviz). Runs against the
 * registry repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { useRegistryRepo } from '../../helpers/registryRepo.js';

const { fx, run } = useRegistryRepo();

interface Node {
  id: string;
  number: number;
  message: string;
  relation: string;
  data: { path?: string; name?: string; id: string }[];
  seen?: boolean;
  children: Node[];
}

/** Every edge of a lineage tree as `vP-relation->vC`, marking nodes not expanded again. */
function edges(n: Node): string[] {
  return n.children.flatMap((c) => [`v${n.number}-${c.relation}->v${c.number}${c.seen ? ' (seen)' : ''}`, ...edges(c)]);
}

describe.concurrent('lineage', () => {
  it('--json: parents and the base chain, each version expanded once, with data', async () => {
    const [a, b] = await Promise.all([run(['lineage', 'v5', '--json']), run(['lineage', 'v6', '--json'])]);
    const root = json<Node>(a);
    expect(root).toMatchObject({ id: fx.ids[5], number: 5, relation: 'root', message: 'exp: distilled' });
    expect(root.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect(root.children.map((c) => [c.relation, c.number])).toEqual([
      ['parent', 2],
      ['base', 3],
    ]);
    expect(edges(root).sort()).toEqual(
      ['v5-parent->v2', 'v2-parent->v1', 'v5-base->v3', 'v3-parent->v2 (seen)', 'v3-base->v1 (seen)'].sort(),
    );
    const v3 = root.children[1]!;
    expect(v3.id).toBe(fx.ids[3]);
    expect(v3.data).toEqual([{ name: 'imagenet', id: 'sha256:abc' }]);
    // v6 -> base v5 -> base v3 -> base v1: the whole base chain is there (v5 is also v6's parent)
    const e6 = edges(json<Node>(b)).map((x) => x.replace(' (seen)', ''));
    expect(e6).toEqual(
      expect.arrayContaining(['v6-parent+base->v5', 'v5-base->v3', 'v3-base->v1', 'v5-parent->v2', 'v2-parent->v1']),
    );
    // shown once, not as a parent and again as a base
    expect(e6.filter((x) => x.startsWith('v6-'))).toEqual(['v6-parent+base->v5']);
  });

  it('text: a tree showing parents, the base chain and data, each version and dataset printed once', async () => {
    const [five, six] = await Promise.all([run(['lineage', 'v5']), run(['lineage', 'v6'])]);
    const h = '[0-9a-f]{12}';
    const [a, b] = [fx.dataA.slice(0, 12), fx.dataB.slice(0, 12)];
    const v3extra = 'parent v2, base v1, data imagenet@sha256:abc';
    expect(ok(five).stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^v5 ${fx.ids[5]!.slice(0, 12)} exp: distilled {2}\\[data data/train@${b}\\]$`)),
      expect.stringMatching(new RegExp(`^├── parent: v2 ${h} lr 3e-4 with adam {2}\\[data data/train@${a}\\]$`)),
      expect.stringMatching(
        new RegExp(`^│ {3}└── parent: v1 ${h} baseline {2}\\[data data/train \\(same as v2\\)\\]$`),
      ),
      // v3's parent v2 and base v1 are printed above: named on its line, not printed again
      expect.stringMatching(new RegExp(`^└── base: v3 ${h} fine-tune of baseline on cifar {2}\\[${v3extra}\\]$`)),
    ]);
    // a chain of bases (v6 -> v5 -> v3 -> v1) over shared datasets: every version on one line, once
    const lines = ok(six).stdout.trimEnd().split('\n');
    for (const n of [1, 2, 3, 5, 6])
      expect(
        lines.filter((l) => new RegExp(`^[│├└─ ]*([a-z+]+: )?v${n} ${h} `).test(l)),
        `v${n}`,
      ).toHaveLength(1);
    expect(lines).toHaveLength(5);
    expect(lines.join('\n')).not.toContain('see above');
    expect(lines.filter((l) => l.includes(`data/train@${b}`))).toHaveLength(1);
    // v1 and v2 share a dataset: its id once, then the version that showed it
    expect(lines.filter((l) => l.includes(`data/train@${a}`))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('data/train (same as v2)'))).toHaveLength(1);
    expect(lines[0]).toMatch(/^v6 [0-9a-f]{12} exp: quantized$/);
    expect(lines[1]).toMatch(/^└── parent\+base: v5 /);
  });

  it('--downstream from v1 lists children and fine-tunes', async () => {
    const [a, b, c, t] = await Promise.all([
      run(['lineage', 'v1', '--downstream', '--json']),
      run(['lineage', 'v5', '--downstream', '--json']),
      run(['lineage', 'v4', '--downstream', '--json']),
      run(['lineage', 'v1', '--downstream']),
    ]);
    const root = json<Node>(a);
    expect(root.number).toBe(1);
    expect(root.children.map((x) => [x.relation, x.number]).sort()).toEqual([
      ['child', 2],
      ['derived', 3],
    ]);
    const all = new Set<number>();
    const walk = (n: Node) => {
      all.add(n.number);
      n.children.forEach(walk);
    };
    walk(root);
    expect([...all].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const e = edges(root).map((x) => x.replace(' (seen)', ''));
    expect(e).toEqual(
      expect.arrayContaining([
        'v1-child->v2',
        'v1-derived->v3',
        'v2-child->v3',
        'v2-child->v5',
        'v3-derived->v5',
        'v3-child+derived->v4',
        'v5-child+derived->v6',
      ]),
    );
    expect(
      edges(json<Node>(b))
        .map((x) => x.replace(' (seen)', ''))
        .sort(),
    ).toEqual(['v5-child+derived->v6']);
    expect(json<Node>(c).children).toEqual([]);
    const text = ok(t).stdout;
    expect(text).toMatch(/child: v2 [0-9a-f]{12} lr 3e-4/);
    // v3 is printed as v2's child; v1's line names it as derived, not a second subtree
    expect(text.split('\n')[0]).toMatch(/^v1 [0-9a-f]{12} baseline {2}\[derived v3, data data\/train@/);
    expect(text).toMatch(/└── child: v3 [0-9a-f]{12} fine-tune/);
    expect(text.match(/ v3 [0-9a-f]{12} /g)).toHaveLength(1);
  });

  it('--depth stops the walk', async () => {
    const root = json<Node>(await run(['lineage', 'v6', '--depth', '1', '--json']));
    // v6's base is also its parent: one node, both relations
    expect(root.children.map((c) => [c.relation, c.number])).toEqual([['parent+base', 5]]);
    expect(root.children.every((c) => c.children.length === 0)).toBe(true);
    expect(ok(await run(['lineage', 'v6', '--depth', '1'])).stdout).toMatch(/parent\+base: v5 /);
  });

  it('--dot is a digraph with labelled edges', async () => {
    const out = ok(await run(['lineage', 'v5', '--dot'])).stdout.trim();
    const lines = out.split('\n');
    expect(lines[0]).toBe('digraph lineage {');
    expect(lines.at(-1)).toBe('}');
    const s = (n: number) => fx.ids[n]!.slice(0, 12);
    expect(lines).toContain(`  "${s(2)}" -> "${s(5)}" [label="parent"];`);
    expect(lines).toContain(`  "${s(3)}" -> "${s(5)}" [label="base"];`);
    expect(lines).toContain(`  "${s(1)}" -> "${s(3)}" [label="base"];`);
    expect(lines).toContain(`  "${s(1)}" -> "${s(2)}" [label="parent"];`);
    expect(lines.filter((l) => l.includes(' -> ') && !l.includes('label="data"'))).toHaveLength(5);
    // datasets are nodes too, one per dataset, with an edge from each version that used it
    const dataNodes = lines.filter((l) => /^ {2}"data:[0-9a-f]{12}" \[label=".*", shape=cylinder\];$/.test(l));
    expect(dataNodes.length).toBeGreaterThanOrEqual(2);
    expect(dataNodes.some((l) => l.includes('data/train'))).toBe(true);
    expect(lines.filter((l) => l.includes('label="data"')).length).toBeGreaterThanOrEqual(4);
    for (const n of [1, 2, 3, 5]) expect(lines.some((l) => l.startsWith(`  "${s(n)}" [label="v${n} `))).toBe(true);
    expect(lines.some((l) => l.includes(s(4)) || l.includes(s(6)))).toBe(false);
  });

  it('an unknown revision is UNKNOWN_REVISION', async () => {
    const [a, b] = await Promise.all([
      run(['lineage', 'v99', '--json']),
      run(['lineage', 'deadbeef', '--downstream', '--json']),
    ]);
    expectError(a, 'UNKNOWN_REVISION', 4);
    expectError(b, 'UNKNOWN_REVISION', 4);
  });
});
