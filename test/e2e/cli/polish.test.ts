/** Everyday polish: compare formats, did-you-mean, --where warnings. */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

function repo() {
  const t = testdir({ 'm.bin': 'one' });
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  ok(run(['init']));
  ok(run(['add', 'm.bin']));
  ok(
    run([
      'commit',
      '-m',
      'first | with a pipe',
      '--metric',
      'accuracy=0.9',
      '--metric',
      'loss=0.5',
      '--param',
      'lr=0.001',
    ]),
  );
  writeFileSync(t.path('m.bin'), 'two');
  ok(
    run([
      'commit',
      '-m',
      'second, "quoted"',
      '--metric',
      'accuracy=0.93',
      '--metric',
      'loss=0.4',
      '--param',
      'lr=0.0003',
    ]),
  );
  ok(run(['branch', 'experiment']));
  return { t, run };
}

describe('everyday polish', () => {
  it('compare --format md, csv and json; the table pivots when the terminal is narrow', () => {
    const { t, run } = repo();
    try {
      const md = ok(run(['compare', 'v1', 'v2', '--format', 'md']))
        .stdout.trimEnd()
        .split('\n');
      expect(md[0]).toMatch(/^\| field \| v1 [0-9a-f]{12} \| v2 [0-9a-f]{12} \|$/);
      expect(md[1]).toBe('| --- | ---: | ---: |');
      expect(md).toContain('| message | first \\| with a pipe | second, "quoted" |');
      expect(md.find((l) => l.startsWith('| accuracy'))).toMatch(/0\.93 \(\+0\.03 better\)/);
      const csv = ok(run(['compare', 'v1', 'v2', '--format', 'csv']))
        .stdout.trimEnd()
        .split('\n');
      expect(csv[0]).toMatch(/^field,v1 [0-9a-f]{12},v2 [0-9a-f]{12}$/);
      expect(csv).toContain('message,first | with a pipe,"second, ""quoted"""');
      expect(csv.find((l) => l.startsWith('params.lr'))).toBe('params.lr,0.001,0.0003');
      expect(json(run(['compare', 'v1', 'v2', '--format', 'json'])).columns).toHaveLength(2);
      // piped: the full table, fields down
      const table = ok(run(['compare', 'v1', 'v2'])).stdout;
      expect(table.split('\n')[1]).toMatch(/^message/);
    } finally {
      t.cleanup();
    }
  });

  it(
    'did you mean: revisions and branches, metrics in best and compare; --lower-is-better with an unknown metric ' +
      'is an error',
    () => {
      const { t, run } = repo();
      try {
        const rev = expectError(run(['show', 'experimnt', '--json']), 'UNKNOWN_REVISION', 4);
        expect(rev.message).toContain("did you mean 'experiment'?");
        expect(expectError(run(['checkout', 'expriment', '--json']), 'UNKNOWN_REVISION', 4).message).toContain(
          "'experiment'",
        );
        const best = expectError(run(['best', '--metric', 'acuracy', '--json']), 'NO_VERSIONS', 4);
        expect(best.message).toContain("did you mean 'accuracy'?");
        const cmp = expectError(run(['compare', 'v1', 'v2', '--lower-is-better', 'los', '--json']), 'BAD_VALUE', 2);
        expect(cmp.message).toContain("did you mean 'loss'?");
        // nothing close: no suggestion
        expect(expectError(run(['show', 'zzzzzz', '--json']), 'UNKNOWN_REVISION', 4).message).not.toContain(
          'did you mean',
        );
      } finally {
        t.cleanup();
      }
    },
  );

  it('a --where field that no version has is a warning on stderr, not a silent empty result', () => {
    const { t, run } = repo();
    try {
      const r = run(['log', '--where', 'metrics.acc > 0.5', '--json']);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([]);
      expect(r.stderr).toContain("warning: no version has metrics.acc (did you mean 'metrics.accuracy'?)");
      const fine = ok(run(['log', '--where', 'metrics.accuracy > 0.91', '--json']));
      expect(JSON.parse(fine.stdout)).toHaveLength(1);
    } finally {
      t.cleanup();
    }
  });
});

describe('colour', () => {
  it(
    'FORCE_COLOR paints status, log refs, diff marks and compare verdicts; piped or NO_COLOR prints none; ' +
      'repository text cannot inject escapes',
    () => {
      const { t, run } = repo();
      try {
        const colored = (args: string[], env: Record<string, string>) => mvm(args, { cwd: t.dir, env });
        writeFileSync(t.path('m.bin'), 'three');
        const st = ok(colored(['status'], { FORCE_COLOR: '1' })).stdout;
        expect(st).toContain('On branch \x1b[32mmain\x1b[0m');
        expect(st).toMatch(/\x1b\[33mmodified {6}\x1b\[0mm\.bin/);
        const lg = ok(colored(['log', '--oneline'], { FORCE_COLOR: '1' })).stdout;
        expect(lg).toContain('\x1b[36mHEAD ->\x1b[0m \x1b[32mmain\x1b[0m');
        expect(ok(colored(['diff', 'v1', 'v2'], { FORCE_COLOR: '1' })).stdout).toContain('\x1b[33mM\x1b[0m m.bin');
        expect(ok(colored(['compare', 'v1', 'v2'], { FORCE_COLOR: '1' })).stdout).toContain('\x1b[32mbetter\x1b[0m');
        // the table stays aligned: colour marks take no room
        const lines = ok(colored(['compare', 'v1', 'v2'], { FORCE_COLOR: '1' })).stdout.split('\n');
        const plain = ok(run(['compare', 'v1', 'v2'])).stdout.split('\n');
        expect(lines.map((l) => l.replace(/\x1b\[\d+m/g, ''))).toEqual(plain);
        // off when piped, and with NO_COLOR
        expect(ok(run(['status'])).stdout).not.toContain('\x1b');
        expect(ok(colored(['status'], { NO_COLOR: '1' })).stdout).not.toContain('\x1b');
        expect(ok(colored(['compare', 'v1', 'v2', '--format', 'md'], { FORCE_COLOR: '1' })).stdout).not.toContain(
          '\x1b',
        );
        // a message carrying an escape sequence is printed escaped, colour or not
        ok(run(['commit', '-m', 'evil \x1b[2J message']));
        const evil = ok(colored(['log', '--oneline', '-n', '1'], { FORCE_COLOR: '1' })).stdout;
        expect(evil).toContain('evil \\x1b[2J message');
        expect(evil).not.toContain('\x1b[2J');
      } finally {
        t.cleanup();
      }
    },
  );
});
