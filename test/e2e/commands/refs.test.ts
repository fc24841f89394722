/**
 * Revisions and refs through the real CLI: every revision form (vN, full and
 * abbreviated hashes, branches, tags, HEAD, ~N / ^ steps, deployed,
 * deployed@{N}), branch and tag create / list / delete, checkout of a branch
 * (HEAD attached) versus a version (detached), commits on branches, the graph
 * across branches, and version numbering across branches.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import { mvm, randomBytes, testdir, type RunResult } from '../../helpers/cli.js';
import { ok, json, expectError, write } from '../../helpers/assertions.js';

const CHUNK = 4096;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

interface Repo {
  dir: string;
  path: (p: string) => string;
  run: (args: string[]) => RunResult;
  /** Version ids by number: ids[1] is v1. */
  ids: string[];
  /** The id a revision resolves to (via `mvm show REV --json`). */
  resolve: (rev: string) => string;
  /** Branches and tags as name -> version number. */
  refs: (kind: 'branch' | 'tag') => Record<string, number>;
  /** Changes the model so the next commit makes a new version. */
  touch: (seed: number) => void;
}

// main: v1 -> v2 -> v3, made once and copied for each test (spawning the CLI is the slow part)
let template: ReturnType<typeof testdir>;
let templateIds: string[];
beforeAll(() => {
  template = testdir();
  const run = (args: string[]) => mvm(args, { cwd: template.dir });
  write(template.path('models/w.bin'), randomBytes(3 * CHUNK, 1));
  ok(run(['init', '--chunk-size', String(CHUNK)]));
  ok(run(['add', 'models']));
  templateIds = [''];
  for (const n of [1, 2, 3]) {
    if (n > 1) write(template.path('models/w.bin'), randomBytes(3 * CHUNK, n));
    templateIds.push(json(run(['commit', '-m', `commit ${n}`, '--json'])).id);
  }
});
afterAll(() => template?.cleanup());

function repo(): Repo {
  const t = testdir();
  cleanups.push(t.cleanup);
  cpSync(template.dir, t.dir, { recursive: true });
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  return {
    dir: t.dir,
    path: t.path,
    run,
    ids: [...templateIds],
    resolve: (rev) => json(run(['show', rev, '--json'])).id,
    refs: (kind) => Object.fromEntries(json<any[]>(run([kind, '--json'])).map((r) => [r.name, r.number])),
    touch: (seed) => write(t.path('models/w.bin'), randomBytes(3 * CHUNK, seed)),
  };
}

describe('revisions', () => {
  it('resolves vN, full and abbreviated hashes, branches, tags, HEAD and ~N / ^ steps', () => {
    const r = repo();
    const [, v1, v2, v3] = r.ids as [string, string, string, string];
    ok(r.run(['tag', 'prod', 'v2']));
    // an abbreviation that is unique among the three versions
    let n = 4;
    while (r.ids.slice(1).filter((id) => id.startsWith(v2.slice(0, n))).length > 1) n++;
    const cases: [string, string][] = [
      ['v1', v1],
      ['v3', v3],
      [v2, v2],
      [v2.slice(0, n), v2],
      ['main', v3],
      ['prod', v2],
      ['refs/heads/main', v3],
      ['refs/tags/prod', v2],
      ['HEAD', v3],
      ['HEAD~1', v2],
      ['HEAD~2', v1],
      ['HEAD^', v2],
      ['HEAD^^', v1],
      ['main~1', v2],
      ['prod~1', v1],
      ['v3~2', v1],
    ];
    for (const [rev, id] of cases) expect(r.resolve(rev), rev).toBe(id);
    const s = json(r.run(['show', 'HEAD~1', '--json']));
    expect(s.number).toBe(2);
    expect(s.refs).toEqual(['tag: prod']);
    expectError(r.run(['show', 'HEAD~3', '--json']), 'UNKNOWN_REVISION', 4);
    expectError(r.run(['show', 'v1^', '--json']), 'UNKNOWN_REVISION', 4);
    // the other commands take the same revisions
    expect(json(r.run(['diff', 'HEAD~2', 'HEAD^', '--json'])).to.id).toBe(v2);
    expect(json<any[]>(r.run(['log', 'main~1', '--json'])).map((e) => e.id)).toEqual([v2, v1]);
  });

  it('resolves deployed and deployed@{N}', () => {
    const r = repo();
    const [, v1, v2, v3] = r.ids as [string, string, string, string];
    ok(r.run(['deploy', 'v1']));
    expect(r.resolve('deployed')).toBe(v1);
    ok(r.run(['deploy', 'HEAD~1']));
    ok(r.run(['deploy', 'main']));
    expect(r.resolve('deployed')).toBe(v3);
    expect(r.resolve('deployed@{0}')).toBe(v3);
    expect(r.resolve('deployed@{1}')).toBe(v2);
    expect(r.resolve('deployed@{2}')).toBe(v1);
    expect(r.resolve('deployed~1')).toBe(v2); // an ancestry step from the deployed version
    expectError(r.run(['show', 'deployed@{3}', '--json']), 'NO_PREVIOUS_DEPLOYMENT', 4);
    ok(r.run(['rollback']));
    expect(r.resolve('deployed')).toBe(v2);
    expect(r.resolve('deployed@{1}')).toBe(v3);
    // deployed is shown in log
    expect(json<any[]>(r.run(['log', '--json'])).find((e) => e.id === v2).refs).toContain('deployed');
  });
});

describe('branches and tags', () => {
  it('branch create, list and delete', () => {
    const r = repo();
    const [, v1, , v3] = r.ids as [string, string, string, string];
    expect(json<any[]>(r.run(['branch', '--json']))).toEqual([{ name: 'main', id: v3, number: 3, current: true }]);

    const created = ok(r.run(['branch', 'exp', 'v1'])).stdout;
    expect(created).toMatch(new RegExp(`Created branch exp at v1 ${v1.slice(0, 12)}`));
    expect(json(r.run(['branch', 'feature/lr-sweep', '--json']))).toEqual({
      name: 'feature/lr-sweep',
      id: v3,
      number: 3,
      current: false,
    });

    const list = json<any[]>(r.run(['branch', '--json']));
    expect(list.map((b) => [b.name, b.number, b.current]).sort()).toEqual([
      ['exp', 1, false],
      ['feature/lr-sweep', 3, false],
      ['main', 3, true],
    ]);
    const text = ok(r.run(['branch']))
      .stdout.trimEnd()
      .split('\n');
    expect(text).toHaveLength(3);
    expect(text).toContainEqual(expect.stringMatching(/^\* main +v3 /));
    expect(text).toContainEqual(expect.stringMatching(/^ {2}exp +v1 /));

    // a branch that exists is not moved without --force
    expectError(r.run(['branch', 'exp', 'v2', '--json']), 'REF_EXISTS', 1);
    expect(r.refs('branch').exp).toBe(1);
    expect(json(r.run(['branch', 'exp', 'v2', '--force', '--json'])).number).toBe(2);
    expect(r.refs('branch').exp).toBe(2);

    const del = json(r.run(['branch', '-d', 'exp', '--json']));
    expect(del).toMatchObject({ name: 'exp', number: 2 });
    expect(r.refs('branch')).toEqual({ 'feature/lr-sweep': 3, main: 3 });
    expectError(r.run(['show', 'exp', '--json']), 'UNKNOWN_REVISION', 4);
    // the versions stay
    expect(r.resolve('v2')).toBe(r.ids[2]);
    expect(ok(r.run(['fsck'])).exitCode).toBe(0);

    // a branch with a version nothing else reaches asks for -D
    ok(r.run(['branch', 'wip']));
    ok(r.run(['checkout', 'wip']));
    r.touch(77);
    const v4 = json(r.run(['commit', '-m', 'wip only', '--json'])).id;
    ok(r.run(['checkout', 'main']));
    const refused = expectError(r.run(['branch', '-d', 'wip', '--json']), 'BRANCH_NOT_MERGED', 1);
    expect(refused.data.hint).toContain('branch -D wip');
    expect(r.resolve('wip')).toBe(v4);
    // a tag on it is enough to keep its versions reachable
    ok(r.run(['tag', 'keep', 'wip']));
    ok(r.run(['branch', '-d', 'wip']));
    ok(r.run(['tag', '-d', 'keep']));
    ok(r.run(['branch', 'wip2', v4]));
    expect(ok(r.run(['branch', '-D', 'wip2'])).stdout).toContain('Deleted branch wip2');
  });

  it('tag create, REF_EXISTS on re-create, --force, delete', () => {
    const r = repo();
    const [, , v2, v3] = r.ids as [string, string, string, string];
    expect(ok(r.run(['tag', 'prod', 'v2'])).stdout).toContain(`Created tag prod at v2 ${v2.slice(0, 12)}`);
    const again = expectError(r.run(['tag', 'prod', 'v3', '--json']), 'REF_EXISTS', 1);
    expect(again.data.name).toBe('prod');
    expectError(r.run(['tag', 'prod', 'v2', '--json']), 'REF_EXISTS', 1);
    expect(r.resolve('prod')).toBe(v2); // not moved
    expect(json<any[]>(r.run(['tag', '--json']))).toEqual([{ name: 'prod', id: v2, number: 2, current: false }]);
    expect(json<any[]>(r.run(['log', '--json'])).find((e) => e.id === v2).refs).toEqual(['tag: prod']);
    expect(ok(r.run(['log', '--oneline'])).stdout).toMatch(/^v2 [0-9a-f]{12} \(tag: prod\) commit 2/m);

    const moved = json(r.run(['tag', 'prod', 'v3', '-f', '--json']));
    expect(moved.id).toBe(v3);
    expect(moved.moved).toEqual({ from: v2, fromNumber: 2 });
    expect(r.resolve('prod')).toBe(v3);
    // a forced move says so, and from where
    expect(ok(r.run(['tag', 'prod', 'v2', '-f'])).stdout).toContain(
      `Moved tag prod from v3 ${v3.slice(0, 12)} to v2 ${v2.slice(0, 12)}`,
    );
    expect(ok(r.run(['tag', 'prod', 'v2', '-f'])).stdout).toContain(`Tag prod already at v2`);
    // the branch HEAD is on does not move under it
    expectError(r.run(['branch', 'main', 'v1', '-f', '--json']), 'BAD_ARGUMENT', 2);
    expect(r.resolve('main')).toBe(v3);
    ok(r.run(['tag', '-d', 'prod']));
    expect(json(r.run(['tag', '--json']))).toEqual([]);
    // tags and branches live apart: no branch was made
    expect(Object.keys(r.refs('branch'))).toEqual(['main']);
  });

  it('checkout of a branch attaches HEAD; a commit there moves only that branch', () => {
    const r = repo();
    const [, , v2, v3] = r.ids as [string, string, string, string];
    ok(r.run(['branch', 'exp', 'v2']));
    const co = json(r.run(['checkout', 'exp', '--json']));
    expect(co).toMatchObject({ id: v2, number: 2, branch: 'exp' });
    expect(readFileSync(r.path('models/w.bin')).equals(randomBytes(3 * CHUNK, 2))).toBe(true);
    expect(ok(r.run(['status'])).stdout).toMatch(/^On branch exp \(v2 [0-9a-f]{12}\)/);
    expect(json(r.run(['status', '--json']))).toMatchObject({ branch: 'exp', head: v2, headNumber: 2, clean: true });
    expect(readFileSync(r.path('.mvm/HEAD'), 'utf8').trim()).toBe('ref: refs/heads/exp');
    expect(json<any[]>(r.run(['branch', '--json'])).find((b) => b.current).name).toBe('exp');

    r.touch(40);
    const c = json(r.run(['commit', '-m', 'on exp', '--json']));
    expect(c).toMatchObject({ created: true, number: 4, branch: 'exp' });
    expect(json(r.run(['show', 'v4', '--json'])).version.parents).toEqual([v2]);
    expect(r.refs('branch')).toEqual({ exp: 4, main: 3 });
    expect(r.resolve('main')).toBe(v3);
    expect(r.resolve('HEAD')).toBe(c.id);
    expect(r.resolve('exp~1')).toBe(v2);
    // log follows HEAD (exp): v4, v2, v1; main's v3 is not on it
    expect(json<any[]>(r.run(['log', '--json'])).map((e) => e.number)).toEqual([4, 2, 1]);
    expect(json<any[]>(r.run(['log', 'main', '--json'])).map((e) => e.number)).toEqual([3, 2, 1]);
    expect(json<any[]>(r.run(['log', '--branch', 'main', '--json'])).map((e) => e.number)).toEqual([3, 2, 1]);

    // back to main: the workspace holds v3 and HEAD follows main again
    const back = json(r.run(['checkout', 'main', '--json']));
    expect(back).toMatchObject({ id: v3, branch: 'main', written: ['models/w.bin'] });
    expect(readFileSync(r.path('models/w.bin')).equals(randomBytes(3 * CHUNK, 3))).toBe(true);
    expect(ok(r.run(['status'])).stdout).toMatch(/^On branch main \(v3 /);
    // exp's v4 is on no other branch: -d refuses, -D deletes; the version stays reachable by number
    expectError(r.run(['branch', '-d', 'exp', '--json']), 'BRANCH_NOT_MERGED', 1);
    ok(r.run(['branch', '-D', 'exp']));
    expect(r.resolve('v4')).toBe(c.id);
  });

  it('log --all --graph shows both branch tips; version numbers follow commit order across branches', () => {
    const r = repo();
    ok(r.run(['branch', 'exp', 'v2']));
    ok(r.run(['checkout', 'exp']));
    r.touch(41);
    const v4 = json(r.run(['commit', '-m', 'exp four', '--json']));
    ok(r.run(['checkout', 'main']));
    r.touch(42);
    const v5 = json(r.run(['commit', '-m', 'main five', '--json']));
    ok(r.run(['checkout', 'exp']));
    r.touch(43);
    const v6 = json(r.run(['commit', '-m', 'exp six', '--json']));
    // numbers are handed out in commit order in this repository, whatever the branch
    expect([v4.number, v5.number, v6.number]).toEqual([4, 5, 6]);
    expect([v4.branch, v5.branch, v6.branch]).toEqual(['exp', 'main', 'exp']);
    expect(r.refs('branch')).toEqual({ exp: 6, main: 5 });

    const all = json<any[]>(r.run(['log', '--all', '--json']));
    expect(all.map((e) => e.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const onExp = json<any[]>(r.run(['log', '--json']));
    expect(onExp.map((e) => e.number)).toEqual([6, 4, 2, 1]);

    const graph = ok(r.run(['log', '--all', '--graph', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    const tipExp = graph.findIndex((l) => /^\* v6 [0-9a-f]{12} \(HEAD -> exp\) exp six$/.test(l));
    const tipMain = graph.findIndex((l) => /^[|*]\s.*v5 [0-9a-f]{12} \(main\) main five$/.test(l));
    expect(tipExp, graph.join('\n')).toBeGreaterThanOrEqual(0);
    expect(tipMain, graph.join('\n')).toBeGreaterThanOrEqual(0);
    // two lines of history side by side, then joined at v2
    expect(
      graph.some((l) => /^\| \*/.test(l) || /^\* \|/.test(l)),
      graph.join('\n'),
    ).toBe(true);
    expect(
      graph.some((l) => /^\|\/\s*$/.test(l) || /^\|\/ /.test(l)),
      graph.join('\n'),
    ).toBe(true);
    const i2 = graph.findIndex((l) => / v2 [0-9a-f]{12} commit 2$/.test(l));
    expect(graph[i2]).toMatch(/^\* v2 /);
    expect(i2).toBeGreaterThan(Math.max(tipExp, tipMain));
    expect(graph[graph.length - 1]).toMatch(/^\* v1 [0-9a-f]{12} commit 1$/);
    // every version appears exactly once
    for (const n of [1, 2, 3, 4, 5, 6])
      expect(
        graph.filter((l) => new RegExp(`\\bv${n} [0-9a-f]{12}`).test(l)),
        `v${n}`,
      ).toHaveLength(1);

    // the graph without --oneline carries the same tips
    const full = ok(r.run(['log', '--all', '--graph'])).stdout;
    expect(full).toMatch(/^\* version v6 [0-9a-f]{12} \(HEAD -> exp\)$/m);
    expect(full).toMatch(/^[|*] .*version v5 [0-9a-f]{12} \(main\)$/m);
  });

  it('checkout of a version or tag detaches HEAD; a detached commit moves no branch', () => {
    const r = repo();
    const [, v1, v2] = r.ids as [string, string, string, string];
    ok(r.run(['tag', 'prod', 'v2']));
    expect(json(r.run(['checkout', 'prod', '--json']))).toMatchObject({ id: v2, branch: null });
    expect(ok(r.run(['status'])).stdout).toMatch(/^HEAD detached at v2 /);
    expect(json(r.run(['checkout', v1.slice(0, 10), '--json']))).toMatchObject({ id: v1, branch: null });
    expect(json(r.run(['checkout', 'main~1', '--json']))).toMatchObject({ id: v2, branch: null });
    expect(json(r.run(['status', '--json']))).toMatchObject({ branch: null, head: v2 });

    r.touch(50);
    const c = json(r.run(['commit', '-m', 'detached', '--json']));
    expect(c).toMatchObject({ created: true, number: 4, branch: null });
    expect(r.resolve('HEAD')).toBe(c.id);
    expect(r.refs('branch')).toEqual({ main: 3 });
    expect(r.refs('tag')).toEqual({ prod: 2 });
    expect(json<any[]>(r.run(['log', '--json']))[0]).toMatchObject({ number: 4, parents: [v2], refs: ['HEAD'] });
    // keep it with a branch made at HEAD
    expect(json(r.run(['branch', 'rescue', '--json']))).toMatchObject({ name: 'rescue', id: c.id, number: 4 });
    expect(json(r.run(['checkout', 'rescue', '--json'])).branch).toBe('rescue');
    expect(ok(r.run(['status'])).stdout).toMatch(/^On branch rescue \(v4 /);
  });
});
