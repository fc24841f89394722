/**
 * A 50-version history for the report's scale tests, made through the library in one process (about a second):
 *
 *   main      22 versions; datasets train (a new snapshot every 7 versions) and valid
 *   wide      10 versions forked at main's 5th; train and web; two fine-tuned from main versions
 *   distill   10 versions forked at main's 10th, each tuned from main's newest version (a base edge each)
 *   feature    8 versions forked at main's 15th, pushed to the folder remote origin, then the local branch
 *              deleted: only origin/feature knows them
 *
 * Three git commits; envs default (3 versions), staging (3, one shared with default) and canary (one of feature's).
 * Metrics accuracy and loss, with long decimals (loss = 1 / (k + 2)).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../../src/ops/init.js';
import { add } from '../../src/ops/add.js';
import { commit } from '../../src/ops/commit.js';
import { checkout } from '../../src/ops/checkout.js';
import { createRef, deleteRef } from '../../src/ops/refs.js';
import { deploy } from '../../src/ops/deploy.js';
import { configureEnv } from '../../src/ops/env.js';
import { addRemote } from '../../src/ops/remote.js';
import { push } from '../../src/ops/push.js';
import { Repository } from '../../src/repo/repository/repository.js';

/** The history: its folder, each version's id by number (index 0 unused), the branch of each number. */
export interface ReportHistory {
  dir: string;
  ids: string[];
  branch: string[];
  /** The numbers each env has served, in order. */
  served: Record<string, number[]>;
  cleanup: () => void;
}

/** Which branch each of the 50 versions goes on, in commit order. */
const PLAN: [string, number][] = [
  ['main', 5],
  ['wide', 3],
  ['main', 5],
  ['distill', 3],
  ['wide', 3],
  ['main', 5],
  ['feature', 4],
  ['distill', 4],
  ['wide', 4],
  ['main', 4],
  ['feature', 4],
  ['distill', 3],
  ['main', 3],
];

/** Builds the history in a new temporary folder. */
export async function reportHistory(): Promise<ReportHistory> {
  const root = mkdtempSync(join(tmpdir(), 'mvm-report50-'));
  const dir = join(root, 'ws');
  const remote = join(root, 'remote');
  mkdirSync(dir);
  mkdirSync(remote);
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'T',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 'T',
    GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  const gitCommit = (m: string) =>
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', m], { cwd: dir, env: gitEnv });
  execFileSync('git', ['init', '-q'], { cwd: dir });
  gitCommit('code 1');
  init({ dir });
  const repo = Repository.open(dir);
  writeFileSync(join(dir, 'model.bin'), 'model 0');
  await add(repo, ['model.bin'], dir);

  const ids = [''];
  const branch = [''];
  const count: Record<string, number> = {};
  let mainTip = '';
  let current = 'main';
  const fork: Record<string, number> = { wide: 5, distill: 10, feature: 15 };
  for (const [b, n] of PLAN) {
    if (b !== current) {
      if (count[b] === undefined) {
        const mainNumbers = branch.map((x, i) => (x === 'main' ? i : 0)).filter(Boolean);
        await createRef(repo, 'branch', b, ids[mainNumbers[fork[b]! - 1]!]!);
      }
      await checkout(repo, b);
      current = b;
    }
    for (let i = 0; i < n; i++) {
      const k = ids.length;
      const c = (count[b] = (count[b] ?? 0) + 1);
      if (k === 20 || k === 35) gitCommit(`code ${k}`);
      writeFileSync(join(dir, 'model.bin'), `model ${k}`);
      const data = [`train=train-snap-${Math.ceil(Math.min(k, 28) / 7)}`];
      if (b === 'main') data.push('valid=valid-2026');
      if (b === 'wide') data.push('web=web-crawl-7');
      if (b === 'distill') data.splice(0, 1, `distill-set=ds-${c > 5 ? 2 : 1}`);
      if (b === 'feature') data.push('extra=extra-0001');
      const base = b === 'distill' ? mainTip : b === 'wide' && c % 5 === 0 ? mainTip : undefined;
      const r = await commit(repo, {
        message: `${b} step ${c}: lr ${(0.001 * (1 + (k % 4))).toFixed(4)}`,
        author: 'T <t@example.com>',
        metrics: { accuracy: 0.6 + k * 0.0071 + (b === 'wide' ? 0.013 : 0), loss: 1 / (k + 2) },
        params: { lr: 0.001 * (1 + (k % 4)), epochs: c },
        data,
        ...(base ? { base } : {}),
        time: new Date(Date.UTC(2026, 0, 1, k)).toISOString(),
      });
      ids.push(r.id);
      branch.push(b === 'feature' ? 'origin/feature' : b);
      if (b === 'main') mainTip = r.id;
    }
  }
  await checkout(repo, 'main');

  const served: Record<string, number[]> = { default: [3, 9, 20], staging: [9, 14, 30], canary: [23] };
  await configureEnv(repo, 'staging', { create: true });
  await configureEnv(repo, 'canary', { create: true });
  for (const [env, numbers] of Object.entries(served))
    for (const n of numbers) await deploy(repo, ids[n]!, { env, noGates: true });

  await addRemote(repo, 'origin', remote, {}, dir);
  await push(repo, { remote: 'origin', refs: ['feature'] });
  await deleteRef(repo, 'branch', 'feature', true);
  return { dir, ids, branch, served, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
