import { afterAll, expect } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mvm, randomBytes, type RunResult } from './cli.js';
import { json, ok, write } from './assertions.js';
import { touchStored } from './storedObjects.js';

// Fault injection (MVM_FAULT, see src/storage/faults.ts), for robustness/faults-*.test.ts (split in two files so
// the two test workers share the sweep): each write, fsync,
// rename, log append, unlink and chmod of commit, checkout, deploy and gc in
// turn is made to fail with EIO or to kill the process. After each: fsck is
// clean, history is intact, every workspace file is whole (the old version or
// the new one), and running the command again completes it.
// `npm test` tries every point once (kill and fail alternate);
// `npm run faults` (MVM_FAULTS=full) tries both at every point.
const FULL = process.env.MVM_FAULTS === 'full';
const exercised = new Map<string, number>();
/** Registers the line that says how many fault runs each scenario had (call once per test file). */
export function reportExercised(): void {
  afterAll(() => {
    const total = [...exercised.values()].reduce((a, b) => a + b, 0);
    console.log(`faults: ${total} fault runs: ${[...exercised].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });
}

const V1 = {
  'models/m.bin': randomBytes(2_500_000, 1),
  'models/c.txt': Buffer.from('config v1\n'),
  'models/only1.txt': Buffer.from('gone in v2\n'),
};
const V2 = {
  // its first two chunks as in v1: checkout v1 builds m.bin from this file (an in-kernel copy, then one chunk)
  'models/m.bin': Buffer.concat([randomBytes(2 << 20, 1), randomBytes(500_000, 2)]),
  'models/c.txt': Buffer.from('config v2\n'),
  'models/only2.txt': Buffer.from('new in v2\n'),
};

function writeTree(dir: string, tree: Record<string, Buffer>): void {
  rmSync(join(dir, 'models'), { recursive: true, force: true });
  for (const [p, data] of Object.entries(tree)) write(join(dir, p), data);
}

/** The workspace's model files as path -> content. */
function readTree(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const root = join(dir, 'models');
  if (!existsSync(root)) return out;
  for (const n of readdirSync(root)) out[`models/${n}`] = readFileSync(join(root, n));
  return out;
}

/** A template repository: v1 and v2 on main, v1 deployed, a branch whose only version is old enough for gc. */
function template(): { dir: string; v1: string; v2: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-faults-'));
  const run = (args: string[]) => mvm(args, { cwd: dir });
  writeTree(dir, V1);
  ok(run(['init']));
  ok(run(['add', 'models']));
  const v1 = json(run(['commit', '-m', 'v1', '--json'])).id as string;
  ok(run(['deploy', 'v1']));
  ok(run(['branch', 'exp']));
  ok(run(['checkout', 'exp']));
  write(join(dir, 'models/exp.bin'), randomBytes(300_000, 9));
  ok(run(['commit', '-m', 'exp']));
  ok(run(['checkout', 'main']));
  ok(run(['branch', '-D', 'exp']));
  writeTree(dir, V2);
  const v2 = json(run(['commit', '-m', 'v2', '--json'])).id as string;
  // old enough that gc --grace 0 and the default both take the branch's objects
  const objects = join(dir, '.mvm', 'objects');
  const t = Date.now() / 1000 - 3 * 86_400;
  touchStored(objects, t);
  return { dir, v1, v2, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Scenario {
  name: string;
  args: string[];
  /** Environment of every run of the command (the sweep adds MVM_FAULT). */
  env?: Record<string, string>;
  /** Before the command: change the copy's workspace if the scenario needs it. */
  prepare?: (dir: string) => void;
  /** What must hold after the command failed or was killed at some point. */
  afterFault: (dir: string, r: RunResult, ids: { v1: string; v2: string }) => void;
  /** What must hold once the command has been run again without faults. */
  afterRerun: (dir: string, ids: { v1: string; v2: string }) => void;
}

const run = (dir: string, args: string[], env: Record<string, string> = {}) => mvm(args, { cwd: dir, env });
const fsckClean = (dir: string) => {
  const f = run(dir, ['fsck', '--json']);
  expect(f.exitCode, f.stdout).toBe(0);
};
const numbers = (dir: string) =>
  json(run(dir, ['log', '--all', '--json']))
    .map((e: { number: number }) => e.number)
    .sort();
const sameTree = (a: Record<string, Buffer>, b: Record<string, Buffer>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([p, d]) => b[p]?.equals(d));

/** Checkout of v1 over v2: the files are exchanged with the old ones where the platform can (storage/exchange.ts). */
const CHECKOUT: Scenario = {
  name: 'checkout',
  args: ['checkout', 'v1'],
  afterFault: (dir, r) => {
    // each file whole: v1's or v2's bytes, never a mix within a file
    const tree = readTree(dir);
    // a failure (not a kill) puts the whole workspace back, but for one absorbed once HEAD moved (exit 0)
    if (r.exitCode !== -1 && r.exitCode !== 0) expect(sameTree(tree, V2), r.stderr).toBe(true);
    for (const [p, d] of Object.entries(tree))
      expect(V1[p as keyof typeof V1]?.equals(d) || V2[p as keyof typeof V2]?.equals(d), p).toBe(true);
    const head = json(run(dir, ['show', 'HEAD', '--json'])).version.message;
    // HEAD moves last: if it says v1, the workspace holds all of v1
    if (head === 'v1') expect(sameTree(tree, V1)).toBe(true);
  },
  afterRerun: (dir) => {
    expect(sameTree(readTree(dir), V1)).toBe(true);
    expect(json(run(dir, ['show', 'HEAD', '--json'])).version.message).toBe('v1');
    expect(json(run(dir, ['status', '--json'])).clean).toBe(true);
    // an old file a kill left in .mvm/trash is unlinked by the background process the rerun started
    expect(trashEmptied(dir), 'files left in .mvm/trash').toBe(true);
  },
};

export const SCENARIOS: Scenario[] = [
  {
    name: 'commit',
    args: ['commit', '-m', 'v3'],
    prepare: (dir) => write(join(dir, 'models/c.txt'), 'config v3\n'),
    afterFault: (dir, r) => {
      if (r.exitCode !== -1) {
        expect(r.stderr).not.toMatch(/nothing was changed/i);
        // a failure once the manifest is stored says what was left behind and what to do
        if (/\.mvm\/(numbers|refs)/.test(r.stderr)) expect(r.stderr).toMatch(/was stored/);
      }
      // the workspace is never touched by a commit
      expect(readFileSync(join(dir, 'models/c.txt'), 'utf8')).toBe('config v3\n');
      const head = json(run(dir, ['show', 'HEAD', '--json']));
      expect(['v2', 'v3']).toContain(head.version.message);
    },
    afterRerun: (dir) => {
      expect(json(run(dir, ['show', 'HEAD', '--json'])).version.message).toBe('v3');
      expect(json(run(dir, ['status', '--json'])).clean).toBe(true);
    },
  },
  CHECKOUT,
  // the same with renames over the old files, as where there is no exchange of names
  { ...CHECKOUT, name: 'checkout-rename', env: { MVM_EXCHANGE: '0' } },
  {
    name: 'deploy',
    args: ['deploy', 'main'],
    afterFault: (dir, _r, ids) => {
      expect([ids.v1, ids.v2]).toContain(json(run(dir, ['show', 'deployed', '--json'])).id);
    },
    afterRerun: (dir, ids) => {
      expect(json(run(dir, ['show', 'deployed', '--json'])).id).toBe(ids.v2);
      ok(run(dir, ['rollback']));
      expect(json(run(dir, ['show', 'deployed', '--json'])).id).toBe(ids.v1);
    },
  },
  {
    name: 'gc',
    args: ['gc', '--grace', '0'],
    afterFault: (dir) => {
      expect(sameTree(readTree(dir), V2)).toBe(true);
    },
    afterRerun: (dir) => {
      expect(json(run(dir, ['gc', '--grace', '0', '--json'])).removed.objects).toBe(0);
      rmSync(join(dir, 'models'), { recursive: true });
      ok(run(dir, ['checkout', 'v1', '--force']));
      expect(sameTree(readTree(dir), V1)).toBe(true);
    },
  },
];

/** True once `.mvm/trash` is empty or gone, waiting up to 10 s for the background process that empties it. */
export function trashEmptied(dir: string): boolean {
  const trash = join(dir, '.mvm', 'trash');
  const until = Date.now() + 10_000;
  for (;;) {
    if (!existsSync(trash) || readdirSync(trash).length === 0) return true;
    if (Date.now() > until) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/** Runs a scenario's command with a kill or a failure at each of its fault points, and checks what is left. */
export function faultSweep(s: Scenario): void {
  const tpl = template();
  try {
    // count the points the command passes
    const probe = mkdtempSync(join(tmpdir(), 'mvm-faults-probe-'));
    cpSync(tpl.dir, probe, { recursive: true });
    s.prepare?.(probe);
    const log = join(probe, '..', `${probe.split('/').pop()}.points`);
    ok(run(probe, s.args, { ...s.env, MVM_FAULT: 'count', MVM_FAULT_LOG: log }));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const points = lines.length;
    // moving an old file into .mvm/trash and starting its unlink happen after HEAD moved: a failure there is
    // absorbed (the file is deleted at once, or left for the next sweep) and the command succeeds
    const absorbed = new Set(lines.filter((l) => /\/\.mvm\/trash(\/|$)/.test(l)).map((l) => Number(l.split(' ')[0])));
    rmSync(probe, { recursive: true, force: true });
    rmSync(log, { force: true });
    expect(points).toBeGreaterThan(1);
    for (let n = 1; n <= points; n++) {
      for (const mode of FULL ? ['kill', 'fail'] : [n % 2 ? 'kill' : 'fail']) {
        const dir = mkdtempSync(join(tmpdir(), 'mvm-faults-run-'));
        try {
          cpSync(tpl.dir, dir, { recursive: true });
          s.prepare?.(dir);
          const before = numbers(dir);
          const r = run(dir, s.args, { ...s.env, MVM_FAULT: `${mode}:${n}` });
          const where = `${s.name} ${mode}:${n}`;
          if (mode === 'kill') expect(r.exitCode, where).toBe(-1);
          else if (absorbed.has(n)) expect(r.exitCode, `${where}: ${r.stderr}`).toBe(0);
          else {
            expect(r.exitCode, `${where}: ${r.stderr}`).not.toBe(0);
            expect(r.stderr, where).toMatch(/^mvm: .*(EIO|i\/o error)/);
          }
          fsckClean(dir);
          // history intact: every number that was there still is, but for a version gc removed (its manifest
          // deleted after logs/gc recorded it), which says so
          const kept = numbers(dir);
          for (const n of before.filter((x: number) => !kept.includes(x))) {
            const gone = run(dir, ['show', `v${n}`]);
            expect(gone.stderr, `${where}: v${n}`).toMatch(/was removed by 'mvm gc'/);
          }
          s.afterFault(dir, r, tpl);
          ok(run(dir, s.args, s.env));
          fsckClean(dir);
          s.afterRerun(dir, tpl);
          exercised.set(s.name, (exercised.get(s.name) ?? 0) + 1);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    tpl.cleanup();
  }
}
