/**
 * download() of a delta whose base is not here: the base is fetched for it, and the delta is checked through it and
 * stored; with no memory to keep waiting deltas in, the delta is downloaded again once its base is here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mvm, testdir } from '../../../helpers/cli.js';
import { ok, write } from '../../../helpers/assertions.js';
import { deltaModel } from '../../../helpers/deltaModels.js';
import { Repository, withPool } from '../../../../src/repo/repository/index.js';
import { findRemote, syncRemoteIndex, withRemote } from '../../../../src/repo/transfer/index.js';
import { download } from '../../../../src/repo/transfer/download.js';
import { decodedSize, deltaOf } from '../../../../src/storage/codec.js';
import { storedBytes } from '../../../helpers/storedObjects.js';

let t: ReturnType<typeof testdir>;
let delta = '';
let base = '';
let size = 0;

beforeAll(() => {
  t = testdir();
  const a = t.path('a');
  const m = deltaModel(3);
  write(join(a, 'model.safetensors'), m.v1);
  ok(mvm(['init'], { cwd: a }));
  ok(mvm(['add', 'model.safetensors'], { cwd: a }));
  ok(mvm(['commit', '-m', 'v1'], { cwd: a }));
  write(join(a, 'model.safetensors'), m.v2);
  ok(mvm(['commit', '-m', 'v2'], { cwd: a }));
  ok(mvm(['remote', 'add', 'origin', t.path('remote')], { cwd: a }));
  ok(mvm(['push'], { cwd: a }));
  const repo = Repository.open(a);
  delta = [...repo.objects.list()].find((id) => repo.objects.deltaBase(id))!;
  base = repo.objects.deltaBase(delta)!;
  size = decodedSize(storedBytes(join(a, '.mvm', 'objects'), delta));
}, 120_000);
afterAll(() => t?.cleanup());

/** Downloads the delta alone into a fresh store, with `pendingBytes` of memory for waiting deltas. */
async function fetchDelta(name: string, pendingBytes?: number): Promise<{ repo: Repository; bytes: number }> {
  const dir = t.path(name);
  write(join(dir, 'keep.txt'), 'x');
  ok(mvm(['init'], { cwd: dir }));
  ok(mvm(['remote', 'add', 'origin', t.path('remote')], { cwd: dir }));
  const repo = Repository.open(dir);
  const bytes = await withRemote(repo, findRemote(repo), false, async (s) => {
    const index = await syncRemoteIndex(repo, 'origin', s.backend, 2);
    const sizes = new Map([[delta, size]]);
    return withPool((pool) =>
      download(s, index, [delta], 2, { repo, pool, staged: null, storePlaced: true }, undefined, sizes, pendingBytes),
    );
  });
  return { repo, bytes };
}

describe('download of a delta whose base is not here', () => {
  it('fetches the base for it, then checks and stores the delta as a delta', async () => {
    const { repo, bytes } = await fetchDelta('kept');
    expect(repo.objects.has(base)).toBe(true);
    expect(repo.objects.deltaOf(delta)).toEqual({ base, depth: 1 });
    expect(repo.objects.get(delta).length).toBe(size);
    const once = bytes;
    const again = await fetchDelta('dropped', 0);
    // the delta's bytes were not kept: downloaded a second time once its base was here
    expect(again.repo.objects.deltaOf(delta)).toEqual({ base, depth: 1 });
    expect(again.bytes).toBe(once + repo.objects.storedSize(delta));
    expect(deltaOf(storedBytes(join(t.path('dropped'), '.mvm', 'objects'), delta))?.base).toBe(base);
  });
});
