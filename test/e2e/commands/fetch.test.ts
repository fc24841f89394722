// fetch: a remote's branches as REMOTE/BRANCH, its tags and the versions they reach, with the workspace untouched
// (fetch --full of a partial store in commands/clone-partial; rewound branches in commands/push).
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { BACKENDS, makeOrigin, workspace } from '../../helpers/remotes.js';

const folder = BACKENDS[0]!;

/** An origin with v1 and v2 on main and tag rel1 at v2, all pushed, and an empty repository 'b' that names it. */
function originAndEmpty(t: ReturnType<typeof testdir>) {
  const url = t.path('remote');
  const a = makeOrigin(folder, t, url);
  const v1 = json(a.run(['show', '--json'])).id as string;
  write(a.path('models/small.txt'), 'config v2\n');
  const v2 = json(a.run(['commit', '-m', 'v2', '--json'])).id as string;
  ok(a.run(['tag', 'rel1']));
  ok(a.run(['push', '--all']));
  const b = workspace(folder, t, 'b');
  mkdirSync(b.dir);
  ok(b.run(['init']));
  ok(b.run(['remote', 'add', 'origin', url]));
  return { url, a, b, v1, v2 };
}

describe('fetch', () => {
  it('brings origin/main, the tags and the objects they reach; HEAD and the workspace stay; again, nothing', () => {
    const t = testdir();
    try {
      const { url, a, b, v1, v2 } = originAndEmpty(t);
      const f = json(b.run(['fetch', '--json']));
      expect(f).toMatchObject({ remote: 'origin', url, rewound: [], tagConflicts: [] });
      expect(f.refs.map((r: { ref: string; id: string }) => [r.ref, r.id]).sort()).toEqual([
        ['refs/heads/main', v2],
        ['refs/tags/rel1', v2],
      ]);
      expect(f.objects).toBeGreaterThan(0);
      expect(f.bytes).toBeGreaterThan(900_000);
      // nothing checked out: no version here, no model in the workspace
      expect(json(b.run(['status', '--json']))).toMatchObject({ branch: 'main', head: null, tracked: [] });
      expect(existsSync(b.path('models'))).toBe(false);
      expect(json<{ id: string }[]>(b.run(['log', 'origin/main', '--json'])).map((e) => e.id)).toEqual([v2, v1]);
      expect(json(b.run(['show', 'rel1', '--json'])).id).toBe(v2);
      // every object came: the store is sound and checks out without asking again
      expect(json(b.run(['fsck', '--json']))).toMatchObject({ ok: true, versions: 2, onRemote: 0 });
      ok(b.run(['checkout', 'origin/main']));
      expect(readFileSync(b.path('models/big.bin')).equals(readFileSync(a.path('models/big.bin')))).toBe(true);

      expect(json(b.run(['fetch', '--json']))).toMatchObject({ objects: 0, bytes: 0 });
      expect(ok(b.run(['fetch'])).stdout).toMatch(
        /^fetched 0 object\(s\), 0 B, \d+ request\(s\) from origin; 2 ref\(s\)\n$/,
      );
    } finally {
      t.cleanup();
    }
  });

  it('a tag that differs on the remote: the local one is kept, with a warning; an unknown remote is refused', () => {
    const t = testdir();
    try {
      const { b, v1, v2 } = originAndEmpty(t);
      ok(b.run(['fetch']));
      ok(b.run(['tag', 'rel1', 'v1', '-f']));
      const f = json(b.run(['fetch', '--json']));
      expect(f.tagConflicts).toEqual(['rel1']);
      expect(ok(b.run(['fetch'])).stdout).toMatch(/^warning: tag rel1 differs on origin; the local one is kept\n/);
      expect(json(b.run(['show', 'rel1', '--json'])).id).toBe(v1);
      expect(json(b.run(['show', 'origin/main', '--json'])).id).toBe(v2);

      const unknown = expectError(b.run(['fetch', 'backup', '--json']), 'UNKNOWN_REMOTE', 4);
      expect(unknown.data.remotes).toEqual(['origin']);
    } finally {
      t.cleanup();
    }
  });
});
