import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, mvmAsync, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { removeStored, storedIds, touchStored } from '../../helpers/storedObjects.js';

/** Every object id in a workspace's store, loose or packed. */
function objects(dir: string): Set<string> {
  return storedIds(join(dir, '.mvm', 'objects'));
}

/** Makes every object (its loose file or its pack) look `days` old, so the grace period does not protect it. */
function age(dir: string, days: number): void {
  touchStored(join(dir, '.mvm', 'objects'), Date.now() / 1000 - days * 86_400);
}

function repoWithBranch() {
  const t = testdir();
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  const base = randomBytes(3 << 20, 5);
  write(t.path('model.bin'), base);
  ok(run(['init']));
  ok(run(['add', 'model.bin']));
  ok(run(['commit', '-m', 'v1']));
  const before = objects(t.dir);
  ok(run(['branch', 'exp']));
  ok(run(['checkout', 'exp']));
  // exp changes the last MiB only and adds a file: its own chunks, file objects and manifest
  write(t.path('model.bin'), Buffer.concat([base.subarray(0, 2 << 20), randomBytes(1 << 20, 6)]));
  write(t.path('extra.bin'), randomBytes(1000, 7));
  ok(run(['add', 'extra.bin']));
  const v2 = json(run(['commit', '-m', 'v2 on exp', '--json']));
  const unique = new Set([...objects(t.dir)].filter((id) => !before.has(id)));
  ok(run(['checkout', 'main']));
  return { t, run, base, v2, unique };
}

describe('mvm gc', () => {
  it(
    'after a branch is deleted, gc frees exactly its unique objects; shared chunks and every kept version ' + 'survive',
    () => {
      const { t, run, base, v2, unique } = repoWithBranch();
      try {
        // a new chunk, a new file object for each changed file, the manifest
        expect(unique.size).toBe(1 + 1 + 2 + 1);
        // while the branch exists nothing is unreachable
        expect(json(run(['gc', '--grace', '0', '--json'])).removed).toEqual({ objects: 0, bytes: 0 });
        ok(run(['branch', '-D', 'exp']));
        // within the grace period (a day by default) nothing is removed, and gc says so
        const young = json(run(['gc', '--json']));
        expect(young.removed.objects).toBe(0);
        expect(young.young.objects).toBe(unique.size);
        expect(run(['gc']).stdout).toContain('--grace 0 removes them');
        age(t.dir, 2);
        const all = objects(t.dir);
        const dry = json(run(['gc', '--dry-run', '--json']));
        expect(dry.removed.objects).toBe(unique.size);
        expect(dry.versions).toEqual([{ id: v2.id, number: 2 }]);
        expect(objects(t.dir)).toEqual(all);
        const r = run(['gc']);
        ok(r);
        expect(r.stdout).toContain('removed 1 version(s): v2');
        expect(objects(t.dir)).toEqual(new Set([...all].filter((id) => !unique.has(id))));
        // history that remains is whole: fsck clean, v1 checks out bit for bit, v2 is known to be gone
        const fsck = json(run(['fsck', '--json']));
        expect(fsck.ok).toBe(true);
        expect(fsck.removedByGc).toBe(1);
        expect(json(run(['log', '--json'])).map((e: { number: number }) => e.number)).toEqual([1]);
        const gone = expectError(run(['show', 'v2', '--json']), 'UNKNOWN_REVISION', 4);
        expect(gone.message).toContain("removed by 'mvm gc'");
        write(t.path('model.bin'), 'scribble');
        ok(run(['checkout', 'v1', '--force']));
        expect(readFileSync(t.path('model.bin')).equals(base)).toBe(true);
        // numbers are never reused
        write(t.path('model.bin'), randomBytes(100, 9));
        expect(json(run(['commit', '-m', 'v3', '--json'])).number).toBe(3);
        expect(json(run(['gc', '--grace', '0', '--json'])).removed.objects).toBe(0);
      } finally {
        t.cleanup();
      }
    },
  );

  it('tags, the deploy log, annotations and mvm.lock keep what they name', () => {
    const { t, run, v2 } = repoWithBranch();
    try {
      ok(run(['tag', 'keep-me', 'exp']));
      ok(run(['annotate', 'exp', '--metric', 'acc=0.5']));
      ok(run(['deploy', 'exp']));
      ok(run(['deploy', 'v1']));
      ok(run(['branch', '-D', 'exp']));
      age(t.dir, 2);
      expect(json(run(['gc', '--json'])).removed.objects).toBe(0);
      ok(run(['tag', '-d', 'keep-me']));
      // the deploy log still names v2 (it was deployed once): rollback must stay possible
      expect(json(run(['gc', '--json'])).removed.objects).toBe(0);
      expect(json(run(['show', v2.id, '--json'])).metrics).toEqual({ acc: 0.5 });
      expect(json(run(['fsck', '--json'])).ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('a commit started while gc runs waits for it and loses nothing', async () => {
    const { t, run } = repoWithBranch();
    try {
      ok(run(['branch', '-D', 'exp']));
      age(t.dir, 2);
      const data = randomBytes(2 << 20, 42);
      write(t.path('model.bin'), data);
      const c = mvmAsync(['commit', '-m', 'during gc', '--json'], { cwd: t.dir });
      const g = mvmAsync(['gc', '--json'], { cwd: t.dir });
      const [cr, gr] = await Promise.all([c.done, g.done]);
      ok(cr);
      ok(gr);
      const committed = json(cr);
      expect(json(run(['fsck', '--json'])).ok).toBe(true);
      write(t.path('model.bin'), 'x');
      ok(run(['checkout', committed.id, '--force']));
      expect(readFileSync(t.path('model.bin')).equals(data)).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('a bad --grace is BAD_VALUE; a damaged repository makes gc delete nothing', () => {
    const { t, run, v2 } = repoWithBranch();
    try {
      expectError(run(['gc', '--grace', '-1', '--json']), 'BAD_VALUE', 2);
      age(t.dir, 2);
      ok(run(['branch', '-D', 'exp']));
      // main's file object is gone: what it named is unknown, so nothing may go
      const head = json(run(['show', 'main', '--json']));
      const fileId = head.version.files['model.bin'].file as string;
      const all = objects(t.dir);
      removeStored(join(t.dir, '.mvm', 'objects'), fileId);
      expectError(run(['gc', '--json']), 'OBJECT_MISSING', 7);
      expect(objects(t.dir).size).toBe(all.size - 1);
      expect(v2.id).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      t.cleanup();
    }
  });
});
