import type { Repository } from '../repo/repository/index.js';
import { resolveRevision, numberOf, allSummaries } from '../repo/history/index.js';
import type { DataDep, GitInfo } from '../core/objects.js';

/** How a lineage node relates to the one above it. */
export type Relation = 'root' | 'parent' | 'base' | 'parent+base' | 'child' | 'derived' | 'child+derived';

/** One version in a lineage tree. */
export interface LineageNode {
  id: string;
  number: number | null;
  message: string;
  relation: Relation;
  data: DataDep[];
  git?: GitInfo;
  /** For a version `mvm pull` replayed onto the team's history: the version it replays and where that was made. */
  replayOf?: { id: string; parent: string | null; parentNumber: number | null };
  /** Set when this version already appears higher up the tree (not expanded again). */
  seen?: boolean;
  children: LineageNode[];
}

/**
 * Where a version came from (parents, the base-model chain, datasets, git
 * commit), or with `downstream` what was built from it (children and
 * fine-tunes), as a tree. Each version is expanded once.
 */
export async function lineage(
  repo: Repository,
  rev: string,
  opts: { downstream?: boolean; depth?: number } = {},
): Promise<LineageNode> {
  const root = resolveRevision(repo, rev);
  const maxDepth = opts.depth ?? Infinity;
  const seen = new Set<string>();
  let below: Map<string, { id: string; relation: Relation }[]> | null = null;
  if (opts.downstream) {
    below = new Map();
    for (const s of (await allSummaries(repo)).values()) {
      for (const p of s.parents) below.set(p, [...(below.get(p) ?? []), { id: s.id, relation: 'child' }]);
      if (s.base) below.set(s.base, [...(below.get(s.base) ?? []), { id: s.id, relation: 'derived' }]);
    }
  }
  const build = (id: string, relation: Relation, depth: number): LineageNode => {
    const v = repo.version(id);
    const node: LineageNode = {
      id,
      number: numberOf(repo, id),
      message: v.message,
      relation,
      data: v.deps.data ?? [],
      ...(v.git ? { git: v.git } : {}),
      ...(v.deps.replayOf
        ? {
            replayOf: {
              ...v.deps.replayOf,
              parentNumber: v.deps.replayOf.parent ? numberOf(repo, v.deps.replayOf.parent) : null,
            },
          }
        : {}),
      children: [],
    };
    if (seen.has(id)) return { ...node, seen: true };
    seen.add(id);
    if (depth >= maxDepth) return node;
    const next = below
      ? (below.get(id) ?? [])
      : [
          ...v.parents.map((p) => ({ id: p, relation: 'parent' as const })),
          ...(v.deps.base ? [{ id: v.deps.base, relation: 'base' as const }] : []),
        ];
    // a base that is also a parent (a fine-tune committed on top of its base) is one node, not two
    const merged = new Map<string, Relation>();
    for (const n of next) {
      const had = merged.get(n.id);
      merged.set(
        n.id,
        !had
          ? n.relation
          : had === n.relation
            ? had
            : had === 'parent' || had === 'base'
              ? 'parent+base'
              : 'child+derived',
      );
    }
    node.children = [...merged].map(([childId, rel]) => build(childId, rel, depth + 1));
    return node;
  };
  return build(root, 'root', 0);
}
