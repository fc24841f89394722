import type { QueryRecord } from '../core/query/index.js';
import type { Repository } from './repository.js';
import { withIndex } from './session.js';
import type { VersionSummary } from './versionIndex.js';

/** Names pointing at each version: branches, tags, HEAD, deployed and each env's `deployed:ENV`. */
export function refNames(repo: Repository): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (id: string | null, name: string) => {
    if (!id) return;
    out.set(id, [...(out.get(id) ?? []), name]);
  };
  const head = repo.head();
  if (head.kind === 'detached') add(head.id, 'HEAD');
  for (const b of repo.refs.list('refs/heads/')) add(b.value, (head.kind === 'branch' && head.ref === b.ref ? 'HEAD -> ' : '') + b.name);
  for (const t of repo.refs.list('refs/tags/')) add(t.value, `tag: ${t.name}`);
  for (const r of repo.refs.list('refs/remotes/')) add(r.value, r.name);
  add(repo.refs.read('refs/deployed'), 'deployed');
  for (const e of repo.refs.list('refs/envs/')) add(e.value, `deployed:${e.name}`);
  return out;
}

/** The record a query sees for a version. */
export function queryRecord(s: VersionSummary): QueryRecord {
  return { id: s.id, number: s.number, author: s.author, date: s.time, message: s.message, metrics: s.metrics, params: s.params, meta: s.meta };
}

/** Summaries of every version, by id, from the index. */
export async function allSummaries(repo: Repository): Promise<Map<string, VersionSummary>> {
  return withIndex(repo, async (index) => {
    const m = new Map<string, VersionSummary>();
    for (const s of await index.summaries()) m.set(s.id, s);
    return m;
  });
}
