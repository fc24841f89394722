/**
 * `mvm compare`, end to end through the real CLI: metric deltas and
 * verdicts against the first column, directions (inferred or declared),
 * sizes and shared chunks, data and base. Runs against the registry
 * repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { ALICE, BOB, CAROL, CONFIG, FAIL_MARKER, MODEL_SIZE, useRegistryRepo } from '../../helpers/registryRepo.js';

const { fx, run } = useRegistryRepo();

describe.concurrent('compare', () => {
  it('columns in order, deltas against the first, inferred directions', async () => {
    const c = json(await run(['compare', 'v1', 'v3', 'v5', '--json']));
    expect(c.columns.map((x: any) => x.id)).toEqual([fx.ids[1], fx.ids[3], fx.ids[5]]);
    expect(c.columns.map((x: any) => x.number)).toEqual([1, 3, 5]);
    expect(c.columns.map((x: any) => x.message)).toEqual([
      'baseline',
      'fine-tune of baseline on cifar',
      'exp: distilled',
    ]);
    expect(c.columns.map((x: any) => x.author)).toEqual([ALICE, BOB, CAROL]);
    expect(c.columns[1].params).toEqual({ lr: 1e-4, opt: 'adam' });
    expect(c.columns[2].meta).toEqual({ dataset: 'cifar-10' });
    expect(c.metricNames).toEqual(['accuracy', 'custom', 'latency_ms', 'loss']);
    expect(c.directions).toEqual({ accuracy: 'higher', custom: null, latency_ms: 'lower', loss: 'lower' });

    const [first, v3, v5] = c.columns;
    for (const m of c.metricNames) expect(first.metrics[m]).toMatchObject({ delta: null, verdict: null });
    expect(first.metrics.accuracy.value).toBe(0.8);
    expect(v3.metrics.accuracy.value).toBe(0.91);
    expect(v3.metrics.accuracy.delta).toBeCloseTo(0.11, 10);
    expect(v3.metrics.accuracy.verdict).toBe('better');
    expect(v5.metrics.accuracy.delta).toBeCloseTo(-0.02, 10);
    expect(v5.metrics.accuracy.verdict).toBe('worse');
    // loss: lower is better
    expect(v3.metrics.loss.delta).toBeCloseTo(-0.4, 10);
    expect(v3.metrics.loss.verdict).toBe('better');
    expect(v5.metrics.loss.delta).toBeCloseTo(0.05, 10);
    expect(v5.metrics.loss.verdict).toBe('worse');
    // latency_ms: inferred lower
    expect(v3.metrics.latency_ms).toEqual({ value: 20, delta: 10, verdict: 'worse' });
    expect(v5.metrics.latency_ms).toEqual({ value: 8, delta: -2, verdict: 'better' });
    // custom: no direction, so a delta but no verdict
    expect(v3.metrics.custom).toEqual({ value: 4, delta: -1, verdict: null });
    expect(v5.metrics.custom).toEqual({ value: 9, delta: 4, verdict: null });
  });

  it('--higher-is-better / --lower-is-better declare or override directions', async () => {
    const [a, b] = await Promise.all([
      run(['compare', 'v1', 'v3', 'v5', '--lower-is-better', 'latency_ms', '--higher-is-better', 'custom', '--json']),
      run([
        'compare',
        'v1',
        'v3',
        'v5',
        '--lower-is-better',
        'custom,accuracy',
        '--higher-is-better',
        'latency_ms',
        '--json',
      ]),
    ]);
    const c = json(a);
    expect(c.directions.custom).toBe('higher');
    expect(c.directions.latency_ms).toBe('lower');
    expect(c.columns[1].metrics.custom.verdict).toBe('worse');
    expect(c.columns[2].metrics.custom.verdict).toBe('better');
    expect(c.columns[2].metrics.latency_ms.verdict).toBe('better');
    const flipped = json(b);
    expect(flipped.directions).toMatchObject({
      custom: 'lower',
      accuracy: 'lower',
      latency_ms: 'higher',
      loss: 'lower',
    });
    expect(flipped.columns[1].metrics.custom.verdict).toBe('better');
    expect(flipped.columns[2].metrics.custom.verdict).toBe('worse');
    expect(flipped.columns[1].metrics.accuracy.verdict).toBe('worse');
    expect(flipped.columns[1].metrics.latency_ms.verdict).toBe('better');
    expect(flipped.columns[2].metrics.latency_ms.verdict).toBe('worse');
  });

  it('a metric missing on either side has no delta; equal values are "same"', async () => {
    const [a, b] = await Promise.all([
      run(['compare', 'v2', 'v3', 'v4', '--json']),
      run(['compare', 'v3', 'v3', '--json']),
    ]);
    const c = json(a);
    expect(c.metricNames).toEqual(['accuracy', 'custom', 'eval.f1', 'eval.precision', 'latency_ms', 'loss']);
    expect(c.columns[1].metrics['eval.f1']).toEqual({ value: null, delta: null, verdict: null });
    expect(c.columns[1].metrics.custom).toEqual({ value: 4, delta: null, verdict: null }); // v2 has no custom
    expect(json(b).columns[1].metrics.accuracy).toEqual({ value: 0.91, delta: 0, verdict: 'same' });
  });

  it('sizes, chunks shared with the first column, data and base', async () => {
    const [a, b] = await Promise.all([
      run(['compare', 'v1', 'v3', 'v5', '--json']),
      run(['compare', 'v4', 'v4', '--json']),
    ]);
    const c = json(a);
    const [v1, v3, v5] = c.columns;
    expect(v1.logicalBytes).toBe(MODEL_SIZE[1]! + CONFIG.length);
    expect(v3.logicalBytes).toBe(MODEL_SIZE[3]! + CONFIG.length);
    expect(v5.logicalBytes).toBe(MODEL_SIZE[5]! + CONFIG.length + FAIL_MARKER.length);
    // fixed 4 KiB chunks: v1 = 4 model chunks + config; v3 has a changed chunk 2 and a 1500-byte tail;
    // v5 = model chunks 0, 1, changed 2 + FAIL + config
    expect(v1.chunks).toBe(5);
    expect(v1.sharedWithFirst).toBe(v1.chunks);
    expect(v3.chunks).toBe(6);
    expect(v3.sharedWithFirst).toBe(4);
    expect(v5.chunks).toBe(5);
    expect(v5.sharedWithFirst).toBe(3);
    for (const col of c.columns) {
      expect(col.storedBytes).toBeGreaterThan(0);
      // random bytes do not compress; little overhead
      expect(col.storedBytes).toBeLessThanOrEqual(col.logicalBytes + 64 * col.chunks);
    }
    expect(v1.data).toEqual([{ path: 'data/train', id: fx.dataA }]);
    expect(v3.data).toEqual([{ name: 'imagenet', id: 'sha256:abc' }]);
    expect(v5.data).toEqual([{ path: 'data/train', id: fx.dataB }]);
    expect([v1.base, v1.baseNumber]).toEqual([null, null]);
    expect([v3.base, v3.baseNumber]).toEqual([fx.ids[1], 1]);
    expect([v5.base, v5.baseNumber]).toEqual([fx.ids[3], 3]);

    // a version compared with itself shares every chunk
    const self = json(b);
    expect(self.columns[0].chunks).toBeGreaterThan(0);
    expect(self.columns[1].sharedWithFirst).toBe(self.columns[1].chunks);
    expect(self.columns[1].storedBytes).toBe(self.columns[0].storedBytes);
  });

  it('text output has a row per metric, param and meta key, sizes, data and base', async () => {
    const out = ok(await run(['compare', 'v1', 'v3', 'v5'])).stdout;
    const lines = out.split('\n');
    const row = (label: string) => lines.find((l) => l.startsWith(label));
    expect(lines[0]).toMatch(/v1 [0-9a-f]{12}.*v3 [0-9a-f]{12}.*v5 [0-9a-f]{12}/);
    expect(row('accuracy (higher is better)')).toMatch(/0\.8 .*0\.91 \(\+0\.11 better\).*0\.78 \(-0\.02 worse\)/);
    expect(row('loss (lower is better)')).toMatch(/0\.9 .*0\.5 \(-0\.4 better\).*0\.95 \(\+0\.05 worse\)/);
    expect(row('latency_ms (lower is better)')).toMatch(/10 .*20 \(\+10 worse\).*8 \(-2 better\)/);
    expect(row('custom ')).toMatch(/5 .*4 \(-1\).*9 \(\+4\)/);
    expect(row('params.lr')).toMatch(/0\.001 .*0\.0001 .*0\.0005/);
    expect(row('meta.dataset')).toMatch(/imagenet-2024 .*cifar-10 .*cifar-10/);
    expect(row('size')).toMatch(/KiB.*KiB.*KiB/);
    expect(row('chunks shared with v1')).toMatch(/5\/5 .*4\/6 .*3\/5/);
    expect(row('data')).toContain('imagenet@sha256:a');
    expect(row('base')).toMatch(/^base\s+-\s+v1 [0-9a-f]{12}\s+v3 [0-9a-f]{12}$/);
  });

  it('an unknown revision is UNKNOWN_REVISION', async () => {
    expectError(await run(['compare', 'v1', 'v42', '--json']), 'UNKNOWN_REVISION', 4);
  });
});
