/**
 * `deploy --best METRIC`: the best version by a metric that passes an env's gates, the candidates it skipped and why,
 * the refusal when none passes; gates naming a field no version has but one is close to (a typo) refused with a
 * did-you-mean on deploy, promote and env; --best with the team's envs on a folder remote.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { repo } from '../../helpers/envRepo.js';
import { BACKENDS, originAndClone } from '../../helpers/remotes.js';

type Skipped = { id: string; number: number; value: number; failed: { gate: string; message: string }[] };
type BestDeploy = {
  env: string;
  to: string;
  toNumber: number;
  changed: boolean;
  best: { metric: string; value: number; direction: string; candidates: number; skipped: Skipped[] };
};

// the fixture: v1 (accuracy 0.91, f1 0.80), v2 (0.93, 0.85), v3 (0.88, 0.90)
describe('deploy --best', () => {
  it('walks the ranking best first, deploys the first version that passes, and says which it skipped', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['env', 'production', '--create', '--require', 'metrics.f1 >= 0.88']));
      // by accuracy: v2 and v1 fail the stored f1 gate, v3 passes
      const r = json<BestDeploy>(run(['deploy', '--best', 'accuracy', '--env', 'production', '--json']));
      expect(r).toMatchObject({ env: 'production', to: ids[3], toNumber: 3, changed: true });
      expect(r.best).toMatchObject({ metric: 'accuracy', value: 0.88, direction: 'higher', candidates: 3 });
      expect(r.best.skipped.map((s) => [s.number, s.value, s.failed.map((f) => f.gate)])).toEqual([
        [2, 0.93, ['metrics.f1 >= 0.88']],
        [1, 0.91, ['metrics.f1 >= 0.88']],
      ]);
      expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[3]);
      // the deploy log records the gates the chosen version passed, as a plain deploy does
      const log = json<{ gates: string[] }[]>(run(['deployments', '--env', 'production', '--json']));
      expect(log[0]!.gates).toEqual(['metrics.f1 >= 0.88']);
      // text: the choice and every skipped candidate with the gate it failed
      ok(run(['env', 'staging', '--create', '--require', 'metrics.f1 >= 0.84']));
      const text = ok(run(['deploy', '--best', 'accuracy', '--env', 'staging', '-m', 'nightly'])).stdout;
      expect(text).toMatch(/^Deployed v2 [0-9a-f]{12} to staging \(was nothing\)$/m);
      expect(text).toContain('best by accuracy (higher is better): 0.93, the best of 3 version(s) with accuracy');
      expect(text).not.toContain('skipped');
      expect(text).toContain('gate passed: metrics.f1 >= 0.84');
      ok(run(['env', 'canary', '--create']));
      const canary = ok(run(['deploy', '--best', 'f1', '--env', 'canary', '--require', 'metrics.f1 < 0.9']));
      expect(canary.stdout).toContain("0.85, the best of 3 version(s) with f1 that passes canary's gates");
      expect(canary.stdout).toContain('skipped v3 (f1 0.9): metrics.f1 is 0.9, needs < 0.9 (short by 0)');
    } finally {
      t.cleanup();
    }
  });

  it('with better-than-current, nothing better than what the env serves is a refusal; a better version ships', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['env', 'production', '--create', '--better-than-current', 'accuracy']));
      const gate = ['--require', 'metrics.f1 >= 0.84'];
      const first = json<BestDeploy>(run(['deploy', '--best', 'accuracy', '--env', 'production', ...gate, '--json']));
      expect(first.to).toBe(ids[2]);
      // run again: v2 does not beat itself, and --best never goes below what the env serves
      const again = expectError(
        run(['deploy', '--best', 'accuracy', '--env', 'production', ...gate, '--json']),
        'GATE_FAILED',
        1,
      );
      expect(again.message).toContain('no version on the current branch ranked above v2 by accuracy');
      expect(again.message).toContain('none ranks above it; v2 itself: metrics.accuracy is 0.93');
      expect(again.data).toMatchObject({ env: 'production', metric: 'accuracy', current: ids[2], candidates: 3 });
      expect((again.data.skipped as Skipped[]).map((s) => s.number)).toEqual([2]);
      // a newer version with higher accuracy but a failing f1: refused, naming why
      write(t.path('model/saved_model.pb'), 'graph 4\n');
      ok(run(['commit', '-m', 'v4', '--metric', 'accuracy=0.95', '--metric', 'f1=0.7']));
      const worse = expectError(
        run(['deploy', '--best', 'accuracy', '--env', 'production', ...gate, '--json']),
        'GATE_FAILED',
        1,
      );
      expect(worse.message).toContain('v4 (accuracy 0.95): metrics.f1 is 0.7, needs >= 0.84 (short by 0.14)');
      expect((worse.data.skipped as Skipped[]).map((s) => s.number)).toEqual([4, 2]);
      expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[2]);
      // one that passes both: deployed over v4
      write(t.path('model/saved_model.pb'), 'graph 5\n');
      ok(run(['commit', '-m', 'v5', '--metric', 'accuracy=0.94', '--metric', 'f1=0.9']));
      const text = ok(run(['deploy', '--best', 'accuracy', '--env', 'production', ...gate])).stdout;
      expect(text).toMatch(/^Deployed v5 [0-9a-f]{12} to production \(was v2 [0-9a-f]{12}\)$/m);
      expect(text).toContain('skipped v4 (accuracy 0.95): metrics.f1 is 0.7, needs >= 0.84 (short by 0.14)');
      expect(text).toContain('gate passed: accuracy better than the current version (higher is better)');
    } finally {
      t.cleanup();
    }
  });

  it('without a better-than-current gate, the best already served is a no-op; directions and --where', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['env', 'production', '--create']));
      ok(run(['deploy', '--best', 'accuracy', '--env', 'production']));
      const same = json<BestDeploy>(run(['deploy', '--best', 'accuracy', '--env', 'production', '--json']));
      expect(same).toMatchObject({ to: ids[2], changed: false });
      expect(ok(run(['deploy', '--best', 'accuracy', '--env', 'production'])).stdout).toContain(
        'is already deployed to production',
      );
      expect(json(run(['deployments', '--env', 'production', '--json']))).toHaveLength(1);
      // the direction is inferred from the name, or forced either way
      const pick = (args: string[]) =>
        json<BestDeploy>(run(['deploy', '--best', ...args, '--env', 'production', '--no-gates', '--json'])).toNumber;
      expect(pick(['f1', '--lower-is-better'])).toBe(1);
      expect(pick(['f1', '--higher-is-better'])).toBe(3);
      expect(pick(['accuracy', '--where', 'metrics.f1 < 0.84'])).toBe(1);
    } finally {
      t.cleanup();
    }
  });

  it('the current branch only (--all: every branch); flags that contradict; a metric nobody records', () => {
    const { t, run } = repo();
    try {
      ok(run(['env', 'production', '--create']));
      const pick = (args: string[]) =>
        json<BestDeploy>(run(['deploy', '--best', ...args, '--env', 'production', '--no-gates', '--json'])).toNumber;
      // the current branch only, like best; --all sees a side branch's version
      ok(run(['branch', 'side', 'v1']));
      ok(run(['checkout', 'side']));
      write(t.path('model/saved_model.pb'), 'graph side\n');
      ok(run(['commit', '-m', 'side', '--metric', 'accuracy=0.99', '--metric', 'f1=0.5']));
      ok(run(['checkout', 'main']));
      expect(pick(['accuracy'])).toBe(2);
      expect(pick(['accuracy', '--all'])).toBe(4);
      // arguments that contradict each other or do not go together
      expectError(
        run(['deploy', '--best', 'f1', '--lower-is-better', '--higher-is-better', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expectError(run(['deploy', 'v1', '--best', 'f1', '--env', 'production', '--json']), 'BAD_ARGUMENT', 2);
      expectError(run(['deploy', 'v1', '--all', '--env', 'production', '--json']), 'BAD_ARGUMENT', 2);
      const both = expectError(
        run(['deploy', '--best', 'f1', '--better-than-current', 'accuracy', '--lower-is-better', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expect(both.message).toContain('would apply to both f1 and accuracy');
      // a metric nobody records: NO_VERSIONS, with the close names
      const typo = expectError(run(['deploy', '--best', 'acuracy', '--env', 'production', '--json']), 'NO_VERSIONS', 4);
      expect(typo.data.suggestions).toEqual(['accuracy']);
      expect(typo.message).toContain("(did you mean 'accuracy'?)");
      expectError(run(['deploy', '--best', 'accuracy', '--env', 'prod', '--json']), 'UNKNOWN_ENV', 4);
    } finally {
      t.cleanup();
    }
  });
});

describe('gate fields: a typo is refused with the close names', () => {
  it('--require and --better-than-current on deploy and promote', () => {
    const { t, run } = repo();
    try {
      ok(run(['env', 'staging', '--create']));
      ok(run(['env', 'production', '--create']));
      ok(run(['deploy', 'v1', '--env', 'staging']));
      const req = expectError(
        run(['deploy', 'v2', '--env', 'production', '--require', 'metrics.acurracy >= 0.9', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expect(req.data).toMatchObject({ field: 'metrics.acurracy', suggestions: ['metrics.accuracy'] });
      expect(req.message).toBe(
        "--require names metrics.acurracy, which no version has (did you mean 'metrics.accuracy'?)",
      );
      expect(req.data.hint).toContain('mvm log');
      // an abbreviation of a metric
      const btc = expectError(
        run(['deploy', 'v2', '--env', 'production', '--better-than-current', 'acc', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expect(btc.data.suggestions).toEqual(['accuracy']);
      expect(btc.message).toContain("--better-than-current names metric 'acc'");
      // a field in another namespace than the one written
      const ns = expectError(
        run(['promote', 'staging', 'production', '--require', 'params.accuracy > 0.5', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expect(ns.data.suggestions).toEqual(['metrics.accuracy']);
      expectError(
        run(['deploy', '--best', 'accuracy', '--env', 'production', '--better-than-current', 'f2', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      // nothing moved
      expect(json(run(['deployments', '--env', 'production', '--json']))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  it('stored gates: a typo refused, a field nothing is close to kept (a metric to come)', () => {
    const { t, run } = repo();
    try {
      ok(run(['env', 'production', '--create']));
      // stored gates: refused the same way, nothing stored
      const req = expectError(
        run(['env', 'production', '--require', 'metrics.acurracy >= 0.9', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expect(req.data.suggestions).toEqual(['metrics.accuracy']);
      const stored = expectError(
        run(['env', 'production', '--better-than-current', 'f2', '--json']),
        'BAD_ARGUMENT',
        2,
      );
      expect(stored.data.suggestions).toEqual(['f1']);
      expect(JSON.parse(readFileSync(t.path('.mvm/envs.json'), 'utf8')).production).toEqual({});
      // a field nothing is close to may be a metric later versions record: stored, and a deploy fails the gate
      ok(run(['env', 'production', '--require', 'metrics.calibration_error < 0.1']));
      const gated = expectError(run(['deploy', 'v2', '--env', 'production', '--json']), 'GATE_FAILED', 1);
      expect(gated.message).toContain('metrics.calibration_error is not recorded for this version');
      // a known field is never questioned, in any namespace
      ok(run(['env', 'staging', '--create']));
      ok(run(['deploy', 'v2', '--env', 'staging', '--require', 'metrics.f1 > 0.8', '--better-than-current', 'f1']));
    } finally {
      t.cleanup();
    }
  });
});

describe('deploy --best with the envs on a folder remote', () => {
  it('moves the team env like a deploy of that version; a best version not pushed is NOT_PUSHED', () => {
    const t = testdir();
    try {
      const b = BACKENDS[0]!;
      const url = b.url(t, 'r');
      const { a, c } = originAndClone(b, t, url);
      ok(a.run(['env', 'production', '--create', '--require', 'metrics.accuracy >= 0.5']));
      write(a.path('models/small.txt'), 'config v2\n');
      ok(a.run(['commit', '-m', 'v2', '--metric', 'accuracy=0.95']));
      // the best is only here: the deploy of it is refused, as `mvm deploy` of it would be
      expectError(a.run(['deploy', '--best', 'accuracy', '--env', 'production', '--json']), 'NOT_PUSHED', 1);
      ok(a.run(['push']));
      const r = json<BestDeploy>(a.run(['deploy', '--best', 'accuracy', '--env', 'production', '--json']));
      expect(r).toMatchObject({ toNumber: 2, changed: true });
      const file = JSON.parse(readFileSync(join(url, 'envs/production.json'), 'utf8'));
      expect(JSON.stringify(file)).toContain(r.to);
      // the other clone sees the move after a fetch
      ok(c.run(['fetch']));
      expect(json(c.run(['show', 'deployed:production', '--json'])).id).toBe(r.to);
    } finally {
      t.cleanup();
    }
  });
});
