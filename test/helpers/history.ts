import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../../src/ops/init.js';
import { add } from '../../src/ops/add.js';
import { commit } from '../../src/ops/commit.js';
import { Repository } from '../../src/repo/repository/repository.js';

/**
 * A repository in a new temporary folder (4 KiB chunks) where models/m.bin
 * is committed `count` times through the library, version k on 2026-01-0k
 * with metric step = k; returns it and the version ids, oldest first.
 */
export async function smallHistory(
  prefix: string,
  count: number,
  version: { message: (k: number) => string; text: (k: number) => string },
): Promise<{ dir: string; repo: Repository; ids: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  init({ dir, chunkSize: 4096 });
  const repo = Repository.open(dir);
  mkdirSync(join(dir, 'models'));
  writeFileSync(join(dir, 'models', 'm.bin'), 'v0');
  await add(repo, ['models'], dir);
  const ids: string[] = [];
  for (let k = 1; k <= count; k++) {
    writeFileSync(join(dir, 'models', 'm.bin'), version.text(k));
    ids.push(
      (await commit(repo, { message: version.message(k), metrics: { step: k }, time: `2026-01-0${k}T00:00:00Z` })).id,
    );
  }
  return { dir, repo, ids };
}
