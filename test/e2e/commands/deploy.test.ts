/**
 * Deploy environments end to end through the CLI: histories across envs, gates, hooks in both failure modes,
 * no-op redeploys (serving folders in deploy-export.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expectError, json, ok } from '../../helpers/assertions.js';
import { repo, servingFlags } from '../../helpers/envRepo.js';
import { AUTHOR, story, useStory } from '../../helpers/story.js';

describe('deploy environments', () => {
  it(
    'deploy, promote and rollback across two envs; deployed:ENV@{N}; deployments --json; a redeploy logs ' + 'nothing',
    () => {
      const { t, run, ids } = repo();
      try {
        // a deploy never creates an env: a typo would skip the gates
        expectError(run(['deploy', 'v1', '--env', 'staging', '--json']), 'UNKNOWN_ENV', 4);
        ok(run(['env', 'staging', '--create']));
        ok(run(['env', 'production', '--create']));
        ok(run(['deploy', 'v1', '--env', 'staging', '-m', 'first']));
        const p1 = json(run(['promote', 'staging', 'production', '--json']));
        expect(p1).toMatchObject({ env: 'production', action: 'promote', from: null, to: ids[1], changed: true });
        ok(run(['deploy', 'v2', '--env', 'staging']));
        ok(run(['promote', 'staging', 'production', '-m', 'a week in staging']));
        ok(run(['deploy', 'v3', '--env', 'production']));
        // redeploying what production serves is a no-op: nothing logged
        const again = json(run(['deploy', 'v3', '--env', 'production', '--json']));
        expect(again).toMatchObject({ changed: false, to: ids[3] });
        expect(ok(run(['deploy', 'v3', '--env', 'production'])).stdout).toContain('is already deployed to production');
        const rb = json(run(['rollback', '--env', 'production', '--json']));
        expect(rb).toMatchObject({ env: 'production', action: 'rollback', from: ids[3], to: ids[2] });
        // the default env is untouched by all of that
        expectError(run(['show', 'deployed', '--json']), 'NOTHING_DEPLOYED', 4);
        expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[2]);
        expect(json(run(['show', 'deployed:production@{1}', '--json'])).id).toBe(ids[3]);
        expect(json(run(['show', 'deployed:staging', '--json'])).id).toBe(ids[2]);
        expectError(run(['show', 'deployed:nowhere', '--json']), 'NOTHING_DEPLOYED', 4);
        expectError(run(['show', 'deployed:../../x', '--json']), 'BAD_REF_NAME', 2);
        const all = json<
          {
            env: string;
            action: string;
            toNumber: number;
            fromNumber: number | null;
            who: string;
            reason?: string;
            fromEnv?: string;
          }[]
        >(run(['deployments', '--json']));
        expect(all.map((e) => [e.env, e.action, e.toNumber])).toEqual([
          ['production', 'rollback', 2],
          ['production', 'deploy', 3],
          ['production', 'promote', 2],
          ['staging', 'deploy', 2],
          ['production', 'promote', 1],
          ['staging', 'deploy', 1],
        ]);
        expect(all[2]).toMatchObject({
          fromEnv: 'staging',
          reason: 'a week in staging',
          fromNumber: 1,
          who: 'Test User <test@example.com>',
        });
        const prod = json<{ action: string }[]>(run(['deployments', '--env', 'production', '--json']));
        expect(prod.map((e) => e.action)).toEqual(['rollback', 'deploy', 'promote', 'promote']);
        expect(readFileSync(t.path('.mvm/logs/envs/production'), 'utf8').trim().split('\n')).toHaveLength(4);
        const text = ok(run(['deployments'])).stdout;
        expect(text).toMatch(/production\s+promote\s+v2 .*\(promoted from staging\)/);
        // log marks what each env serves; env lists them
        expect(ok(run(['log', '--oneline'])).stdout).toMatch(
          /^v2 [0-9a-f]{12} \(deployed:production, deployed:staging\)/m,
        );
        const envs = json<{ env: string; number: number; moves: number }[]>(run(['env', '--json']));
        expect(envs.map((e) => [e.env, e.number, e.moves])).toEqual([
          ['production', 2, 4],
          ['staging', 2, 2],
        ]);
        // gc keeps everything any env log names; fsck is clean
        expect(json<{ ok: boolean }>(run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it('gates refuse with the condition and the shortfall, allow what passes, and --no-gates is logged', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['env', 'production', '--create']));
      ok(run(['deploy', 'v2', '--env', 'production']));
      // v3: accuracy 0.88 < 0.9, f1 0.9 > 0.85
      const gates = ['--require', 'metrics.accuracy >= 0.9', '--better-than-current', 'f1'];
      const refused = expectError(run(['deploy', 'v3', '--env', 'production', ...gates, '--json']), 'GATE_FAILED', 1);
      expect(refused.message).toContain('metrics.accuracy is 0.88, needs >= 0.9 (short by 0.02)');
      const failed = refused.data.failed as { gate: string; shortBy: number }[];
      expect(failed).toHaveLength(1);
      expect(failed[0]!.shortBy).toBeCloseTo(0.02, 10);
      expect(refused.data.passed).toEqual(['f1 better than the current version (higher is better)']);
      expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[2]);
      // v1 fails both: each condition is named
      const strict = ['--require', 'metrics.accuracy >= 0.92 and params.missing = 1', '--better-than-current', 'f1'];
      const both = expectError(run(['deploy', 'v1', '--env', 'production', ...strict, '--json']), 'GATE_FAILED', 1);
      expect((both.data.failed as unknown[]).length).toBe(3);
      expect(both.message).toContain('params.missing is not recorded');
      expect(both.message).toContain('the current version v2 has 0.85 (worse by 0.05)');
      // stored gates apply to every deploy, without flags
      ok(run(['env', 'production', '--require', 'metrics.accuracy >= 0.9']));
      const stored = run(['deploy', 'v3', '--env', 'production']);
      expect(stored.exitCode).toBe(1);
      expect(stored.stderr).toContain("does not pass the gates of 'production'");
      expect(stored.stdout).toBe('');
      // a gate that passes is recorded with the move
      const pass = json(run(['deploy', 'v1', '--env', 'production', '--json']));
      expect(pass.gates.passed).toEqual(['metrics.accuracy >= 0.9']);
      // --no-gates overrides, and the log says so
      const forced = json(run(['deploy', 'v3', '--env', 'production', '--no-gates', '-m', 'hotfix', '--json']));
      expect(forced).toMatchObject({ changed: true, gates: 'skipped', to: ids[3] });
      const log = json<{ gates?: unknown; reason?: string }[]>(run(['deployments', '--env', 'production', '--json']));
      expect(log[0]).toMatchObject({ gates: 'skipped', reason: 'hotfix' });
      expect(log[1]).toMatchObject({ gates: ['metrics.accuracy >= 0.9'] });
      // a rollback is never gated
      expect(json(run(['rollback', '--env', 'production', '--json']))).toMatchObject({ to: ids[1], gates: null });
      // a gate that does not parse is refused when it is stored
      expectError(run(['env', 'production', '--require', 'metrics.accuracy >>= 1', '--json']), 'BAD_EXPRESSION', 2);
    } finally {
      t.cleanup();
    }
  });

  it(
    'a failing hook: kept by default (exit 9, the env moved), undone with onHookFailure undo (logged, folder ' +
      'switched back)',
    () => {
      const { t, run, ids } = repo();
      try {
        const root = t.path('serving');
        const hook = 'echo "reload $MVM_ENV $MVM_OLD_NUMBER->$MVM_NEW_NUMBER $MVM_ACTION" >> hook.log';
        ok(run(['env', 'production', '--hook', hook, ...servingFlags(root, 'tf-serving', 'clf', 'model')]));
        ok(run(['deploy', 'v1', '--env', 'production']));
        ok(run(['deploy', 'v2', '--env', 'production']));
        expect(readFileSync(t.path('hook.log'), 'utf8')).toBe(
          'reload production ->1 deploy\nreload production 1->2 deploy\n',
        );
        // keep: the hook fails, the move stays
        ok(run(['env', 'production', '--hook', 'echo "server said no" >&2; exit 3']));
        const kept = expectError(run(['deploy', 'v3', '--env', 'production', '--json']), 'HOOK_FAILED', 9);
        expect(kept.data).toMatchObject({ kept: true, hooks: [{ exitCode: 3 }] });
        expect((kept.data.hooks as { output: string }[])[0]!.output).toContain('server said no');
        expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[3]);
        expect(existsSync(join(root, 'clf', '3'))).toBe(true);
        // undo: the hook fails, the env goes back and the log says why
        ok(run(['env', 'production', '--on-hook-failure', 'undo']));
        const undone = expectError(run(['rollback', '--env', 'production', '--to', 'v1', '--json']), 'HOOK_FAILED', 9);
        expect(undone.data).toMatchObject({ kept: false });
        expect(undone.message).toContain('the move was undone: production serves v3 again');
        expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[3]);
        const log = json<{ action: string; toNumber: number; reason?: string }[]>(
          run(['deployments', '--env', 'production', '--json']),
        );
        expect(log.slice(0, 2).map((e) => [e.action, e.toNumber])).toEqual([
          ['undo', 3],
          ['rollback', 1],
        ]);
        expect(log[0]!.reason).toContain('hook failed');
        // the serving folder serves v3 again
        expect(readdirSync(join(root, 'clf')).sort().at(-1)).toBe('3');
        expect(json<{ ok: boolean }>(run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it('tag -f says that it moved the tag and from where', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['tag', 'prod', 'v1']));
      expect(ok(run(['tag', 'prod', 'v2', '-f'])).stdout).toContain(
        `Moved tag prod from v1 ${ids[1]!.slice(0, 12)} to v2`,
      );
    } finally {
      t.cleanup();
    }
  });
});

describe('deploy and rollback in the user story', () => {
  useStory();

  it('deploy, rollback, deploy history, deployed@{N}', () => {
    const s = story();
    const d2 = json(s.run(['deploy', 'v2', '-m', 'first release', '--json']));
    expect(d2).toMatchObject({ action: 'deploy', from: null, to: s.v2, toNumber: 2, changed: true });
    const d1 = json(s.run(['deploy', 'v1', '--json']));
    expect(d1).toMatchObject({ action: 'deploy', from: s.v2, to: s.v1, toNumber: 1, changed: true });
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v1);
    expect(json(s.run(['show', 'deployed@{1}', '--json'])).id).toBe(s.v2);

    const rb = json(s.run(['rollback', '--json']));
    expect(rb).toMatchObject({ action: 'rollback', from: s.v1, to: s.v2, changed: true });
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v2);
    expect(json(s.run(['show', 'deployed@{1}', '--json'])).id).toBe(s.v1);
    // the stack is [v2] now: v1 was rolled back, so there is nothing earlier
    const again = s.run(['rollback', '--json']);
    expectError(again, 'NO_PREVIOUS_DEPLOYMENT', 4);
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v2);

    const to1 = json(s.run(['rollback', '--to', 'v1', '--json']));
    expect(to1).toMatchObject({ action: 'rollback', from: s.v2, to: s.v1, toNumber: 1 });
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v1);

    const hist = json<any[]>(s.run(['deploy', '--json']));
    expect(hist.map((e) => [e.action, e.toNumber, e.fromNumber])).toEqual([
      ['rollback', 1, 2],
      ['rollback', 2, 1],
      ['deploy', 1, 2],
      ['deploy', 2, null],
    ]);
    expect(hist[3].reason).toBe('first release');
    expect(hist[0].who).toBe(AUTHOR);
    const text = ok(s.run(['deploy']))
      .stdout.trimEnd()
      .split('\n');
    expect(text).toHaveLength(4);
    expect(text[0]).toMatch(/rollback +v1 /);
    expect(text[3]).toMatch(/deploy +v2 .*first release/);
    // log marks the deployed version
    expect(json<any[]>(s.run(['log', '--json'])).find((e) => e.id === s.v1).refs).toContain('deployed');

    // deploying what is deployed changes nothing
    expect(json(s.run(['deploy', 'v1', '--json'])).changed).toBe(false);

    const fsck = json(s.run(['fsck', '--json']));
    expect(fsck.ok).toBe(true);
    expect(fsck.problems).toEqual([]);
    expect(ok(s.run(['fsck'])).stdout).toContain(': ok');
  });

  it('repeated rollbacks walk further back through the deployments, then stop with NO_PREVIOUS_DEPLOYMENT', () => {
    const s = story();
    const v3 = json(s.run(['commit', '-m', 'v3', '--allow-empty', '--json']));
    expect(v3.number).toBe(3);
    const ids = [s.v1, s.v2, v3.id];
    expectError(s.run(['rollback', '--json']), 'NOTHING_DEPLOYED', 4);
    for (const v of ['v1', 'v2', 'v3']) ok(s.run(['deploy', v]));
    expect(json(s.run(['rollback', '--json'])).to).toBe(ids[1]);
    expect(json(s.run(['rollback', '--json'])).to).toBe(ids[0]);
    expectError(s.run(['rollback', '--json']), 'NO_PREVIOUS_DEPLOYMENT', 4);
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(ids[0]);
    // a new deploy goes on top of v1, so rolling it back returns to v1
    ok(s.run(['deploy', 'v3']));
    expect(json(s.run(['rollback', '--json'])).to).toBe(ids[0]);
    expect(ok(s.run(['fsck'])).exitCode).toBe(0);
  });
});
