import { MvmError } from '../../errors.js';
import { metricDirection, type Direction } from '../../core/metrics.js';
import { suggest } from '../../core/suggest.js';
import { queryRecord, withSummaries } from './summaries.js';
import type { SummaryTable } from './summaryTable.js';
import type { VersionSummary } from './summary.js';
import type { Repository } from '../repository/index.js';

/** How to rank versions by a metric (`best`, `deploy --best`). */
export interface RankOptions {
  metric: string;
  where?: string;
  /** Force the direction; by default it is inferred from the metric's name (loss, latency... are lower-is-better). */
  lowerIsBetter?: boolean;
  higherIsBetter?: boolean;
  /** Every version, not only those HEAD descends from (the default, like `log`). */
  all?: boolean;
}

/** The versions that have the metric and match the query, best first, with the direction used. */
export interface Ranking {
  metric: string;
  direction: Direction;
  /** The best version: the first of `ranked`, found without sorting them (`best` needs no more). */
  best: VersionSummary;
  /** How many versions were ranked. */
  candidates: number;
  /** Best first; of equal values the newer version comes first (sorted when first read). */
  readonly ranked: VersionSummary[];
  /** Every summary of the repository, by id (for gates and current versions). */
  summaries: Map<string, VersionSummary>;
}

/** The direction of a ranking: forced by a flag, else inferred from the name, else higher. */
export function rankDirection(opts: Pick<RankOptions, 'metric' | 'lowerIsBetter' | 'higherIsBetter'>): Direction {
  if (opts.lowerIsBetter && opts.higherIsBetter)
    throw new MvmError('BAD_ARGUMENT', '--lower-is-better and --higher-is-better contradict each other');
  if (opts.lowerIsBetter) return 'lower';
  if (opts.higherIsBetter) return 'higher';
  return metricDirection(opts.metric) ?? 'higher';
}

/** The versions that have the metric and match the query, found in one scan of the table (not sorted). */
interface Scan {
  direction: Direction;
  found: { i: number; v: number }[];
  /** Index in `found` of the best. */
  top: number;
}

/**
 * Scans the versions on the current branch (or every one) for a numeric value of the metric (annotations
 * included) that match `where`; NO_VERSIONS (with a did-you-mean) when none does. Reads the table a field at a
 * time: the parents and metrics of every version, the whole summary only of those a query must see.
 */
async function scan(repo: Repository, opts: RankOptions, t: SummaryTable): Promise<Scan> {
  // the query language (and its regex engine) loads only when a query is given
  const match = opts.where !== undefined ? (await import('../../core/query/index.js')).compileQuery(opts.where) : null;
  const direction = rankDirection(opts);
  const scope = opts.all ? null : ancestry(repo.headId(), t);
  const found: Scan['found'] = [];
  // the table is oldest first: of two equal values the later index, the newer version, wins
  for (let i = 0; i < t.size; i++) {
    if (scope && !scope[i]) continue;
    const m = t.metrics(i);
    const v = Object.hasOwn(m, opts.metric) ? m[opts.metric] : undefined;
    if (typeof v !== 'number') continue;
    if (match && !match(queryRecord(t.summary(i)))) continue;
    found.push({ i, v });
  }
  if (!found.length) {
    const known = new Set<string>();
    for (let i = 0; i < t.size; i++) for (const m of Object.keys(t.metrics(i))) known.add(m);
    const suggestions = known.has(opts.metric) ? [] : suggest(opts.metric, known);
    throw new MvmError(
      'NO_VERSIONS',
      `no version${scope ? ' on the current branch' : ''} has metric '${opts.metric}'` +
        `${opts.where ? ' and matches the query' : ''}` +
        (suggestions.length ? ` (did you mean ${suggestions.map((x) => `'${x}'`).join(' or ')}?)` : ''),
      {
        metric: opts.metric,
        ...(suggestions.length ? { suggestions } : {}),
        hint: scope
          ? "--all searches every branch; record the metric with 'mvm commit --metric' or 'mvm annotate'"
          : "record it with 'mvm commit --metric' or 'mvm annotate'",
      },
    );
  }
  let top = 0;
  for (let k = 1; k < found.length; k++) if (ranksBefore(found[k]!, found[top]!, direction)) top = k;
  return { direction, found, top };
}

/** Whether a ranks before b: the better value, or of equal values the newer version (the later index). */
function ranksBefore(a: { i: number; v: number }, b: { i: number; v: number }, direction: Direction): boolean {
  return a.v === b.v ? a.i > b.i : direction === 'higher' ? a.v > b.v : a.v < b.v;
}

/** The best version by a metric, as `best` shows it. */
export interface Best {
  id: string;
  number: number | null;
  value: number;
  direction: Direction;
  /** How many versions were ranked. */
  candidates: number;
}

/**
 * The best version by a metric (`best`): one scan of the parents and metrics of every version, and no summary
 * built (unless a query must see them).
 */
export async function bestVersion(repo: Repository, opts: RankOptions): Promise<Best> {
  return withSummaries(repo, async (source) => {
    const t = source.table();
    const { direction, found, top } = await scan(repo, opts, t);
    const { i, v } = found[top]!;
    return { id: t.id(i), number: t.number(i), value: v, direction, candidates: found.length };
  });
}

/**
 * Ranks the versions on the current branch (or every one) that have a numeric value of the metric (annotations
 * included) and match `where`, best first, with every summary (`deploy --best` checks gates against them);
 * NO_VERSIONS (with a did-you-mean) when none does.
 */
export async function rankVersions(repo: Repository, opts: RankOptions): Promise<Ranking> {
  return withSummaries(repo, async (source) => {
    const t = source.table();
    const { direction, found, top } = await scan(repo, opts, t);
    // built here, while a damaged summary can still be read again from the manifests (withSummaries)
    const summaries = new Map<string, VersionSummary>();
    for (let i = 0; i < t.size; i++) summaries.set(t.id(i), t.summary(i));
    const of = (i: number) => summaries.get(t.id(i))!;
    let ranked: VersionSummary[] | null = null;
    return {
      metric: opts.metric,
      direction,
      best: of(found[top]!.i),
      candidates: found.length,
      get ranked() {
        ranked ??= [...found].sort((a, b) => (ranksBefore(a, b, direction) ? -1 : 1)).map((f) => of(f.i));
        return ranked;
      },
      summaries,
    };
  });
}

/** Which indexes of the table HEAD descends from (all parents), HEAD included. */
function ancestry(head: string | null, t: SummaryTable): Uint8Array {
  const seen = new Uint8Array(t.size);
  const start = head ? t.indexOf(head) : -1;
  const stack = start >= 0 ? [start] : [];
  while (stack.length) {
    const i = stack.pop()!;
    if (seen[i]) continue;
    seen[i] = 1;
    for (const p of t.parentRows(i)) if (!seen[p]) stack.push(p);
  }
  return seen;
}
