/**
 * Every `mvm log` filter, end to end through the real CLI: --all, --branch,
 * -n, --author, --grep, --since / --until, --uses-data, --based-on and the
 * --where language (including the positions of its errors). Runs against the
 * registry repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { numbers, useRegistryRepo } from '../../helpers/registryRepo.js';
import { AUTHOR, story, useStory } from '../../helpers/story.js';

const { fx, run, expectSets } = useRegistryRepo();

describe.concurrent('log filters', () => {
  it(
    'walks HEAD by default, every version with --all, newest first; --branch NAME starts from that ' + 'branch',
    async () => {
      const [head, all, exp, main] = await Promise.all([
        run(['log', '--json']),
        run(['log', '--all', '--json']),
        run(['log', '--branch', 'exp', '--json']),
        run(['log', '--branch', 'main', '--json']),
      ]);
      expect(numbers(head)).toEqual([4, 3, 2, 1]);
      expect(numbers(all)).toEqual([6, 5, 4, 3, 2, 1]);
      expect(json(all)[0].id).toBe(fx.ids[6]);
      expect(numbers(exp)).toEqual([6, 5, 2, 1]);
      expect(numbers(main)).toEqual([4, 3, 2, 1]);
      expectError(await run(['log', '--branch', 'nope', '--json']), 'UNKNOWN_REVISION', 4);
    },
  );

  it('-n limits the output after filtering', async () => {
    const [a, b, c, text] = await Promise.all([
      run(['log', '--all', '-n', '3', '--json']),
      run(['log', '-n', '2', '--where', 'metrics.accuracy > 0.8', '--json']),
      run(['log', '-n', '0', '--json']),
      run(['log', '--oneline', '-n', '2']),
    ]);
    expect(numbers(a)).toEqual([6, 5, 4]);
    expect(numbers(b)).toEqual([4, 3]);
    expect(numbers(c)).toEqual([]);
    const lines = ok(text).stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^v4 [0-9a-f]{12} \(HEAD -> main\) bigger head WIP {2}\[accuracy=0\.83 loss=0\.45\]$/);
    expect(lines[1]).toMatch(/^v3 [0-9a-f]{12} fine-tune of baseline on cifar {2}\[/);
  });

  it('--where: comparisons, and / or / not, parentheses and precedence', async () => {
    await expectSets([
      [
        ['--all', '--where', 'metrics.accuracy > 0.8 and params.opt = "adam"'],
        [2, 3],
      ],
      [
        ['--all', '--where', 'params.lr < 0.0005 or meta.dataset = "cifar-10"'],
        [2, 3, 4, 5],
      ],
      [['--all', '--where', 'params.lr = 3e-4'], [2]],
      [['--all', '--where', 'params.epochs = "10"'], [1]], // number vs string: text forms
      // and binds tighter than or; parentheses change the answer
      [
        ['--all', '--where', 'meta.dataset = "cifar-10" or meta.dataset = "imagenet-2024" and metrics.accuracy > 0.84'],
        [2, 3, 5],
      ],
      [
        [
          '--all',
          '--where',
          '(meta.dataset = "cifar-10" or meta.dataset = "imagenet-2024") and metrics.accuracy > 0.84',
        ],
        [2, 3],
      ],
      // not: the missing-field rule (v6 has no meta.dataset, so it is kept)
      [
        ['--all', '--where', 'not meta.dataset = "imagenet-2024"'],
        [3, 5, 6],
      ],
      [
        ['--all', '--where', 'meta.dataset != "imagenet-2024"'],
        [3, 5],
      ],
      [
        ['--all', '--where', '!(metrics.accuracy >= 0.8) && exists(metrics.accuracy)'],
        [5, 6],
      ],
      [
        ['--all', '--where', 'version >= v5 || version = 1'],
        [1, 5, 6],
      ],
      [
        ['--all', '--where', 'metrics.loss < metrics.accuracy'],
        [2, 3, 4],
      ],
    ]);
  });

  it('--where: exists(), string equality on meta, regex and contains on message, dates', async () => {
    await expectSets([
      [
        ['--all', '--where', 'exists(metrics.eval.f1)'],
        [2, 6],
      ],
      [
        ['--all', '--where', 'exists(metrics.latency_ms) and (metrics.loss < 0.6 or not exists(metrics.loss))'],
        [3, 6],
      ],
      [['--all', '--where', 'meta.gpu = "a100"'], [1]],
      [['--all', '--where', "meta.dataset = 'cifar-10' and params.opt = 'sgd'"], [5]],
      [
        ['--all', '--where', 'message ~ "^exp: "'],
        [5, 6],
      ],
      [['--all', '--where', 'message ~ "WIP$"'], [4]],
      [['--all', '--where', 'message ~ "wip$"'], []], // case-sensitive
      [['--all', '--where', 'message contains "baseline" and message !~ "cifar"'], [1]],
      [
        ['--all', '--where', 'author ~ "^Alice"'],
        [1, 4],
      ],
      [
        ['--all', '--where', 'date = "2026-01"'],
        [1, 2, 3],
      ],
      [['--all', '--where', 'date > "2026-02-01" and date <= "2026-02-10"'], [5]],
      [['--all', '--where', `id ~ "^${fx.ids[3]!.slice(0, 8)}"`], [3]],
      // the same filter on the default (HEAD) walk
      [
        ['--where', 'exists(metrics.latency_ms)'],
        [1, 2, 3],
      ],
    ]);
  });

  it('--author, --grep, --since / --until', async () => {
    await expectSets([
      [
        ['--all', '--author', 'alice'],
        [1, 4],
      ],
      [['--all', '--author', 'bob@example'], [3]],
      [
        ['--all', '--author', 'Test User'],
        [2, 6],
      ],
      [['--all', '--author', 'nobody'], []],
      [
        ['--all', '--grep', 'BASELINE'],
        [1, 3],
      ],
      [
        ['--all', '--grep', '^exp'],
        [5, 6],
      ],
      [['--grep', '^exp'], []],
      [
        ['--all', '--since', '2026-01-15', '--until', '2026-02-01T10:00:00Z'],
        [2, 3, 4],
      ],
      [
        ['--all', '--since', '2026-01-15', '--until', '2026-02-01'],
        [2, 3],
      ],
      [
        ['--all', '--since', '2026-02-05'],
        [5, 6],
      ],
      [['--since', '2026-02-05'], []],
      [['--all', '--until', '2026-01-10T10:00:00Z'], [1]],
      // filters combine
      [['--all', '--author', 'alice', '--where', 'metrics.accuracy > 0.8'], [4]],
    ]);
    const [since, grep] = await Promise.all([
      run(['log', '--since', 'last tuesday-ish', '--json']),
      run(['log', '--grep', '(', '--json']),
    ]);
    expectError(since, 'BAD_VALUE', 2);
    expectError(grep, 'BAD_VALUE', 2);
  });

  it('--uses-data by path, by id, by name and by a name=ID id', async () => {
    await expectSets([
      [
        ['--all', '--uses-data', 'data/train'],
        [1, 2, 4, 5],
      ],
      [
        ['--all', '--uses-data', fx.dataA],
        [1, 2],
      ],
      [
        ['--all', '--uses-data', fx.dataB],
        [4, 5],
      ],
      [['--uses-data', fx.dataB], [4]],
      [['--all', '--uses-data', 'imagenet'], [3]],
      [['--all', '--uses-data', 'sha256:abc'], [3]],
      [['--all', '--uses-data', 'a'.repeat(64)], []],
    ]);
  });

  it('--based-on follows the base chain transitively', async () => {
    await expectSets([
      [
        ['--all', '--based-on', 'v1'],
        [3, 4, 5, 6],
      ],
      [
        ['--all', '--based-on', 'v3'],
        [4, 5, 6],
      ],
      [['--all', '--based-on', 'v5'], [6]],
      [['--all', '--based-on', 'v6'], []],
      [['--all', '--based-on', 'v2'], []], // parents are not bases
      [
        ['--based-on', 'v1'],
        [3, 4],
      ],
      [
        ['--branch', 'exp', '--based-on', fx.ids[1]!],
        [5, 6],
      ],
    ]);
    expectError(await run(['log', '--based-on', 'v99', '--json']), 'UNKNOWN_REVISION', 4);
  });

  // [expression, expected 0-based position]
  const BAD: [string, number][] = [
    ['metrics.accuracy > 0.9 and params.lr >', 38], // trailing operator: at the end
    ['(metrics.accuracy > 0.9', 0], // unclosed '(': at the '('
    ['metrics.accuracy > 0.9 and (params.lr < 1 or meta.x = "y"', 27],
    ['metrics.accuracy > 0.9)', 22], // stray ')'
    ['meta.dataset = "imagenet', 15], // unterminated string: at the quote
    ['foo.bar > 1', 0], // unknown field
    ['metrics.accuracy > 0.9 and meta.dataset = imagenet', 42], // unquoted text value
    ['message ~ "("', 10], // bad regex
    ['date >= "2026-13-45"', 8], // invalid date
    ['metrics.accuracy > 0.9 and', 26], // nothing after 'and'
    ['metrics.accuracy 0.9', 17], // missing operator
    ['exists(metrics.f1', 17], // unclosed exists(
    ['metrics.accuracy > 0.9 & params.lr < 1', 23], // single '&'
    ['metrics. > 1', 8], // empty key
    ['   ', 0], // blank
  ];

  it.each(BAD)('--where %j is BAD_EXPRESSION at position %i, one stderr line naming it', async (expr, pos) => {
    const e = expectError(await run(['log', '--where', expr, '--json']), 'BAD_EXPRESSION', 2);
    expect(e.data.position).toBe(pos);
    expect(e.data.expression).toBe(expr);
    expect(e.message).toContain(`position ${pos}`);
  });

  it('without --json: nothing on stdout, one stderr line with the position; best --where the same', async () => {
    const [text, best] = await Promise.all([
      run(['log', '--where', 'metrics.accuracy > 0.9 and params.lr >']),
      run(['best', '--metric', 'accuracy', '--where', 'metrics.accuracy >', '--json']),
    ]);
    expect(text.exitCode).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^mvm: [^\n]*position 38[^\n]*\n$/);
    expect(expectError(best, 'BAD_EXPRESSION', 2).data.position).toBe(18);
  });

  it(
    '--where with an empty expression is BAD_EXPRESSION (docs/QUERY.md lists "an empty expression" as an ' + 'error)',
    async () => {
      const [log, best] = await Promise.all([
        run(['log', '--where', '', '--json']),
        run(['best', '--metric', 'accuracy', '--where', '', '--json']),
      ]);
      expect(expectError(log, 'BAD_EXPRESSION', 2).data.position).toBe(0);
      expect(expectError(best, 'BAD_EXPRESSION', 2).data.position).toBe(0);
    },
  );
});

describe('log dates', () => {
  it("--since and --until take relative dates ('2 days ago', 'yesterday', 'today')", () => {
    const t = testdir({ 'm.bin': 'one' });
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
      const day = 86_400_000;
      const at = (ms: number) => new Date(Date.now() - ms).toISOString();
      ok(mvm(['commit', '-m', 'ten days ago', '--date', at(10 * day)], { cwd: t.dir }));
      writeFileSync(t.path('m.bin'), 'two');
      ok(mvm(['commit', '-m', 'three days ago', '--date', at(3 * day)], { cwd: t.dir }));
      writeFileSync(t.path('m.bin'), 'three');
      ok(mvm(['commit', '-m', 'an hour ago', '--date', at(3_600_000)], { cwd: t.dir }));
      const msgs = (args: string[]) =>
        json<{ message: string }[]>(mvm(['log', ...args, '--json'], { cwd: t.dir })).map((e) => e.message);
      expect(msgs(['--since', '1 week ago'])).toEqual(['an hour ago', 'three days ago']);
      expect(msgs(['--since', '2 days ago'])).toEqual(['an hour ago']);
      expect(msgs(['--until', '2 days ago'])).toEqual(['three days ago', 'ten days ago']);
      expect(msgs(['--since', '1 month ago', '--until', '1 week ago'])).toEqual(['ten days ago']);
      expect(msgs(['--until', 'yesterday'])).toEqual(['three days ago', 'ten days ago']);
      const bad = expectError(mvm(['log', '--since', 'a while back', '--json'], { cwd: t.dir }), 'BAD_VALUE', 2);
      expect(bad.data.hint).toContain('2 days ago');
    } finally {
      t.cleanup();
    }
  });
});

describe('log of the user story', () => {
  useStory();

  it('log shows v2 then v1 with hash, author, date, message and metrics; --oneline, -n 1, --graph, --json', () => {
    const s = story();
    const text = ok(s.run(['log'])).stdout;
    const i2 = text.indexOf(`version v2 ${s.v2.slice(0, 12)}`);
    const i1 = text.indexOf(`version v1 ${s.v1.slice(0, 12)}`);
    expect(i2).toBeGreaterThanOrEqual(0);
    expect(i1).toBeGreaterThan(i2);
    const block2 = text.slice(i2, i1);
    const block1 = text.slice(i1);
    expect(block2).toContain('(HEAD -> main)');
    expect(block2).toContain(`Author:  ${AUTHOR}`);
    expect(block2).toMatch(/Date: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(block2).toContain('Metrics: accuracy=0.93');
    expect(block2).toContain('    lr 3e-4');
    expect(block1).toContain(`Author:  ${AUTHOR}`);
    expect(block1).toContain('Metrics: accuracy=0.91');
    expect(block1).toContain('    baseline');

    const oneline = ok(s.run(['log', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    expect(oneline).toHaveLength(2);
    expect(oneline[0]).toMatch(new RegExp(`^v2 ${s.v2.slice(0, 12)} .*lr 3e-4.*accuracy=0\\.93`));
    expect(oneline[1]).toMatch(new RegExp(`^v1 ${s.v1.slice(0, 12)} .*baseline.*accuracy=0\\.91`));

    const one = ok(s.run(['log', '-n', '1', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    expect(one).toHaveLength(1);
    expect(one[0]).toContain('v2 ');
    expect(ok(s.run(['log', '-n', '1'])).stdout).not.toContain('baseline');

    const graph = ok(s.run(['log', '--graph', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    expect(graph).toEqual([expect.stringMatching(/^\* v2 .*lr 3e-4/), expect.stringMatching(/^\* v1 .*baseline/)]);
    const graphFull = ok(s.run(['log', '--graph']))
      .stdout.trimEnd()
      .split('\n');
    expect(graphFull[0]).toMatch(/^\* version v2 /);
    expect(graphFull.filter((l) => l.startsWith('* '))).toHaveLength(2);
    for (const l of graphFull) expect(l).toMatch(/^[*|]/);

    const entries = json<any[]>(s.run(['log', '--json']));
    expect(entries.map((e) => e.number)).toEqual([2, 1]);
    expect(entries.map((e) => e.id)).toEqual([s.v2, s.v1]);
    expect(entries[0]).toMatchObject({
      message: 'lr 3e-4',
      author: AUTHOR,
      metrics: { accuracy: 0.93 },
      parents: [s.v1],
      refs: ['HEAD -> main'],
    });
    expect(entries[1]).toMatchObject({
      message: 'baseline',
      author: AUTHOR,
      metrics: { accuracy: 0.91 },
      meta: { dataset: 'imagenet-2024' },
      parents: [],
    });
    expect(Number.isNaN(Date.parse(entries[0].time))).toBe(false);
    expect(Date.parse(entries[0].time)).toBeGreaterThanOrEqual(Date.parse(entries[1].time));
  });
});
