/**
 * `mvm annotate`, end to end through the real CLI: metrics and notes added
 * to a version after the fact, without changing its id, and seen by show,
 * log, --where, best and compare. Runs against the registry repository of
 * test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { testdir } from '../../helpers/cli.js';
import { BACKENDS, originAndClone } from '../../helpers/remotes.js';
import { DEFAULT_AUTHOR, HEX64, snapshot, useRegistryRepo } from '../../helpers/registryRepo.js';

const { fx, copy, expectSets } = useRegistryRepo();

describe.concurrent('annotate', () => {
  it('adds metrics and notes without changing ids; newest value wins in show, log, where and best', async () => {
    const r = copy();
    const idsBefore = json<{ id: string }[]>(await r.run(['log', '--all', '--json'])).map((e) => e.id);
    const t0 = Date.now();
    const a1 = json(await r.run(['annotate', 'v2', '--metric', 'f1=0.8', '--note', 'eval on holdout-2026', '--json']));
    expect(a1.target).toBe(fx.ids[2]);
    expect(a1.number).toBe(2);
    expect(a1.metrics).toEqual({ f1: 0.8 });
    expect(a1.annotation).toMatch(HEX64);
    expect(json<{ id: string }[]>(await r.run(['log', '--all', '--json'])).map((e) => e.id)).toEqual(idsBefore);

    let s = json(await r.run(['show', 'v2', '--json']));
    expect(s.id).toBe(fx.ids[2]);
    expect(s.annotations).toHaveLength(1);
    expect(s.annotations[0].author).toBe(DEFAULT_AUTHOR);
    expect(s.annotations[0].note).toBe('eval on holdout-2026');
    expect(s.annotations[0].metrics).toEqual({ f1: 0.8 });
    expect(s.annotations[0].id).toBe(a1.annotation);
    const at = Date.parse(s.annotations[0].time);
    expect(at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    expect(s.metrics.f1).toBe(0.8);
    expect(s.metrics.accuracy).toBe(0.85); // recorded metrics stay
    expect(s.version.metrics.f1).toBeUndefined(); // the manifest is immutable

    // a second annotation by someone else: the later value wins, history is kept
    const a2 = json(
      await r.run([
        'annotate',
        'v2',
        '--metric',
        'f1=0.85',
        '--metric',
        'accuracy=0.86',
        '--author',
        'Eve <eve@example.com>',
        '--json',
      ]),
    );
    s = json(await r.run(['show', 'v2', '--json']));
    expect(s.annotations.map((a: any) => a.id)).toEqual([a1.annotation, a2.annotation]);
    expect(s.annotations[1].author).toBe('Eve <eve@example.com>');
    expect(s.annotations[1].note).toBeUndefined();
    expect(s.metrics.f1).toBe(0.85);
    expect(s.metrics.accuracy).toBe(0.86);
    expect(s.version.metrics.accuracy).toBe(0.85);

    const [text, log1, best] = await Promise.all([
      r.run(['show', 'v2']),
      r.run(['log', '--all', '--json']),
      r.run(['best', '--metric', 'f1', '--number']),
    ]);
    expect(ok(text).stdout).toMatch(/^annotated .* by Eve <eve@example\.com>: accuracy=0\.86 f1=0\.85$/m);
    const entries = json<any[]>(log1);
    expect(entries.map((e) => e.id)).toEqual(idsBefore);
    const entry = entries.find((e) => e.number === 2);
    expect(entry.metrics.f1).toBe(0.85);
    expect(entry.metrics.accuracy).toBe(0.86);
    expect(ok(best).stdout.trim()).toBe('v2');
    await expectSets(
      [
        [['--all', '--where', 'metrics.f1 > 0.7'], [2]],
        [['--all', '--where', 'metrics.f1 > 0.82'], [2]],
        [['--all', '--where', 'metrics.f1 < 0.82'], []],
        [
          ['--all', '--where', 'metrics.accuracy > 0.855'],
          [2, 3],
        ],
      ],
      r.run,
    );

    // a note alone is fine and leaves the metrics alone
    json(await r.run(['annotate', 'v2', '--note', 'checked by hand', '--json']));
    s = json(await r.run(['show', 'v2', '--json']));
    expect(s.annotations).toHaveLength(3);
    expect(s.annotations[2].note).toBe('checked by hand');
    expect(s.metrics.f1).toBe(0.85);
  });

  it('annotating a version makes compare see the new metric', async () => {
    const r = copy();
    json(await r.run(['annotate', 'v3', '--metric', 'accuracy=0.95', '--json']));
    const c = json(await r.run(['compare', 'v1', 'v3', '--json']));
    expect(c.columns[1].metrics.accuracy.value).toBe(0.95);
    expect(c.columns[1].metrics.accuracy.delta).toBeCloseTo(0.15, 10);
  });

  it(
    'nothing to add is BAD_ARGUMENT, a bad metric is BAD_VALUE, an unknown version UNKNOWN_REVISION; nothing is ' +
      'recorded',
    async () => {
      const r = copy();
      const before = snapshot(r.path('.mvm'), ['index', 'summaries']);
      expectError(await r.run(['annotate', 'v2', '--json']), 'BAD_ARGUMENT', 2);
      expectError(await r.run(['annotate', 'v2', '--note', '   ', '--json']), 'BAD_ARGUMENT', 2);
      expectError(await r.run(['annotate', 'v2', '--metric', 'f1=good', '--json']), 'BAD_VALUE', 2);
      expectError(await r.run(['annotate', 'v2', '--metric', 'f1', '--note', 'x', '--json']), 'BAD_VALUE', 2);
      expectError(await r.run(['annotate', 'v99', '--note', 'x', '--json']), 'UNKNOWN_REVISION', 4);
      expect(snapshot(r.path('.mvm'), ['index', 'summaries'])).toEqual(before);
      expect(json(await r.run(['show', 'v2', '--json'])).annotations).toEqual([]);
    },
  );
});

describe('annotations through a remote', () => {
  it('travel with push and fetch both ways; one whose bytes do not match its id refuses the fetch', () => {
    const t = testdir();
    try {
      const url = t.path('remote');
      const { a, c } = originAndClone(BACKENDS[0]!, t, url);
      ok(a.run(['annotate', 'v1', '--metric', 'f1=0.7', '--note', 'holdout']));
      expect(json(a.run(['push', '--json'])).annotations).toBe(1);
      expect(json(a.run(['push', '--json'])).annotations).toBe(0);
      ok(c.run(['fetch']));
      const seen = json(c.run(['show', 'v1', '--json']));
      expect(seen.annotations.map((x: { metrics: object; note: string }) => [x.metrics, x.note])).toEqual([
        [{ f1: 0.7 }, 'holdout'],
      ]);
      expect(json<{ number: number }[]>(c.run(['log', '--where', 'metrics.f1 > 0.5', '--json'])).length).toBe(1);
      ok(c.run(['annotate', 'v1', '--metric', 'f1=0.75']));
      ok(c.run(['push']));
      ok(a.run(['fetch']));
      expect(json(a.run(['show', 'v1', '--json'])).annotations).toHaveLength(2);
      // a file on the remote whose bytes are not its id's: a fresh clone refuses it and keeps nothing
      const dir = join(url, 'annotations', readdirSync(join(url, 'annotations'))[0]!);
      const file = join(dir, readdirSync(dir)[0]!);
      writeFileSync(file, readFileSync(file, 'utf8').replace('0.7', '0.9'));
      const bad = expectError(c.run(['clone', url, t.path('d'), '--json']), 'REMOTE_CORRUPT', 7);
      expect(bad.message).toContain('does not match its id');
    } finally {
      t.cleanup();
    }
  });
});
