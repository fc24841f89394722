// Names never lie: three clones commit, fetch, push and pull in random order through a folder remote and s3rver.
// After every step no number a clone has shown names another version there, and two clones never give one number
// to two versions; once everyone has pulled and pushed, every version anyone made is numbered exactly once, with
// its metric, and every clone agrees on every number.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { BACKENDS, clone, makeOrigin, startRemoteS3, stopRemoteS3 } from '../../helpers/remotes.js';

beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

type Op = { who: number; what: 'commit' | 'fetch' | 'push' | 'pull' };
type Clone = ReturnType<typeof clone>;
type Entry = { id: string; number: number | null; metrics: Record<string, number> };

const opArb = fc.record({
  who: fc.integer({ min: 0, max: 2 }),
  what: fc.constantFrom<Op['what']>('commit', 'commit', 'fetch', 'push', 'pull'),
});

/** Every version a clone's log shows (all refs), and its numbers checked against what it showed before. */
function look(c: Clone, shown: Map<number, string>): Entry[] {
  const log = json<Entry[]>(c.run(['log', '--all', '--json']));
  const seenIds = new Set<string>();
  for (const e of log) {
    if (e.number === null) continue;
    // a number once shown names the same version for good, and a version has one number
    expect(shown.get(e.number) ?? e.id, `v${e.number} changed its version in ${c.dir}`).toBe(e.id);
    expect(seenIds.has(e.id)).toBe(false);
    seenIds.add(e.id);
    shown.set(e.number, e.id);
  }
  return log;
}

describe.each(BACKENDS)('version numbers in a team of three on $name', (b) => {
  it('never name two versions, and converge with every retrain numbered once, metrics intact', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 6, maxLength: b.name === 'folder' ? 12 : 8 }), async (ops) => {
        const t = testdir();
        try {
          const url = b.url(t, `team${++run}`);
          const a = makeOrigin(b, t, url);
          ok(a.run(['push']));
          const team = [a, clone(b, t, url, 'c'), clone(b, t, url, 'd')];
          const shown = team.map(() => new Map<number, string>());
          const made: number[] = [];
          let step = 0;
          const act = (who: number, what: Op['what']) => {
            const c = team[who]!;
            if (what === 'commit') {
              step++;
              write(c.path('models/small.txt'), `clone ${who} step ${step}\n`);
              ok(c.run(['commit', '-m', `step ${step}`, '--metric', `step=${step}`]));
              made.push(step);
            } else {
              const r = c.run([what]);
              // a push someone else got in before is refused; nothing else may fail
              if (r.exitCode !== 0) expect([what, r.exitCode, r.stderr]).toEqual(['push', 5, expect.any(String)]);
            }
          };
          for (const op of ops) {
            act(op.who, op.what);
            const views = team.map((c, i) => look(c, shown[i]!));
            // across clones: one number, one version
            const byNumber = new Map<number, string>();
            for (const v of views)
              for (const e of v) if (e.number !== null) expect(byNumber.get(e.number) ?? e.id).toBe(e.id);
            for (const v of views) for (const e of v) if (e.number !== null) byNumber.set(e.number, e.id);
          }
          // everyone pulls (replaying their own) and pushes, in turn, then pulls what the others pushed
          for (const who of [0, 1, 2]) for (const what of ['pull', 'push'] as const) act(who, what);
          for (const who of [0, 1, 2]) act(who, 'pull');
          const views = team.map((c, i) => look(c, shown[i]!));
          const numbered = (v: Entry[]) =>
            v
              .filter((e) => e.number !== null)
              .map((e) => [e.number, e.id, e.metrics.step ?? null])
              .sort((x, y) => (x[0] as number) - (y[0] as number));
          expect(numbered(views[1]!)).toEqual(numbered(views[0]!));
          expect(numbered(views[2]!)).toEqual(numbered(views[0]!));
          // every retrain survives, numbered once, with the metric it was committed with
          const steps = numbered(views[0]!)
            .map((e) => e[2])
            .filter((s) => s !== null);
          expect(steps.sort((x, y) => (x as number) - (y as number))).toEqual(made);
          for (const c of team) {
            expect(views.every((v) => v.every((e) => e.number !== null))).toBe(true);
            expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
          }
        } finally {
          t.cleanup();
        }
      }),
      { numRuns: 1 },
    );
  });
});
