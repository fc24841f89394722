// env: deploy environments listed, and one's gates, serving folder and hooks shown and set in .mvm/envs.json (what
// they do to a deploy in commands/deploy, deploy-export and deploy-staging).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

/** A repository with one version (accuracy 0.9, f1 0.5). */
function oneVersion() {
  const t = testdir({ 'm.bin': 'weights\n' });
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  ok(run(['init']));
  ok(run(['add', 'm.bin']));
  ok(run(['commit', '-m', 'v1', '--metric', 'accuracy=0.9', '--metric', 'f1=0.5']));
  return { t, run };
}

describe('env', () => {
  it('stores gates, a serving folder and hooks, shows them as text and --json, and lists deployed envs', () => {
    const { t, run } = oneVersion();
    try {
      expect(json(run(['env', '--json']))).toEqual([]);
      expect(ok(run(['env'])).stdout).toBe('no environment yet: mvm env NAME --create, or mvm deploy REV\n');

      const gates = ['env', 'production', '--require', 'metrics.accuracy >= 0.9', '--better-than-current', 'f1'];
      const set = json(run([...gates, '--lower-is-better', '--json']));
      const config = { require: ['metrics.accuracy >= 0.9'], betterThanCurrent: 'f1', direction: 'lower' };
      expect(set).toEqual({ env: 'production', id: null, number: null, moves: 0, config });
      expect(JSON.parse(readFileSync(t.path('.mvm/envs.json'), 'utf8'))).toEqual({ production: config });

      const serve = t.path('srv');
      ok(run(['env', 'production', '--export', serve, '--layout', 'triton', '--name', 'm', '--keep', '2']));
      ok(run(['env', 'production', '--hook', 'echo reload']));
      expect(ok(run(['env', 'production'])).stdout.split('\n')).toEqual([
        'production: (nothing deployed)',
        '  require: metrics.accuracy >= 0.9',
        '  better than current: f1 (lower is better)',
        `  serving folder: ${serve}/m (triton, keep 2)`,
        '  hook: echo reload',
        '  on hook failure: keep',
        '',
      ]);

      const d = json(run(['deploy', 'v1', '--env', 'production', '--json']));
      ok(run(['env', 'production', '--clear-gates', '--clear-export', '--clear-hooks']));
      const listed = json(run(['env', '--json']));
      expect(listed).toEqual([{ env: 'production', id: d.to, number: 1, moves: 1, config: {} }]);
      expect(ok(run(['env'])).stdout).toBe(`production: v1 ${d.to.slice(0, 12)}, 1 move(s)\n`);
      // an env nobody created is not there (a did-you-mean for a near name); settings create it, and it stays
      // when they are cleared: only --remove removes it
      const empty = { env: 'staging', id: null, number: null, moves: 0, config: {} };
      const stored = () => Object.keys(JSON.parse(readFileSync(t.path('.mvm/envs.json'), 'utf8')));
      expectError(run(['env', 'staging', '--json']), 'UNKNOWN_ENV', 4);
      const typo = expectError(run(['env', 'productoin', '--json']), 'UNKNOWN_ENV', 4);
      expect(typo.message).toContain("'production'");
      expect(typo.data.suggestions).toEqual(['production']);
      expect(stored()).not.toContain('staging');
      ok(run(['env', 'staging', '--require', 'metrics.accuracy >= 0.5']));
      expect(stored()).toContain('staging');
      expect(json(run(['env', 'staging', '--clear-gates', '--json']))).toEqual(empty);
      expect(stored()).toContain('staging');
      expect(json(run(['env', 'staging', '--remove', '--json']))).toEqual({ env: 'staging', id: null, moves: 0 });
      expect(stored()).not.toContain('staging');
      expectError(run(['deploy', 'v1', '--env', 'staging', '--json']), 'UNKNOWN_ENV', 4);
    } finally {
      t.cleanup();
    }
  });

  it('--name names the model in the serving folder; --model, its old name, still works but is not in --help', () => {
    const { t, run } = oneVersion();
    try {
      const flags = (flag: string, name: string) => ['--export', t.path('srv'), '--layout', 'triton', flag, name];
      const byName = json(run(['env', 'a', ...flags('--name', 'net'), '--json']));
      expect(byName.config.export).toEqual({ dir: t.path('srv'), layout: 'triton', name: 'net' });
      const byModel = json(run(['env', 'b', ...flags('--model', 'old'), '--json']));
      expect(byModel.config.export).toEqual({ dir: t.path('srv'), layout: 'triton', name: 'old' });
      const both = expectError(run(['env', 'c', ...flags('--name', 'x'), '--model', 'y', '--json']), 'BAD_ARGUMENT', 2);
      expect(both.message).toContain('--model');
      const help = ok(run(['env', '--help'])).stdout;
      expect(help).toContain('--name');
      expect(help).not.toContain('--model');
    } finally {
      t.cleanup();
    }
  });

  it('refuses a change without a name, --export without --layout and --name, and a bad name (exit 2)', () => {
    const { t, run } = oneVersion();
    try {
      const noName = expectError(run(['env', '--require', 'metrics.f1 > 0', '--json']), 'BAD_ARGUMENT', 2);
      expect(noName.message).toBe('name the environment to change');
      const half = expectError(run(['env', 'production', '--export', t.path('srv'), '--json']), 'BAD_ARGUMENT', 2);
      expect(half.data.hint).toContain('--layout');
      expect(half.message).toBe('--export DIR needs --layout and --name');
      // --name alone is refused, not ignored while the env is shown
      const alone = expectError(run(['env', 'production', '--name', 'm', '--json']), 'BAD_ARGUMENT', 2);
      expect(alone.message).toContain('add --export');
      const bad = expectError(run(['env', 'bad name', '--json']), 'BAD_REF_NAME', 2);
      expect(bad.data.name).toBe('bad name');
      expect(json(run(['env', '--json']))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
