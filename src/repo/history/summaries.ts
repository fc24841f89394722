import type { QueryRecord } from '../../core/query/index.js';
import { didYouMean } from '../../core/suggest.js';
import type { Repository } from '../repository/index.js';
import { refreshSummaries, summariesInMemory } from './summaryStore.js';
import { SummaryFileDamaged, type VersionSummary } from './summary.js';
import { SummaryReader } from './summaryFile.js';
import { shownTable, type SummaryTable, tableOf } from './summaryTable.js';

/** Names pointing at each version: branches, tags, HEAD, deployed and each env's `deployed:ENV`. */
export function refNames(repo: Repository): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (id: string | null, name: string) => {
    if (!id) return;
    out.set(id, [...(out.get(id) ?? []), name]);
  };
  const head = repo.head();
  if (head.kind === 'detached') add(head.id, 'HEAD');
  for (const b of repo.refs.list('refs/heads/'))
    add(b.value, (head.kind === 'branch' && head.ref === b.ref ? 'HEAD -> ' : '') + b.name);
  for (const t of repo.refs.list('refs/tags/')) add(t.value, `tag: ${t.name}`);
  for (const r of repo.refs.list('refs/remotes/')) add(r.value, r.name);
  add(repo.refs.read('refs/deployed'), 'deployed');
  for (const e of repo.refs.list('refs/envs/')) add(e.value, `deployed:${e.name}`);
  return out;
}

/** The record a query sees for a version. */
export function queryRecord(s: VersionSummary): QueryRecord {
  return {
    id: s.id,
    number: s.number,
    author: s.author,
    date: s.time,
    message: s.message,
    metrics: s.metrics,
    params: s.params,
    meta: s.meta,
  };
}

/** Version summaries by id, read as far as asked. */
export interface SummarySource {
  get(id: string): VersionSummary | undefined;
  /** Every summary, in number order. */
  all(): Map<string, VersionSummary>;
  /** Every summary, in number order, read a field at a time (for a scan that builds few summaries). */
  table(): SummaryTable;
}

/** A map of summaries as a SummarySource. */
const mapSource = (all: Map<string, VersionSummary>): SummarySource => ({
  get: (id) => all.get(id),
  all: () => all,
  table: () => tableOf([...all.values()]),
});

/**
 * The summaries as views see them: a line of `.mvm/numbers` past what the
 * shared registry confirmed is a version made here and not numbered yet, so
 * its number is null (the number log is the one source of numbers).
 */
function shownNumbers(repo: Repository, source: SummarySource): SummarySource {
  const confirmed = repo.numbers.confirmed();
  if (confirmed === null) return source;
  const shown = (s: VersionSummary | undefined) =>
    s && s.number !== null && s.number > confirmed ? { ...s, number: null } : s;
  return {
    get: (id) => shown(source.get(id)),
    table: () => shownTable(source.table(), confirmed),
    all: () => {
      const all = source.all();
      let out: Map<string, VersionSummary> | null = null;
      for (const [id, s] of all)
        if (s.number !== null && s.number > confirmed) (out ??= new Map(all)).set(id, shown(s)!);
      return out ?? all;
    },
  };
}

/** The current summary file, or the summaries in memory when it cannot be brought up to date now. */
async function openSummaries(repo: Repository): Promise<SummaryReader | Map<string, VersionSummary>> {
  const file = SummaryReader.open(repo);
  if (file) return file;
  const fresh = await refreshSummaries(repo);
  if (fresh !== true) return fresh;
  // written, but the logs may have moved again since: then this once in memory
  return SummaryReader.open(repo) ?? summariesInMemory(repo);
}

/**
 * Runs `fn` over the version summaries: from the summary file, brought up to
 * date first when the logs moved (see summaryStore.ts), or from memory when
 * another process is updating it. `fn` runs again when the file turns out
 * damaged part-way, so it must not act before it returns.
 */
export async function withSummaries<T>(repo: Repository, fn: (summaries: SummarySource) => T | Promise<T>): Promise<T> {
  const source = await openSummaries(repo);
  if (source instanceof Map) return fn(shownNumbers(repo, mapSource(source)));
  try {
    return await fn(shownNumbers(repo, source));
  } catch (e) {
    if (!(e instanceof SummaryFileDamaged)) throw e;
  } finally {
    source.close();
  }
  // damaged part-way: written again for the next reader (when this one can), and this once from the manifests
  const rebuilt = await refreshSummaries(repo, { damaged: true });
  return fn(shownNumbers(repo, mapSource(rebuilt === true ? summariesInMemory(repo, { damaged: true }) : rebuilt)));
}

/** Summaries of every version, by id, in number order. */
export async function allSummaries(repo: Repository): Promise<Map<string, VersionSummary>> {
  return withSummaries(repo, (s) => s.all());
}

/**
 * What a --where expression probably got wrong: a field that no version has
 * makes every comparison on it false, so say so (with the closest names)
 * instead of an empty result and silence.
 */
export async function whereWarnings(summaries: Iterable<VersionSummary>, where: string): Promise<string[]> {
  // lazy, for start-up: loading the query engine (re2js) took 40-60 ms more than a leaf module
  // (dist/core/query/index.js against dist/errors.js, 2026-12-07, a busy 2-core machine); only a query needs it
  const query = await import('../../core/query/index.js');
  const list = [...summaries];
  const nss = ['metrics', 'params', 'meta'] as const;
  // the fields named are looked for first (most are on the newest version): every name is gathered only for a miss
  const missing = query
    .referencedFields(query.parseQuery(where))
    .filter((f) => (nss as readonly string[]).includes(f.ns))
    .filter((f) => !list.some((v) => Object.hasOwn(v[f.ns as (typeof nss)[number]], f.key)));
  if (!missing.length) return [];
  const known: Record<string, Set<string>> = { metrics: new Set(), params: new Set(), meta: new Set() };
  for (const v of list) for (const ns of nss) for (const k of Object.keys(v[ns])) known[ns]!.add(k);
  const warnings: string[] = [];
  for (const f of missing) {
    const all = Object.entries(known).flatMap(([ns, ks]) => [...ks].map((k) => `${ns}.${k}`));
    warnings.push(`no version has ${f.ns}.${f.key}${didYouMean(`${f.ns}.${f.key}`, all)}`);
  }
  return warnings;
}
