/** Delta bases taken from the workspace files of HEAD's version (receiveDeltas.ts basesFromWorkspace). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { add, commit, init, openRepository } from '../../../../src/index.js';
import { basesFromWorkspace } from '../../../../src/repo/transfer/receiveDeltas.js';
import { seededBytes } from '../../../helpers/data.js';
import { removeAllStored, removeStored } from '../../../helpers/storedObjects.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-bases-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('basesFromWorkspace', () => {
  it("stores the chunks HEAD's files still hold when asked for them, and only those", async () => {
    init({ dir, chunkSize: 64 << 10 });
    writeFileSync(join(dir, 'w.bin'), seededBytes(200 << 10, 4));
    const repo = openRepository(dir);
    const objects = join(dir, '.mvm', 'objects');
    await add(repo, ['w.bin'], dir);
    await commit(repo, { message: 'v1' });
    const chunks = repo.file(repo.version(repo.headId()!).files['w.bin']!.file).chunks;
    expect(chunks.length).toBeGreaterThan(2);
    // as a partial store: the chunks live in the file only
    removeAllStored(
      objects,
      chunks.map((c) => c.id),
    );
    const need = new Map(chunks.slice(0, 2).map((c) => [c.id, c.size]));
    need.set('ab'.repeat(32), 100);
    expect(basesFromWorkspace(repo, need)).toBe(2);
    expect(chunks.map((c) => repo.objects.has(c.id))).toEqual(chunks.map((_, i) => i < 2));
    expect(repo.objects.get(chunks[1]!.id).length).toBe(chunks[1]!.size);
    // a file changed behind mvm's back gives nothing that does not hash to what is asked
    writeFileSync(join(dir, 'w.bin'), seededBytes(200 << 10, 5));
    removeStored(objects, chunks[0]!.id);
    expect(basesFromWorkspace(repo, new Map([[chunks[0]!.id, chunks[0]!.size]]))).toBe(0);
    expect(repo.objects.has(chunks[0]!.id)).toBe(false);
  });
});
