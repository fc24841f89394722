// Environments that travel: with a remote, an env's pointer, log and shared settings live there (envs/<env>.json),
// every move is a compare-and-swap of that file, and fetch, pull and clone make each clone follow it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, mvmAsync, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { BACKENDS, clone, originAndClone, startRemoteS3, stopRemoteS3 } from '../../helpers/remotes.js';

beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

const folder = BACKENDS[0]!;
type Deployment = { env: string; action: string; to: string; who: string };

describe.each(BACKENDS)('environments shared through a remote ($name)', (b) => {
  it('created, set, moved and removed in one clone are seen in another after fetch, pull and clone', () => {
    const t = testdir();
    try {
      const url = b.url(t, 'r');
      const { a, c } = originAndClone(b, t, url);
      write(a.path('models/small.txt'), 'config v2\n');
      ok(a.run(['commit', '-m', 'v2', '--metric', 'accuracy=0.95']));
      ok(a.run(['push']));
      const ids = [1, 2].map((n) => json(a.run(['show', `v${n}`, '--json'])).id as string);
      // a typo does not create an env, in either clone
      expectError(a.run(['deploy', 'v1', '--env', 'production', '--json']), 'UNKNOWN_ENV', 4);
      const gate = 'metrics.accuracy >= 0.9';
      ok(a.run(['env', 'production', '--require', gate, '--hook', 'echo reload']));
      ok(a.run(['env', 'staging', '--create']));
      ok(a.run(['deploy', 'v2', '--env', 'staging', '-m', 'candidate']));
      ok(a.run(['promote', 'staging', 'production', '--json']));
      const typo = expectError(c.run(['deploy', 'v2', '--env', 'prodution', '--json']), 'UNKNOWN_ENV', 4);
      expect(typo.message).toContain("'production'");
      // the other clone sees the team's envs: pointer, log and gates, but never the hook (commands stay local)
      json(c.run(['fetch', '--json']));
      const envs = json<{ env: string; id: string; config: Record<string, unknown> }[]>(c.run(['env', '--json']));
      expect(envs.map((e) => [e.env, e.id])).toEqual([
        ['production', ids[1]],
        ['staging', ids[1]],
      ]);
      expect(envs[0]!.config).toEqual({ require: [gate] });
      expect(json(c.run(['show', 'deployed:production', '--json'])).id).toBe(ids[1]);
      const seen = json<Deployment[]>(c.run(['deployments', '--json']));
      expect(seen.map((d) => [d.env, d.action, d.to])).toEqual([
        ['production', 'promote', ids[1]],
        ['staging', 'deploy', ids[1]],
      ]);
      // the other clone moves it; the gates it fetched apply there; the first clone sees the move
      ok(c.run(['rollback', '--env', 'production', '--to', 'v1', '-m', 'regression']));
      ok(a.run(['pull']));
      expect(json(a.run(['show', 'deployed:production', '--json'])).id).toBe(ids[0]);
      const aLog = json<Deployment[]>(a.run(['deployments', '--env', 'production', '--json']));
      expect(aLog.map((d) => d.action)).toEqual(['rollback', 'promote']);
      expect(JSON.parse(readFileSync(a.path('.mvm/envs.json'), 'utf8')).production.hooks).toEqual(['echo reload']);
      const refused = expectError(
        c.run(['deploy', 'v1', '--env', 'staging', '--require', 'metrics.accuracy > 2', '--json']),
        'GATE_FAILED',
        1,
      );
      expect(refused.data).toBeTruthy();
      // a fresh clone has them too
      const d = clone(b, t, url, 'd');
      expect(json(d.run(['show', 'deployed:staging', '--json'])).id).toBe(ids[1]);
      // removing an env: gone everywhere after a fetch, deploys refused with who removed it; its history is kept
      ok(a.run(['env', 'staging', '--remove']));
      ok(c.run(['fetch']));
      expect(json<{ env: string }[]>(c.run(['env', '--json'])).map((e) => e.env)).toEqual(['production']);
      const gone = expectError(c.run(['deploy', 'v2', '--env', 'staging', '--json']), 'UNKNOWN_ENV', 4);
      expect(gone.message).toContain('removed it');
      expect(readFileSync(c.path('.mvm/logs/envs-removed/staging'), 'utf8')).toContain(ids[1]);
      // created again: a new life, the old log kept on the remote
      ok(c.run(['env', 'staging', '--create']));
      expectError(c.run(['show', 'deployed:staging', '--json']), 'NOTHING_DEPLOYED', 4);
    } finally {
      t.cleanup();
    }
  });
});

describe('environments shared through a folder remote', () => {
  it('a version not on the remote is refused (push first); envs made before the remote go with the first push', () => {
    const t = testdir();
    try {
      const url = folder.url(t, 'r');
      const { a, c } = originAndClone(folder, t, url);
      write(a.path('models/small.txt'), 'config v2\n');
      const made = json(a.run(['commit', '-m', 'v2', '--json'])).id as string;
      ok(a.run(['env', 'production', '--create']));
      const np = expectError(a.run(['deploy', made, '--env', 'production', '--json']), 'NOT_PUSHED', 1);
      expect(np.message).toContain(made.slice(0, 12));
      expectError(a.run(['show', 'deployed:production', '--json']), 'NOTHING_DEPLOYED', 4);
      ok(a.run(['push']));
      ok(a.run(['deploy', 'v2', '--env', 'production']));
      // c has not seen a's deploy: its move, decided on a stale view, is refused naming a's; c sees it now (the
      // version fetched), and the same command moves it from there, so the log stays a chain
      const v2 = json(a.run(['show', 'v2', '--json'])).id as string;
      const stale = expectError(c.run(['rollback', '--env', 'production', '--to', 'v1', '--json']), 'ENV_MOVED', 5);
      expect(stale.message).toContain('since this clone last looked');
      expect(stale.message).toContain(`moved it to v2 ${v2.slice(0, 12)} (deploy)`);
      expect(json(c.run(['show', 'deployed:production', '--json'])).id).toBe(v2);
      expect(json(c.run(['rollback', '--env', 'production', '--to', 'v1', '--json'])).from).toBe(v2);
      const log = JSON.parse(readFileSync(join(url, 'envs/production.json'), 'utf8')).log;
      expect(log.map((e: { from: string | null }) => e.from)).toEqual([null, v2]);
      ok(c.run(['pull']));
      expect(json(c.run(['show', 'deployed:production@{1}', '--json'])).id).toBe(v2);

      // a repository that deployed before it had a remote: its envs and their history arrive with the first push
      const e = t.path('e');
      const run = (args: string[]) => mvm(args, { cwd: e });
      write(join(e, 'w.txt'), 'one\n');
      ok(run(['init']));
      ok(run(['add', 'w.txt']));
      ok(run(['commit', '-m', 'one']));
      ok(run(['deploy', 'v1']));
      ok(run(['env', 'qa', '--create']));
      ok(run(['deploy', 'v1', '--env', 'qa']));
      ok(run(['remote', 'add', 'origin', t.path('r2')]));
      expect(json(run(['push', '--json'])).envs.sort()).toEqual(['default', 'qa']);
      expect(existsSync(t.path('r2/envs/qa.json'))).toBe(true);
      const f = clone(folder, t, t.path('r2'), 'f');
      expect(json<Deployment[]>(f.run(['deployments', '--json'])).map((d) => d.env)).toEqual(['qa', 'default']);
    } finally {
      t.cleanup();
    }
  });

  it('two clones deploying one env at once: each move is kept or refused naming the winner, never lost', async () => {
    const t = testdir();
    try {
      const url = folder.url(t, 'r');
      const { a, c } = originAndClone(folder, t, url);
      for (const n of [2, 3]) {
        write(a.path('models/small.txt'), `config v${n}\n`);
        ok(a.run(['commit', '-m', `v${n}`]));
      }
      ok(a.run(['push']));
      ok(a.run(['env', 'production', '--create']));
      ok(c.run(['pull']));
      let refused = 0;
      let moved = 0;
      for (let round = 0; round < 4; round++) {
        const [ra, rc] = await Promise.all([
          mvmAsync(['deploy', round % 2 ? 'v1' : 'v2', '--env', 'production', '--json'], { cwd: a.dir }).done,
          mvmAsync(['deploy', 'v3', '--env', 'production', '--json'], {
            cwd: c.dir,
            env: { MVM_AUTHOR: 'Bob <bob@example.com>' },
          }).done,
        ]);
        for (const r of [ra, rc]) {
          if (r.exitCode === 0) moved += JSON.parse(r.stdout).changed ? 1 : 0;
          else {
            expect(r.exitCode, r.stderr).toBe(5);
            const err = JSON.parse(r.stdout).error;
            expect(err.code).toBe('ENV_MOVED');
            expect(err.message).toMatch(/moved it to v\d/);
            refused++;
          }
        }
      }
      // the remote's log is one chain holding every move that succeeded
      const file = JSON.parse(readFileSync(join(url, 'envs/production.json'), 'utf8'));
      expect(file.log.length).toBe(moved);
      for (let i = 1; i < file.log.length; i++) expect(file.log[i].from).toBe(file.log[i - 1].to);
      expect(moved + refused).toBeGreaterThanOrEqual(4);
      ok(a.run(['fetch']));
      expect(json<Deployment[]>(a.run(['deployments', '--json'])).length).toBe(moved);
    } finally {
      t.cleanup();
    }
  });

  it('a damaged or hostile env file on the remote refuses the fetch and stores nothing; fsck stays clean', () => {
    const t = testdir();
    try {
      const url = folder.url(t, 'r');
      const { a, c } = originAndClone(folder, t, url);
      ok(a.run(['env', 'production', '--create']));
      ok(a.run(['deploy', 'v1', '--env', 'production']));
      const good = readFileSync(join(url, 'envs/production.json'), 'utf8');
      const file = JSON.parse(good);
      const bad: [string, string][] = [
        ['envs/production.json', '{"format":1,"settings":{},"log":"x"}'],
        ['envs/production.json', JSON.stringify({ ...file, settings: { require: 'x' } })],
        ['envs/production.json', JSON.stringify({ ...file, settings: { hooks: ['touch /tmp/pwned'] } })],
        ['envs/production.json', JSON.stringify({ ...file, log: [{ ...file.log[0], to: 'v1' }] })],
        [
          'envs/production.json',
          JSON.stringify({ ...file, log: [file.log[0], { ...file.log[0], from: '0'.repeat(64) }] }),
        ],
        ['envs/production.json', 'not json'],
        ['envs/-x.json', good],
      ];
      for (const [key, text] of bad) {
        writeFileSync(join(url, key), text);
        expectError(c.run(['fetch', '--json']), 'REMOTE_CORRUPT', 7);
        expect(existsSync(c.path('.mvm/refs/envs/production'))).toBe(false);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        writeFileSync(join(url, 'envs/production.json'), good);
        if (key !== 'envs/production.json') ok(c.run(['env', '--json'])); // a clone still works
      }
    } finally {
      t.cleanup();
    }
  });
});
