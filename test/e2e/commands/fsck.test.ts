// fsck: every object checked by its hash and every ref, damage named with the versions and paths it hurts, and
// --repair setting aside what it cannot mend (fsck --remote in robustness/heal; more damage in robustness/).
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json } from '../../helpers/assertions.js';
import {
  CHUNK,
  chunkIds,
  corruptObject,
  expectSound,
  fsckOf,
  plainBytes,
  repoWith,
} from '../../helpers/reliability.js';

const BYTES = plainBytes(3 * CHUNK + 100, 1);

describe('fsck', () => {
  it('a sound repository: exit 0, the counts in --json, one line of text that ends in ok', () => {
    const { d } = repoWith({ 'w.bin': BYTES });
    try {
      const report = expectSound(d, { noTemp: true });
      // four chunks, the file object and the version
      expect(report).toMatchObject({ objectsChecked: 6, versions: 1, unreachable: 0, removedByGc: 0 });
      const text = mvm(['fsck'], { cwd: d.dir });
      expect(text.exitCode).toBe(0);
      expect(text.stdout).toMatch(/^checked 6 object\(s\), 1 version\(s\), \d+ ref\(s\): ok\n$/);
    } finally {
      d.cleanup();
    }
  });

  it('a flipped byte in a chunk: exit 7 naming the object, the version and the path; --repair sets it aside', () => {
    const { d, v1 } = repoWith({ 'w.bin': BYTES });
    try {
      const bad = chunkIds(BYTES)[1]!;
      corruptObject(d, bad);
      const { exitCode, report } = fsckOf(d);
      expect(exitCode).toBe(7);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        {
          kind: 'corrupt',
          id: bad,
          message: `object ${bad} is corrupt (hash mismatch)`,
          usedBy: [{ version: v1, number: 1, path: 'w.bin' }],
        },
      ]);
      const text = mvm(['fsck'], { cwd: d.dir });
      expect(text.exitCode).toBe(7);
      expect(text.stdout).toContain(
        `corrupt: object ${bad} is corrupt (hash mismatch) (used by v1 ${v1.slice(0, 12)}:w.bin)`,
      );
      expect(text.stdout).toMatch(/: 1 problem\(s\)\n$/);

      const repair = mvm(['fsck', '--repair'], { cwd: d.dir });
      expect(repair.exitCode).toBe(7); // what it cannot bring back is still reported
      expect(repair.stdout).toContain(`repaired: moved corrupt object ${bad} to .mvm/lost/`);
      expect(readdirSync(d.path('.mvm/lost'))).toEqual([bad]);
      const after = fsckOf(d);
      expect(after.exitCode).toBe(7);
      expect(after.report.problems.map((p) => [p.kind, p.id])).toEqual([['missing', bad]]);
    } finally {
      d.cleanup();
    }
  });

  it('--repair with --remote is BAD_ARGUMENT naming push --repair; an unknown remote, no repository: refused', () => {
    const { d } = repoWith({ 'w.bin': BYTES });
    try {
      const both = expectError(
        mvm(['fsck', '--remote', 'origin', '--repair', '--json'], { cwd: d.dir }),
        'BAD_ARGUMENT',
        2,
      );
      expect(both.data.hint).toBe('mvm push origin --repair');
      const unknown = expectError(mvm(['fsck', '--remote', 'origin', '--json'], { cwd: d.dir }), 'UNKNOWN_REMOTE', 4);
      expect(unknown.data.remotes).toEqual([]);
      expect(json(mvm(['fsck', '--json'], { cwd: d.dir })).ok).toBe(true);
    } finally {
      d.cleanup();
    }
    const outside = testdir();
    try {
      expectError(mvm(['fsck', '--json'], { cwd: outside.dir }), 'NOT_A_REPOSITORY', 3);
    } finally {
      outside.cleanup();
    }
  });
});
