import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { annotate } from '../../../../src/ops/annotate.js';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { rankVersions } from '../../../../src/repo/history/ranking.js';
import { smallHistory } from '../../../helpers/history.js';

let dir: string;
let repo: Repository;
let ids: string[] = [];

beforeEach(async () => {
  process.env.MVM_AUTHOR = 'Ranking Test <r@example.com>';
  ({ dir, repo, ids } = await smallHistory('mvm-ranking-', 4, {
    message: (n) => `v${n}`,
    text: (n) => `v${n} `.repeat(n),
  }));
});

afterEach(() => {
  delete process.env.MVM_AUTHOR;
  rmSync(dir, { recursive: true, force: true });
});

describe('rankVersions', () => {
  it('names the best without sorting, the same version the sorted ranking puts first, ties to the newer', async () => {
    // step is k for version k; v1 annotated up to v3's value: a tie, which the newer (v3) wins
    await annotate(repo, ids[0]!, { metrics: { loss: 1, step: 3 } });
    const higher = await rankVersions(repo, { metric: 'step' });
    expect(higher.best.id).toBe(ids[3]);
    expect(higher.candidates).toBe(4);
    expect(higher.ranked.map((s) => s.id)).toEqual([ids[3], ids[2], ids[0], ids[1]]);
    const lower = await rankVersions(repo, { metric: 'step', lowerIsBetter: true });
    expect(lower.best.id).toBe(ids[1]);
    expect(lower.ranked[0]!.id).toBe(lower.best.id);
    expect(lower.ranked.map((s) => s.id)).toEqual([ids[1], ids[2], ids[0], ids[3]]);
    // loss is lower-is-better by its name; only v1 has it
    const loss = await rankVersions(repo, { metric: 'loss' });
    expect([loss.best.id, loss.candidates, loss.direction]).toEqual([ids[0], 1, 'lower']);
  });
});
