import { parseRelativeDate } from '../core/query/dates.js';
import { MvmError } from '../errors.js';
import { iterateHistory } from '../core/dag.js';
import type { Repository } from '../repo/repository/index.js';
import {
  summarize,
  type VersionSummary,
  queryRecord,
  refNames,
  whereWarnings,
  withSummaries,
  type SummarySource,
  resolveRevision,
} from '../repo/history/index.js';
import { checkSignatures, signatureLog, type VersionSignatures } from '../repo/signing/index.js';

/** Options of `mvm log`. */
export interface LogOptions {
  /** Where to start (default HEAD). */
  revs?: string[];
  /** Every version in the repository, not just those reachable from HEAD. */
  all?: boolean;
  limit?: number;
  where?: string;
  author?: string;
  since?: string;
  until?: string;
  grep?: string;
  /** Only versions that used this dataset (id or path). */
  usesData?: string;
  /** Only versions fine-tuned (directly or not) from this revision. */
  basedOn?: string;
  /** Check each version's signatures with ssh-keygen (otherwise log only says whether it has any). */
  showSignature?: boolean;
}

/** One line of `mvm log`: a version summary and its refs. */
export interface LogEntry extends VersionSummary {
  refs: string[];
  /** Whether the version has a signature (not verified). */
  signed: boolean;
  /** With showSignature: its signatures checked against the allowed signers. */
  signature?: Pick<VersionSignatures, 'status' | 'principals' | 'signatures'>;
}

/** What `mvm log` found. */
export interface LogResult {
  entries: LogEntry[];
  /** Things the user probably did not mean: a --where field that no version has (with the closest names). */
  warnings: string[];
}

function parseDate(text: string, flag: string): string {
  const relative = parseRelativeDate(text, new Date());
  if (relative) return relative.toISOString();
  const t = new Date(text);
  if (Number.isNaN(t.getTime()))
    throw new MvmError('BAD_VALUE', `--${flag} '${text}' is not a date`, {
      value: text,
      hint: "use an ISO date such as 2026-01-31, or '2 days ago', 'yesterday'",
    });
  return t.toISOString();
}

/**
 * Lists versions newest first, from HEAD (or the given revisions, or all),
 * filtered by a query expression and the usual git-log flags. Reads only the
 * index, never manifests, so it stays fast on large histories.
 */
export async function log(repo: Repository, opts: LogOptions = {}): Promise<LogResult> {
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 0)) {
    throw new MvmError('BAD_VALUE', `-n must be a whole number of versions, not '${opts.limit}'`, {
      value: opts.limit,
    });
  }
  // the query language (and its regex engine) loads only when a query is given
  const query = opts.where !== undefined ? await import('../core/query/index.js') : null;
  const match = query ? query.compileQuery(opts.where!) : null;
  const since = opts.since ? parseDate(opts.since, 'since') : null;
  const until = opts.until ? parseDate(opts.until, 'until') : null;
  let grep: RegExp | null = null;
  if (opts.grep) {
    try {
      grep = new RegExp(opts.grep, 'i');
    } catch {
      throw new MvmError('BAD_VALUE', `--grep '${opts.grep}' is not a valid regular expression`, { value: opts.grep });
    }
  }
  // a dataset matches by id, by the path or name it was recorded under, or by the current content of that path
  let dataKeys: string[] | null = null;
  if (opts.usesData) {
    dataKeys = [opts.usesData];
    if (!/^[0-9a-f]{16,}$/.test(opts.usesData)) {
      dataKeys.push(repo.relPath(opts.usesData));
      // hashing data needs the chunker and its workers: loaded only for --uses-data
      const { hashData } = await import('../repo/workspace/index.js');
      const id = await hashData(repo, opts.usesData).catch(() => null);
      if (id) dataKeys.push(id);
    }
  }
  const baseId = opts.basedOn ? resolveRevision(repo, opts.basedOn) : null;
  const starts = opts.all
    ? null
    : opts.revs?.length
      ? opts.revs.map((r) => resolveRevision(repo, r))
      : [repo.headId()].filter((h): h is string => !!h);
  const refs = refNames(repo);
  // one read of logs/signatures; ssh-keygen runs only for --show-signature
  const sigLog = signatureLog(repo);
  const signed = new Set(sigLog.map((e) => e.target));
  const limit = opts.limit ?? Infinity;
  // summaries are read newest first and only as far back as the walk goes, so `log -n 10` reads little
  // a walk that may go all the way back reads every summary at once: from the summary columns, where there are
  // some, rather than line by line as far as the walk goes
  const whole = limit === Infinity || !!(match || opts.author || since || until || grep || dataKeys || baseId);
  return withSummaries(repo, async (summaries: SummarySource) => {
    if (whole) summaries.all();
    const load = (id: string) => {
      const s = summaries.get(id);
      if (s) return { parents: s.parents, time: s.time };
      const v = repo.version(id);
      return { parents: v.parents, time: v.time };
    };
    const basedOn = (s: VersionSummary): boolean => {
      const seen = new Set<string>();
      let b = s.base;
      while (b && !seen.has(b)) {
        if (b === baseId) return true;
        seen.add(b);
        b = summaries.get(b)?.base ?? null;
      }
      return false;
    };
    const entries: LogEntry[] = [];
    // --all: every version summarised, and whatever a ref reaches that has no line in numbers (a remote branch's
    // version the registry did not number, say)
    const all = () => [...summaries.all().keys(), ...refs.keys()].filter((id) => repo.objects.has(id));
    for (const id of iterateHistory(starts ?? all(), load)) {
      if (entries.length >= limit) break;
      const s = summaries.get(id) ?? { ...placeholder(repo, id) };
      if (match && !match(queryRecord(s))) continue;
      if (opts.author && !s.author.toLowerCase().includes(opts.author.toLowerCase())) continue;
      if (since && s.time < since) continue;
      if (until && s.time > until) continue;
      if (grep && !grep.test(s.message)) continue;
      if (dataKeys && !dataKeys.some((k) => s.data.includes(k))) continue;
      if (baseId && !basedOn(s)) continue;
      const entry: LogEntry = { ...s, refs: refs.get(id) ?? [], signed: signed.has(id) };
      if (opts.showSignature) {
        const { status, principals, signatures } = checkSignatures(repo, id, sigLog);
        entry.signature = { status, principals, signatures };
      }
      entries.push(entry);
    }
    const warnings = opts.where !== undefined ? await whereWarnings(summaries.all().values(), opts.where) : [];
    return { entries, warnings };
  });
}

/** A summary for a version the index does not number (e.g. reachable but never numbered here). */
function placeholder(repo: Repository, id: string): VersionSummary {
  return { ...summarize(id, 0, repo.version(id)), number: null };
}
