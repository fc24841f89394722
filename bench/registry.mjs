// Times registry adoption: a fresh clone's numbers following a remote registry
// of N versions (default 16,000), all held here. Run after `npm run build`:
//   node bench/registry.mjs [N]
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepository } from '../dist/repo/repository/create.js';
import { Repository } from '../dist/repo/repository/repository.js';
import { followRegistry } from '../dist/repo/history/numbering.js';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'registry' });

const n = Number(process.argv.slice(2).find((a) => a !== '--record') ?? 16000);
const dir = mkdtempSync(join(tmpdir(), 'mvm-registry-'));
try {
  createRepository({ dir });
  const repo = Repository.open(dir);
  const base = {
    type: 'version',
    format: 1,
    parents: [],
    message: '',
    author: 'bench',
    time: '2026-01-01T00:00:00.000Z',
    files: {},
    metrics: {},
    params: {},
    meta: {},
    deps: { data: [] },
  };
  const ids = [];
  let parent = null;
  for (let i = 0; i < n; i++) {
    parent = repo.putObject({ ...base, parents: parent ? [parent] : [], message: `v${i + 1}` });
    ids.push(parent);
  }
  try {
    unlinkSync(join(dir, '.mvm', 'numbers'));
  } catch {}
  const fresh = Repository.open(dir);
  const t0 = performance.now();
  await followRegistry(fresh, ids);
  const ms = performance.now() - t0;
  const got = fresh.numbers.readAll();
  console.log(JSON.stringify({ entries: n, ms: Math.round(ms), numbered: got.filter(Boolean).length }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
