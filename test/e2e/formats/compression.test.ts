/** Compression: bf16 weights are stored smaller than their size and than plain zstd -3. */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { compress } from 'zstd-napi';
import { randomBf16, writeSafetensors } from '../../helpers/modelWriters.js';
import { ok } from '../../helpers/assertions.js';
import { CHUNK, cleanups, repo } from '../../helpers/modelRepo.js';

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('compression', () => {
  it.each([
    { label: '4 KiB chunks', chunkSize: CHUNK },
    { label: 'default 1 MiB chunks', chunkSize: null },
  ])(
    'bf16 N(0, 0.02) weights are stored in at most 3/4 of their size and below plain zstd -3 ($label)',
    ({ chunkSize }) => {
      const weights = randomBf16(1536 * 1024, 0.02, 7); // 3 MiB
      const file = writeSafetensors(
        [{ name: 'model.layers.0.mlp.weight', dtype: 'BF16', shape: [1536, 1024], data: weights }],
        { format: 'pt' },
      );
      const zstd3 = compress(file, { compressionLevel: 3 }).length;
      const r = repo({ 'models/model.safetensors': file }, chunkSize);
      const c = r.commit('v1');
      expect(c.newBytes).toBe(file.length);
      const onDisk = r.objectBytesOnDisk();
      expect(onDisk).toBeGreaterThanOrEqual(c.storedBytes);
      expect(onDisk / file.length, `stored ${onDisk} of ${file.length}; plain zstd -3: ${zstd3}`).toBeLessThanOrEqual(
        0.75,
      );
      expect(onDisk).toBeLessThan(zstd3);
      rmSync(r.path('models/model.safetensors'));
      ok(r.run(['checkout', '--force', 'v1']));
      expect(r.read('models/model.safetensors').equals(file)).toBe(true);
    },
  );
});
