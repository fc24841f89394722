/**
 * What `mvm commit` records, end to end through the real CLI: typed params
 * (--param), meta (--meta), metrics (--metric, --metrics-file), author, date,
 * the base model (--base) and datasets (--data), as `show` reports them; and
 * the malformed values it refuses before writing anything. Runs against the
 * registry repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../helpers/cli.js';
import { ok, json, expectError, write } from '../../helpers/assertions.js';
import { ALICE, CHUNK, DEFAULT_AUTHOR, HEX64, snapshot, useRegistryRepo } from '../../helpers/registryRepo.js';

const { fx, run, copy } = useRegistryRepo();

describe.concurrent('commit records', () => {
  it('params typed (numbers vs strings), meta, metrics, author and date', () => {
    const s = fx.shows[1];
    expect(s.id).toBe(fx.ids[1]);
    expect(s.number).toBe(1);
    expect(s.version.params).toEqual({ lr: 0.001, opt: 'sgd', epochs: 10 });
    expect(typeof s.version.params.lr).toBe('number');
    expect(s.version.meta).toEqual({ dataset: 'imagenet-2024', gpu: 'a100' });
    expect(s.version.metrics).toEqual({ accuracy: 0.8, loss: 0.9, custom: 5, latency_ms: 10 });
    expect(s.metrics).toEqual(s.version.metrics);
    expect(s.version.author).toBe(ALICE);
    expect(s.version.time).toBe('2026-01-10T10:00:00.000Z');
    expect(s.version.deps.base).toBeUndefined();
    expect(s.annotations).toEqual([]);

    const s2 = fx.shows[2];
    expect(s2.version.params).toEqual({ lr: 3e-4, opt: 'adam' });
    expect(s2.version.params.lr).toBe(0.0003);
    expect(typeof s2.version.params.opt).toBe('string');
    // the helper's MVM_AUTHOR is the default author
    expect(s2.version.author).toBe(DEFAULT_AUTHOR);
    expect(s2.version.parents).toEqual([fx.ids[1]]);
    expect(fx.shows[6].version.params).toEqual({});
    expect(fx.shows[6].version.meta).toEqual({});
  });

  it('--metrics-file flattens nested keys as eval.f1, alongside --metric', () => {
    expect(fx.shows[2].version.metrics).toEqual({
      accuracy: 0.85,
      loss: 0.7,
      'eval.f1': 0.6,
      'eval.precision': 0.7,
      latency_ms: 12,
    });
    expect(fx.shows[6].version.metrics).toEqual({ accuracy: 0.77, 'eval.f1': 0.75, latency_ms: 5 });
  });

  it('--base REV (vN or an abbreviated hash) is recorded as deps.base with the full id', () => {
    expect(fx.shows[3].version.deps.base).toBe(fx.ids[1]);
    expect(fx.shows[4].version.deps.base).toBe(fx.ids[3]);
    expect(fx.shows[5].version.deps.base).toBe(fx.ids[3]);
    expect(fx.shows[6].version.deps.base).toBe(fx.ids[5]);
    expect(fx.shows[2].version.deps.base).toBeUndefined();
  });

  it('--data PATH hashes the folder in place ({path, id}); the id follows the content', () => {
    const d1 = fx.shows[1].version.deps.data;
    expect(d1).toEqual([{ path: 'data/train', id: fx.dataA }]);
    expect(fx.dataA).toMatch(HEX64);
    expect(fx.shows[2].version.deps.data).toEqual(d1); // same content, same id
    expect(fx.shows[4].version.deps.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect(fx.shows[5].version.deps.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect(fx.dataB).toMatch(HEX64);
    expect(fx.dataB).not.toBe(fx.dataA); // a file was added in between
    expect(fx.shows[6].version.deps.data).toBeUndefined();
    // the dataset is not stored as part of the model
    expect(Object.keys(fx.shows[4].version.files).sort()).toEqual(['models/config.json', 'models/model.bin']);
  });

  it('--data name=ID is recorded as given', () => {
    expect(fx.shows[3].version.deps.data).toEqual([{ name: 'imagenet', id: 'sha256:abc' }]);
  });

  it('the text form of show lists base, data and metrics', async () => {
    const out = ok(await run(['show', 'v3'])).stdout;
    expect(out).toContain(`Base:    ${fx.ids[1]!.slice(0, 12)}`);
    expect(out).toContain('Data:    imagenet sha256:abc');
    expect(out).toMatch(/^Metrics: accuracy=0\.91 custom=4 latency_ms=20 loss=0\.5$/m);
    expect(out).toMatch(/^Params: {2}lr=0\.0001 opt=adam$/m);
  });

  it('malformed values and an unknown --base are refused before anything is written', async () => {
    const r = copy();
    write(r.path('models/model.bin'), randomBytes(CHUNK * 2, 99)); // a change, so a commit would make a version
    write(r.path('bad.json'), '{"accuracy": 0.9,');
    write(r.path('str.json'), JSON.stringify({ accuracy: 'high' }));
    write(r.path('nested-str.json'), JSON.stringify({ eval: { f1: 'n/a' } }));
    const before = snapshot(r.path('.mvm'), ['index', 'summaries']);
    const logBefore = json(await r.run(['log', '--all', '--json']));

    expectError(await r.run(['commit', '-m', 'x', '--base', 'v99', '--json']), 'UNKNOWN_REVISION', 4);
    const e1 = expectError(await r.run(['commit', '-m', 'x', '--metric', 'acc=high', '--json']), 'BAD_VALUE', 2);
    expect(e1.data.key).toBe('acc');
    expectError(await r.run(['commit', '-m', 'x', '--metrics-file', 'bad.json', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--metrics-file', 'str.json', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--metrics-file', 'nested-str.json', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--param', '=x', '--json']), 'BAD_VALUE', 2);
    expectError(await r.run(['commit', '-m', 'x', '--data', 'imagenet=', '--json']), 'BAD_VALUE', 2);
    // a valid flag next to a bad one does not get half-recorded
    expectError(
      await r.run(['commit', '-m', 'x', '--metric', 'accuracy=0.99', '--metric', 'loss=nan', '--json']),
      'BAD_VALUE',
      2,
    );

    expect(snapshot(r.path('.mvm'), ['index', 'summaries'])).toEqual(before);
    expect(json(await r.run(['log', '--all', '--json']))).toEqual(logBefore);
    expect(json(await r.run(['status', '--json'])).head).toBe(fx.ids[4]);
    // and the next good commit is v7: no number was used up
    const c = json(await r.run(['commit', '-m', 'good', '--metric', 'accuracy=0.5', '--json']));
    expect(c.number).toBe(7);
  });
});
