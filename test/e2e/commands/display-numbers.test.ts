/**
 * Numbers written for people, end to end through the real CLI: log (full, --oneline, --graph), show, compare
 * (table, Markdown, CSV), eval and annotate round metrics, params and meta to six significant digits
 * (core/display.ts); every --json output keeps the exact value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok } from '../../helpers/assertions.js';

const LOSS = '0.09000000000000001';
const LR = '0.0003333333333333333';
// 0.1 + 0.2, and its delta against LOSS
const LOSS2 = String(0.1 + 0.2);
const DELTA = String(0.1 + 0.2 - 0.09000000000000001);

let t: ReturnType<typeof testdir>;
const run = (args: string[]) => mvm(args, { cwd: t.dir });

beforeAll(() => {
  t = testdir({ 'm.bin': 'one\n' });
  ok(run(['init']));
  ok(run(['add', 'm.bin']));
  ok(run(['commit', '-m', 'one', '--metric', `loss=${LOSS}`, '--param', `lr=${LR}`, '--meta', 'scale=123456.789']));
  ok(mvm(['commit', '-m', 'two', '--metric', `loss=${LOSS2}`, '--allow-empty'], { cwd: t.dir }));
});
afterAll(() => t.cleanup());

// in order: the last test annotates, which the others' outputs would show
describe('numbers in text output', () => {
  it('the values are stored exactly (the test would prove nothing otherwise)', () => {
    expect(LOSS2).toBe('0.30000000000000004');
    expect(DELTA).toBe('0.21000000000000002');
  });

  it('log, log --oneline and log --graph round; log --json is exact', () => {
    const oneline = ok(run(['log', '--oneline']))
      .stdout.trim()
      .split('\n');
    expect(oneline[0]).toMatch(/ two {2}\[loss=0\.3\]$/);
    expect(oneline[1]).toMatch(/ one {2}\[loss=0\.09\]$/);
    const full = ok(run(['log'])).stdout;
    expect(full).toContain('Metrics: loss=0.09\n');
    expect(full).toContain('Params:  lr=0.000333333\n');
    expect(full).not.toContain(LOSS);
    expect(ok(run(['log', '--graph', '--oneline'])).stdout).toContain('[loss=0.3]');
    const raw = ok(run(['log', '--json'])).stdout;
    expect(raw).toContain(LOSS);
    expect(raw).toContain(LR);
    expect(JSON.parse(raw)[1].metrics.loss).toBe(0.09000000000000001);
  });

  it('show rounds metrics, params and meta (to the unit from 100,000); show --json is exact', () => {
    const out = ok(run(['show', 'v1'])).stdout;
    expect(out).toContain('Metrics: loss=0.09\n');
    expect(out).toContain('Params:  lr=0.000333333\n');
    expect(out).toContain('Meta:    scale=123457\n');
    const v = json(run(['show', 'v1', '--json'])).version;
    expect([v.metrics.loss, v.params.lr, v.meta.scale]).toEqual([
      0.09000000000000001, 0.0003333333333333333, 123456.789,
    ]);
  });

  it('compare rounds values and deltas in the table, Markdown and CSV; compare --json is exact', () => {
    const table = ok(run(['compare', 'v1', 'v2'])).stdout;
    expect(table).toMatch(/loss \(lower is better\) +0\.09 +0\.3 \(\+0\.21 worse\)/);
    expect(table).toMatch(/params\.lr +0\.000333333 +-/);
    expect(ok(run(['compare', 'v1', 'v2', '--format', 'md'])).stdout).toContain(
      '| loss (lower is better) | 0.09 | 0.3 (+0.21 worse) |',
    );
    expect(ok(run(['compare', 'v1', 'v2', '--format', 'csv'])).stdout).toContain(
      'loss (lower is better),0.09,0.3 (+0.21 worse)',
    );
    const raw = ok(run(['compare', 'v1', 'v2', '--json'])).stdout;
    expect(raw).toContain(LOSS2);
    expect(raw).toContain(DELTA);
  });

  it('eval and annotate print rounded metrics; their --json is exact', () => {
    const script = `console.log(JSON.stringify({ f1: 0.1 + 0.2 }))`;
    const evalText = ok(run(['eval', 'v1', '--', process.execPath, '-e', script])).stdout;
    expect(evalText).toMatch(/^v1 [0-9a-f]{12}: f1=0\.3 \(/m);
    const evalJson = ok(run(['eval', 'v1', '--json', '--', process.execPath, '-e', script])).stdout;
    expect(evalJson).toContain(LOSS2);
    expect(ok(run(['annotate', 'v2', '--metric', `acc=${LOSS2}`])).stdout).toMatch(/: acc=0\.3\n$/);
    expect(json(run(['annotate', 'v2', '--metric', `acc=${LOSS2}`, '--json'])).metrics.acc).toBe(0.1 + 0.2);
  });

  it('a gate refusal rounds the value, the bound and the shortfall; its --json data is exact', () => {
    ok(run(['env', 'gated', '--create', '--require', 'metrics.loss < 0.05']));
    const refused = run(['deploy', 'v2', '--env', 'gated']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('metrics.loss is 0.3, needs < 0.05 (short by 0.25)');
    const err = JSON.parse(run(['deploy', 'v2', '--env', 'gated', '--json']).stdout).error;
    expect(err.code).toBe('GATE_FAILED');
    expect(JSON.stringify(err.data)).toContain(LOSS2);
  });
});
