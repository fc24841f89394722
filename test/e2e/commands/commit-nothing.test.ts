/**
 * `mvm commit` when no tracked file changed, end to end through the real CLI: plain, it makes no version and
 * exits 1 (`created: false`); given metrics, params, meta, a base or data it would drop, it refuses with
 * NOTHING_TO_COMMIT, naming `mvm annotate` (metrics) or `--allow-empty` (the rest); what HEAD already records
 * the same way is not refused (a script run twice).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

let t: ReturnType<typeof testdir>;
const run = (args: string[]) => mvm(args, { cwd: t.dir });
/** The versions in the history. */
const count = () => json<unknown[]>(run(['log', '--json'])).length;

beforeAll(() => {
  t = testdir({ 'm.bin': 'weights\n' });
  ok(run(['init']));
  ok(run(['add', 'm.bin']));
  ok(run(['commit', '-m', 'v1', '--metric', 'acc=0.5', '--param', 'lr=0.1']));
});
afterAll(() => t.cleanup());

describe('commit with nothing changed', () => {
  it('refuses metrics it would drop: NOTHING_TO_COMMIT (exit 1), the hint is the annotate command', () => {
    const e = expectError(
      run(['commit', '-m', 'x', '--metric', 'acc=0.9', '--metric', 'f1=0.75', '--json']),
      'NOTHING_TO_COMMIT',
      1,
    );
    expect(e.data.dropped).toEqual(['metrics']);
    expect(e.data.command).toBe('mvm annotate HEAD --metric acc=0.9 --metric f1=0.75');
    expect(e.data.hint).toContain('mvm annotate HEAD --metric acc=0.9 --metric f1=0.75');
    expect(e.data.hint).toContain('--allow-empty');
    const text = run(['commit', '-m', 'x', '--metric', 'acc=0.9']);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^mvm: nothing to commit, .*v1.*mvm annotate HEAD --metric acc=0\.9/);
    expect(count()).toBe(1);
    // the command it names works, and records them on v1
    ok(run(e.data.command.split(' ').slice(1)));
    expect(json(run(['show', 'v1', '--json'])).metrics).toMatchObject({ acc: 0.9, f1: 0.75 });
  });

  it('refuses params and meta (annotate takes only metrics): the hint is --allow-empty', () => {
    const e = expectError(run(['commit', '-m', 'x', '--param', 'lr=0.2', '--json']), 'NOTHING_TO_COMMIT', 1);
    expect(e.data.dropped).toEqual(['params']);
    expect(e.data.command).toBeUndefined();
    expect(e.data.hint).toContain('--allow-empty');
    expect(e.data.hint).not.toContain('annotate');
    const both = expectError(
      run(['commit', '-m', 'x', '--meta', 'ds=b', '--metric', 'acc=0.7', '--json']),
      'NOTHING_TO_COMMIT',
      1,
    );
    expect(both.data.dropped).toEqual(['metrics', 'meta']);
    expect(both.message).toContain('metrics and meta');
    expect(both.data.hint).toContain('mvm annotate HEAD --metric acc=0.7');
    expect(count()).toBe(1);
  });

  it('without them, or with what HEAD records already, it stays created: false (exit 1)', () => {
    for (const extra of [[], ['--metric', 'acc=0.5', '--param', 'lr=0.1']]) {
      const r = run(['commit', '-m', 'again', ...extra, '--json']);
      expect(r.exitCode).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: false, number: 1 });
    }
    expect(run(['commit', '-m', 'again']).stdout).toContain('nothing to commit');
  });

  it('--allow-empty makes the version with them; a changed file does too', () => {
    const v2 = json(run(['commit', '-m', 'x', '--metric', 'acc=0.8', '--allow-empty', '--json']));
    expect(v2).toMatchObject({ created: true, number: 2 });
    expect(json(run(['show', 'v2', '--json'])).metrics.acc).toBe(0.8);
    writeFileSync(t.path('m.bin'), 'weights 3\n');
    expect(json(run(['commit', '-m', 'x', '--metric', 'acc=0.85', '--json']))).toMatchObject({ number: 3 });
  });
});
