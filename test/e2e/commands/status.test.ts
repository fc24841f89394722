/**
 * `mvm status` and data drift, end to end through the real CLI: a warning
 * when a dataset path recorded by HEAD changed or vanished. Runs against the
 * registry repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, rmSync } from 'node:fs';
import { ok, json, write } from '../../helpers/assertions.js';
import { HEX64, useRegistryRepo } from '../../helpers/registryRepo.js';
import { story, useStory } from '../../helpers/story.js';

const { fx, run, copy } = useRegistryRepo();

describe.concurrent('status and data drift', () => {
  it('says nothing when the recorded dataset is unchanged', async () => {
    const [j, text] = await Promise.all([run(['status', '--json']), run(['status'])]);
    const s = json(j);
    expect(s.head).toBe(fx.ids[4]);
    expect(s.clean).toBe(true);
    expect(s.dataDrift).toEqual([]);
    expect(ok(text).stdout).not.toMatch(/warning/i);
  });

  it('warns when a dataset path recorded by HEAD changed, and when it vanished', async () => {
    const r = copy();
    write(r.path('data/train/a.csv'), 'x,y\n1,2\n3,5\n');
    const text = ok(await r.run(['status'])).stdout;
    const warn = text.split('\n').filter((l) => /^warning: /.test(l));
    expect(warn).toHaveLength(1);
    expect(warn[0]).toContain('data/train');
    expect(warn[0]).toContain(fx.dataB.slice(0, 12));
    const s = json(await r.run(['status', '--json']));
    expect(s.clean).toBe(true); // model files did not change
    expect(s.dataDrift).toHaveLength(1);
    expect(s.dataDrift[0].path).toBe('data/train');
    expect(s.dataDrift[0].recorded).toBe(fx.dataB);
    expect(s.dataDrift[0].current).toMatch(HEX64);
    expect(s.dataDrift[0].current).not.toBe(fx.dataB);
    expect(s.dataDrift[0].current).not.toBe(fx.dataA);

    // restoring the content clears the warning
    write(r.path('data/train/a.csv'), 'x,y\n1,2\n3,4\n');
    expect(json(await r.run(['status', '--json'])).dataDrift).toEqual([]);

    rmSync(r.path('data'), { recursive: true });
    const gone = json(await r.run(['status', '--json']));
    expect(gone.dataDrift).toEqual([{ path: 'data/train', recorded: fx.dataB, current: null }]);
    expect(ok(await r.run(['status'])).stdout).toMatch(/^warning: .*data\/train.*missing/m);
  });
});

describe('status of the user story', () => {
  useStory();

  it('status text keeps the change kind and the path apart for a mode change', () => {
    const s = story();
    chmodSync(s.path('models/convert.sh'), 0o755);
    expect(json(s.run(['status', '--json'])).changes).toEqual([{ path: 'models/convert.sh', status: 'mode' }]);
    const lines = ok(s.run(['status'])).stdout.split('\n');
    // every change line is "  <kind><spaces><path>", as for modified/added/deleted
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}mode changed\s+models\/convert\.sh$/));
  });
});
