import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { layerOf } from '../../core/diff.js';
import type { Scalar } from '../../core/objects.js';
import { MvmError } from '../../errors.js';
import { compareVersions, type CompareResult } from './comparison.js';
import {
  deployLog,
  envCurrent,
  listEnvs,
  numberLookup,
  resolveRevision,
  allSummaries,
  queryRecord,
  refNames,
  whereWarnings,
  type VersionSummary,
} from '../history/index.js';
import type { Repository } from '../repository/index.js';
import { diffStored } from './versionDiff.js';

/** Which versions a report covers, and which pair it diffs tensor by tensor. */
export interface ReportSelection {
  /** These versions; none (and no `where`) means every version. */
  revs?: string[];
  /** Every version matching this query expression. */
  where?: string;
  /**
   * The pair whose tensors are compared; default: the newest selected version and its parent (or the one before it).
   */
  pair?: [string, string];
  /** No tensor diff at all. */
  noPair?: boolean;
  title?: string;
}

/** One version as the report shows it. */
export interface ReportVersion {
  id: string;
  /** Null for a version made here that the shared registry has not numbered yet. */
  number: number | null;
  message: string;
  author: string;
  time: string;
  /**
   * The branch whose history the version is drawn in (first-parent history first; a remote-tracking one such as
   * `origin/main` for a version only it reaches), or null when no branch reaches it.
   */
  branch: string | null;
  refs: string[];
  params: Record<string, Scalar>;
  metrics: Record<string, Scalar>;
  /** The environments that have served this version. */
  envs: string[];
}

/** A node of the lineage graph: a version, a base model outside the selection, a dataset or a git commit. */
export interface LineageGraphNode {
  id: string;
  kind: 'version' | 'base' | 'dataset' | 'git';
  label: string;
  detail: string;
  /** For a dataset: its name or path, shared by every snapshot of it (the page draws them in one box). */
  group?: string;
}

/** An edge of the lineage graph, from the newer thing to what it came from. */
export interface LineageGraphEdge {
  from: string;
  to: string;
  relation: 'parent' | 'base' | 'ancestor' | 'data' | 'git';
}

/** One environment and the versions it has served, oldest move first. */
export interface ReportEnv {
  name: string;
  moves: { id: string; number: number | null; time: string; action: string }[];
  current: string | null;
}

/** Relative change of one layer between the two versions of the pair (from diff --stats). */
export interface LayerChange {
  file: string;
  layer: string;
  /** ||b - a|| / ||a|| over the layer's changed tensors whose values were compared. */
  relL2: number | null;
  changedTensors: number;
  totalTensors: number;
  /** Changed tensors without a value comparison (added, removed, reshaped, retyped, unsupported dtype). */
  notCompared: number;
}

/** Everything a report page draws, as JSON. */
export interface ReportData {
  format: 1;
  title: string;
  generated: string;
  versions: ReportVersion[];
  metrics: string[];
  directions: CompareResult['directions'];
  branches: string[];
  envs: ReportEnv[];
  lineage: { nodes: LineageGraphNode[]; edges: LineageGraphEdge[] };
  comparison: CompareResult;
  pair: {
    from: { id: string; number: number | null };
    to: { id: string; number: number | null };
    layers: LayerChange[];
  } | null;
  warnings: string[];
}

/**
 * Branch of each version: every branch's first-parent history first (main/master, then the rest by name), then full
 * histories; local branches before remote-tracking ones (`origin/main`), which label versions known only there.
 */
function branchOf(repo: Repository, summaries: Map<string, VersionSummary>): Map<string, string> {
  // main/master first, then by name; a remote-tracking ref ranked by the branch name after its remote's
  const rank = (n: string) => (n === 'main' || n === 'master' ? 0 : 1);
  const sorted = (prefix: string, branchName: (n: string) => string) =>
    repo.refs
      .list(prefix)
      .sort((a, b) => rank(branchName(a.name)) - rank(branchName(b.name)) || a.name.localeCompare(b.name));
  const branches = [...sorted('refs/heads/', (n) => n), ...sorted('refs/remotes/', (n) => n.slice(n.indexOf('/') + 1))];
  const out = new Map<string, string>();
  for (const b of branches) {
    for (let id: string | undefined = b.value; id && !out.has(id); id = summaries.get(id)?.parents[0])
      out.set(id, b.name);
  }
  for (const b of branches) {
    const stack = [b.value];
    const seen = new Set<string>();
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (!out.has(id)) out.set(id, b.name);
      stack.push(...(summaries.get(id)?.parents ?? []));
    }
  }
  return out;
}

/** The versions a selection names, oldest first. */
async function selectVersions(
  repo: Repository,
  summaries: Map<string, VersionSummary>,
  sel: ReportSelection,
): Promise<{ ids: string[]; warnings: string[] }> {
  let ids: string[];
  let warnings: string[] = [];
  if (sel.revs?.length) {
    ids = [...new Set(sel.revs.map((r) => resolveRevision(repo, r)))];
  } else {
    ids = [...summaries.keys()];
  }
  if (sel.where !== undefined) {
    // lazy, for start-up: the query engine (re2js) costs 40-60 ms to load (see history/summaries.ts)
    const { compileQuery } = await import('../../core/query/index.js');
    const match = compileQuery(sel.where);
    ids = ids.filter((id) => {
      const s = summaries.get(id);
      return s !== undefined && match(queryRecord(s));
    });
    warnings = await whereWarnings(summaries.values(), sel.where);
  }
  // in the order this repository learned of them (the summaries' order), numbered or not
  const order = new Map([...summaries.keys()].map((id, i) => [id, i]));
  ids.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
  return { ids, warnings };
}

/**
 * The lineage graph of the selected versions: parent and base edges (through unselected versions to the nearest
 * selected ones), datasets and git commits.
 */
function lineageGraph(
  repo: Repository,
  ids: string[],
  summaries: Map<string, VersionSummary>,
  number: (id: string) => number | null,
): ReportData['lineage'] {
  const selected = new Set(ids);
  const nodes = new Map<string, LineageGraphNode>();
  const edges = new Map<string, LineageGraphEdge>();
  const edge = (e: LineageGraphEdge) => edges.set(`${e.from}>${e.to}>${e.relation}`, e);
  const label = (id: string) => (number(id) ? `v${number(id)}` : id.slice(0, 12));
  /** The selected versions nearest to id among its ancestors (id excluded). */
  const nearestSelected = (id: string): string[] => {
    const found = new Set<string>();
    const seen = new Set<string>();
    const stack = [...(summaries.get(id)?.parents ?? [])];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      if (selected.has(p)) found.add(p);
      else stack.push(...(summaries.get(p)?.parents ?? []));
    }
    return [...found];
  };
  for (const id of ids) {
    const v = repo.version(id);
    nodes.set(id, { id, kind: 'version', label: label(id), detail: v.message.split('\n')[0]! });
    for (const p of v.parents) {
      if (selected.has(p)) edge({ from: id, to: p, relation: 'parent' });
      else for (const a of nearestSelected(p)) edge({ from: id, to: a, relation: 'ancestor' });
    }
    const base = v.deps.base;
    if (base) {
      if (!selected.has(base))
        nodes.set(base, {
          id: base,
          kind: 'base',
          label: label(base),
          detail: summaries.get(base)?.message.split('\n')[0] ?? 'base model',
        });
      edge({ from: id, to: base, relation: 'base' });
    }
    for (const d of v.deps.data ?? []) {
      const key = `data:${d.id}`;
      const group = d.path ?? d.name ?? 'data';
      nodes.set(key, { id: key, kind: 'dataset', label: group, detail: d.id.slice(0, 12), group });
      edge({ from: id, to: key, relation: 'data' });
    }
    if (v.git) {
      const key = `git:${v.git.commit}`;
      nodes.set(key, {
        id: key,
        kind: 'git',
        label: `git ${v.git.commit.slice(0, 8)}`,
        detail: `${v.git.branch ?? ''}${v.git.dirty ? ' (dirty)' : ''}`.trim(),
      });
      edge({ from: id, to: key, relation: 'git' });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** Relative change per layer between two versions, from the streamed tensor statistics. */
async function pairLayers(repo: Repository, fromId: string, toId: string): Promise<LayerChange[]> {
  const d = await diffStored(repo, repo.version(fromId), repo.version(toId), { stats: true });
  const out: LayerChange[] = [];
  for (const f of d.files) {
    if (!f.tensors) continue;
    const layers = new Map<
      string,
      { delta2: number; base2: number; compared: number; changed: number; notCompared: number }
    >();
    for (const c of f.tensors.changes) {
      const l = layerOf(c.name);
      const acc = layers.get(l) ?? { delta2: 0, base2: 0, compared: 0, changed: 0, notCompared: 0 };
      acc.changed++;
      if (c.stats && Number.isFinite(c.stats.relL2)) {
        acc.delta2 += (c.stats.relL2 * c.stats.normA) ** 2;
        acc.base2 += c.stats.normA ** 2;
        acc.compared++;
      } else acc.notCompared++;
      layers.set(l, acc);
    }
    const totals = new Map(f.tensors.layers.map((l) => [l.layer, l.total]));
    for (const [layer, acc] of layers) {
      const relL2 =
        acc.compared === 0 ? null : acc.base2 > 0 ? Math.sqrt(acc.delta2 / acc.base2) : acc.delta2 > 0 ? null : 0;
      out.push({
        file: f.path,
        layer,
        relL2,
        changedTensors: acc.changed,
        totalTensors: totals.get(layer) ?? acc.changed,
        notCompared: acc.notCompared,
      });
    }
  }
  return out;
}

/** The default pair: the newest selected version and its first parent, else the selected version before it. */
function defaultPair(ids: string[], summaries: Map<string, VersionSummary>): [string, string] | null {
  const to = ids[ids.length - 1];
  if (!to) return null;
  const parent = summaries.get(to)?.parents[0];
  if (parent) return [parent, to];
  return ids.length >= 2 ? [ids[ids.length - 2]!, to] : null;
}

/** Gathers what `mvm report` shows about the selected versions. */
export async function reportData(repo: Repository, sel: ReportSelection = {}): Promise<ReportData> {
  const summaries = await allSummaries(repo);
  const { ids, warnings } = await selectVersions(repo, summaries, sel);
  if (!ids.length) {
    const why = warnings.length ? `: ${warnings.join('; ')}` : '';
    throw new MvmError(
      'NO_VERSIONS',
      sel.where !== undefined
        ? `no version matches --where '${sel.where}'${why}`
        : 'there are no versions to report on yet',
      {
        hint:
          sel.where !== undefined
            ? 'mvm log --all --where EXPR shows what matches'
            : 'commit a version first: mvm commit -m MESSAGE',
      },
    );
  }
  const number = numberLookup(repo);
  const branches = branchOf(repo, summaries);
  const refs = refNames(repo);
  const envs: ReportEnv[] = listEnvs(repo).map((name) => ({
    name,
    current: envCurrent(repo, name),
    moves: deployLog(repo, name).map((e) => ({ id: e.to, number: number(e.to), time: e.time, action: e.action })),
  }));
  const versions: ReportVersion[] = ids.map((id) => {
    const s = summaries.get(id)!;
    return {
      id,
      number: s.number,
      message: s.message,
      author: s.author,
      time: s.time,
      branch: branches.get(id) ?? null,
      refs: refs.get(id) ?? [],
      params: s.params,
      metrics: s.metrics,
      envs: envs.filter((e) => e.moves.some((m) => m.id === id)).map((e) => e.name),
    };
  });
  const comparison = compareVersions(repo, ids);
  const pairIds = sel.noPair
    ? null
    : sel.pair
      ? ([resolveRevision(repo, sel.pair[0]), resolveRevision(repo, sel.pair[1])] as [string, string])
      : defaultPair(ids, summaries);
  const pair = pairIds
    ? {
        from: { id: pairIds[0], number: number(pairIds[0]) },
        to: { id: pairIds[1], number: number(pairIds[1]) },
        layers: await pairLayers(repo, pairIds[0], pairIds[1]),
      }
    : null;
  return {
    format: 1,
    title: sel.title ?? 'mvm report',
    generated: new Date().toISOString(),
    versions,
    metrics: comparison.metricNames,
    directions: comparison.directions,
    branches: [...new Set(versions.map((v) => v.branch ?? '(no branch)'))],
    envs,
    lineage: lineageGraph(repo, ids, summaries, number),
    comparison,
    pair,
    warnings,
  };
}

/**
 * A stamp of the repository's state: the size and mtime of HEAD, the version
 * numbers, env settings, every ref and every log. Any commit, checkout, tag,
 * deploy or annotation changes it.
 */
export function stateStamp(repo: Repository): string {
  const h = createHash('sha256');
  const visit = (rel: string) => {
    const abs = join(repo.dir, rel);
    let st;
    try {
      st = statSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) visit(join(rel, name));
    } else h.update(`${rel}\0${st.size}\0${st.mtimeMs}\n`);
  };
  for (const rel of ['HEAD', 'numbers', 'envs.json', 'refs', 'logs']) visit(rel);
  return h.digest('hex').slice(0, 32);
}
