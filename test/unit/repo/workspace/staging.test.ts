import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRepository } from '../../../../src/repo/repository/create.js';
import { Repository } from '../../../../src/repo/repository/repository.js';
import { StagedFiles } from '../../../../src/repo/workspace/staging.js';
import { assembleFile } from '../../../../src/repo/workspace/fileio.js';
import { withPool } from '../../../../src/repo/repository/session.js';
import { OBJECT_FORMAT, type FileObject } from '../../../../src/core/objects.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-staging-'));
  createRepository({ dir });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('StagedFiles', () => {
  it(
    'a chunk written at its places while it downloads is not restored again; the others come from the ' + 'store',
    async () => {
      const repo = Repository.open(dir);
      const a = randomBytes(1000);
      const b = randomBytes(500);
      const ida = repo.objects.put(a);
      const idb = repo.objects.put(b);
      // a occurs twice (tied weights), b once
      const file: FileObject = {
        type: 'file',
        format: OBJECT_FORMAT,
        size: 2500,
        chunkSize: 1 << 20,
        chunks: [
          { id: ida, size: 1000 },
          { id: idb, size: 500 },
          { id: ida, size: 1000 },
        ],
      };
      const staged = StagedFiles.create(repo, { 'm/x.bin': { file: 'f1', mode: 0o644, size: 2500 } }, () => file);
      const places = staged.placesOf(ida)!;
      expect(places.filter((_, i) => i % 2 === 1)).toEqual([0, 1500]);
      expect(staged.placesOf('nope')).toBeUndefined();
      for (let i = 0; i < places.length; i += 2) writeSync(places[i]!, a, 0, a.length, places[i + 1]!);
      staged.filled(ida);
      staged.close();
      // without the staged bytes a restore would now fail: chunk a is gone from the store
      expect(repo.objects.remove(ida)).toBeGreaterThan(0);
      expect(staged.take('m/x.bin', 'other-file-object')).toBeNull();
      const st = staged.take('m/x.bin', 'f1')!;
      expect(st.filled).toEqual(new Set([0, 1500]));
      const tmp = await withPool((pool) => assembleFile(repo, pool, file, 0o644, { staged: st }));
      expect(tmp).toBe(st.tmp);
      expect(readFileSync(tmp).equals(Buffer.concat([a, b, a]))).toBe(true);
      // taken once only
      expect(staged.take('m/x.bin', 'f1')).toBeNull();
      rmSync(tmp);
    },
  );

  it('discard closes and removes every file nobody took', () => {
    const repo = Repository.open(dir);
    const file: FileObject = {
      type: 'file',
      format: OBJECT_FORMAT,
      size: 10,
      chunkSize: 1 << 20,
      chunks: [{ id: 'c'.repeat(64), size: 10 }],
    };
    const staged = StagedFiles.create(
      repo,
      { a: { file: 'f', mode: 0o644, size: 10 }, b: { file: 'g', mode: 0o644, size: 10 } },
      () => file,
    );
    expect(readdirSync(repo.tmpDir)).toHaveLength(2);
    staged.discard();
    expect(readdirSync(repo.tmpDir)).toEqual([]);
    expect(existsSync(repo.tmpDir)).toBe(true);
  });
});
