/**
 * Deltas travel: a fine-tune committed as deltas is pushed as those deltas
 * (bytes moved at most 1.1x what commit stored), pulled and cloned as deltas
 * through a folder remote and s3rver, restored bit for bit, kept by gc with
 * their bases, verified by fsck here and by fsck --remote there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { BACKENDS, clone, startRemoteS3, stopRemoteS3, workspace, type Backend } from '../../helpers/remotes.js';
import { deltaModel, storedEncodings } from '../../helpers/deltaModels.js';

beforeAll(startRemoteS3, 60_000);
afterAll(stopRemoteS3);

/** `mvm clone --full` of `url` into t/name. */
function fullClone(b: Backend, t: ReturnType<typeof testdir>, url: string, name: string) {
  ok(mvm(['clone', url, name, '--full', ...b.addArgs()], { cwd: t.dir, env: b.env() }));
  return workspace(b, t, name);
}

describe.each(BACKENDS)('a fine-tune travels as deltas ($name)', (b) => {
  it('push and pull move at most 1.1x what commit stored; clones restore both versions bit for bit', () => {
    const t = testdir();
    try {
      const url = b.url(t, 'deltas');
      const m = deltaModel(7);
      const a = workspace(b, t, 'a');
      write(a.path('model.safetensors'), m.v1);
      ok(a.run(['init']));
      ok(a.run(['add', 'model.safetensors']));
      ok(a.run(['commit', '-m', 'v1']));
      ok(a.run(['remote', 'add', 'origin', url, ...b.addArgs()]));
      ok(a.run(['push']));
      const full = fullClone(b, t, url, 'full');
      const partial = clone(b, t, url, 'partial');

      // a 10% fine-tune of one tensor in ten
      write(a.path('model.safetensors'), m.v2);
      const c = json(a.run(['commit', '-m', 'v2: fine-tune', '--json']));
      expect(c.storedBytes).toBeGreaterThan(0);
      expect(c.storedBytes).toBeLessThan(0.6 * m.changedBytes);
      const p = json(a.run(['push', '--json']));
      expect(p.bytes / c.storedBytes).toBeLessThanOrEqual(1.1);

      // the full clone pulls the deltas themselves and keeps them as deltas
      const before = storedEncodings(full.dir).delta;
      const pulled = json(full.run(['pull', '--json']));
      expect(pulled.fetched.bytes / c.storedBytes).toBeLessThanOrEqual(1.1);
      expect(readFileSync(full.path('model.safetensors')).equals(m.v2)).toBe(true);
      expect(storedEncodings(full.dir).delta).toBeGreaterThan(before);
      expect(json(full.run(['fsck', '--json'])).ok).toBe(true);

      // the partial clone pulls the deltas too: their bases are the chunks its workspace files hold
      const pulledPartial = json(partial.run(['pull', '--json']));
      expect(pulledPartial.fetched.bytes / c.storedBytes).toBeLessThanOrEqual(1.1);
      expect(readFileSync(partial.path('model.safetensors')).equals(m.v2)).toBe(true);
      ok(partial.run(['checkout', 'v1']));
      expect(readFileSync(partial.path('model.safetensors')).equals(m.v1)).toBe(true);
      expect(json(partial.run(['fsck', '--json'])).ok).toBe(true);

      // a fresh full clone of both versions stores the deltas with their bases; gc keeps the bases
      const fresh = fullClone(b, t, url, 'fresh');
      expect(storedEncodings(fresh.dir)).toMatchObject({ delta: m.deltaChunks, maxDepth: 1 });
      expect(readFileSync(fresh.path('model.safetensors')).equals(m.v2)).toBe(true);
      ok(fresh.run(['gc', '--grace', '0']));
      expect(json(fresh.run(['fsck', '--json'])).ok).toBe(true);
      ok(fresh.run(['checkout', 'v1']));
      expect(readFileSync(fresh.path('model.safetensors')).equals(m.v1)).toBe(true);
      ok(fresh.run(['checkout', 'main']));
      expect(readFileSync(fresh.path('model.safetensors')).equals(m.v2)).toBe(true);

      // the remote holds the deltas, and its check decodes each through its base
      const remote = json(a.run(['fsck', '--remote', 'origin', '--json']));
      expect(remote.ok).toBe(true);
      const fromFresh = json(fresh.run(['fsck', '--remote', 'origin', '--json']));
      expect(fromFresh.ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
