import { MvmError } from '../../errors.js';
import { metricDirection, type Direction } from '../../core/metrics.js';
import { suggest } from '../../core/suggest.js';
import { allSummaries, queryRecord } from './summaries.js';
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

/**
 * Ranks the versions on the current branch (or every one) that have a numeric value of the metric (annotations
 * included) and match `where`, best first; NO_VERSIONS (with a did-you-mean) when none does.
 */
export async function rankVersions(repo: Repository, opts: RankOptions): Promise<Ranking> {
  // the query language (and its regex engine) loads only when a query is given
  const match = opts.where !== undefined ? (await import('../../core/query/index.js')).compileQuery(opts.where) : null;
  const direction = rankDirection(opts);
  const summaries = await allSummaries(repo);
  const scope = opts.all ? null : ancestry(repo.headId(), summaries);
  const found: { s: VersionSummary; v: number; order: number }[] = [];
  let order = 0;
  // summaries come oldest first: `order` makes the newer of two equal values win
  for (const s of summaries.values()) {
    order++;
    if (scope && !scope.has(s.id)) continue;
    const v = Object.hasOwn(s.metrics, opts.metric) ? s.metrics[opts.metric] : undefined;
    if (typeof v !== 'number') continue;
    if (match && !match(queryRecord(s))) continue;
    found.push({ s, v, order });
  }
  if (!found.length) {
    const known = new Set<string>();
    for (const s of summaries.values()) for (const m of Object.keys(s.metrics)) known.add(m);
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
  type Found = (typeof found)[number];
  // whether a ranks before b
  const before = (a: Found, b: Found) =>
    a.v === b.v ? a.order > b.order : direction === 'higher' ? a.v > b.v : a.v < b.v;
  let top = found[0]!;
  for (const f of found) if (before(f, top)) top = f;
  let ranked: VersionSummary[] | null = null;
  return {
    metric: opts.metric,
    direction,
    best: top.s,
    candidates: found.length,
    get ranked() {
      ranked ??= found
        .sort((a, b) => (a.v === b.v ? b.order - a.order : direction === 'higher' ? b.v - a.v : a.v - b.v))
        .map((f) => f.s);
      return ranked;
    },
    summaries,
  };
}

/** HEAD and every version it descends from (all parents), from the index's summaries. */
function ancestry(head: string | null, summaries: Map<string, VersionSummary>): Set<string> {
  const seen = new Set<string>();
  const stack = head ? [head] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const p of summaries.get(id)?.parents ?? []) stack.push(p);
  }
  return seen;
}
