// pull from a folder remote and from S3: fast-forward, --rebase, hostile versions refused, a killed pull resumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mvmAsync, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { Repository } from '../../../src/repo/repository/repository.js';
import { isStored, storedIds } from '../../helpers/storedObjects.js';
import { BACKENDS, originAndClone, startRemoteS3, stopRemoteS3 } from '../../helpers/remotes.js';

beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

describe.each(BACKENDS)('remotes on $name', (b) => {
  it(
    'a version pushed from one clone reaches another by pull: fast-forward, files rewritten, the same vN ' +
      'everywhere',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'pull');
        const { a, c } = originAndClone(b, t, url);
        write(c.path('models/small.txt'), 'config v2\n');
        const v2 = json(c.run(['commit', '-m', 'v2', '--json']));
        // not numbered until the registry numbers it: shown by its id, and v2 names nothing yet
        expect(v2.number).toBe(null);
        expectError(c.run(['show', 'v2', '--json']), 'UNKNOWN_REVISION', 4);
        const pushed = json(c.run(['push', '--json']));
        expect(pushed.newNumbers).toEqual([{ id: v2.id, number: 2 }]);
        expect(json(c.run(['show', 'v2', '--json'])).id).toBe(v2.id);
        expect(pushed.updates[0]).toMatchObject({ from: expect.any(String), to: v2.id, forced: false });
        // only what changed travels: the small file, its file object and the manifest
        expect(pushed.objects).toBe(3);
        const pulled = json(a.run(['pull', '--json']));
        expect(pulled.outcome).toBe('fast-forward');
        expect(pulled.to).toBe(v2.id);
        expect(pulled.number).toBe(2);
        expect(pulled.checkout.written).toEqual(['models/small.txt']);
        expect(readFileSync(a.path('models/small.txt'), 'utf8')).toBe('config v2\n');
        expect(json(a.run(['show', 'v2', '--json'])).id).toBe(v2.id);
        expect(json(a.run(['pull', '--json'])).outcome).toBe('up-to-date');
        expect(json(a.run(['status', '--json'])).clean).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'two clones retrain offline: the second push is refused, pull replays it unchanged on top (metrics kept), it ' +
      'then pushes, both versions survive numbered once, and vN is the same version in both; --merge merges path ' +
      'by path and refuses a path both changed',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'rebase');
        const { a, c } = originAndClone(b, t, url);
        write(a.path('models/small.txt'), 'tuned in a\n');
        const va = json(a.run(['commit', '-m', 'a: config', '--metric', 'f1=0.5', '--json']));
        write(c.path('models/big.bin'), randomBytes(900_000, 8));
        const vc = json(c.run(['commit', '-m', 'c: weights', '--metric', 'f1=0.7', '--json']));
        expect([va.number, vc.number]).toEqual([null, null]);
        ok(a.run(['push']));
        const refused = expectError(c.run(['push', '--json']), 'NON_FAST_FORWARD', 5);
        expect(refused.data.hint).toContain('mvm pull');
        // a fetch gives a's version its number here and leaves c's own unnumbered: nothing shown changes meaning
        ok(c.run(['fetch']));
        expect(json(c.run(['show', 'v2', '--json'])).id).toBe(va.id);
        expectError(c.run(['show', 'v3', '--json']), 'UNKNOWN_REVISION', 4);
        const rebased = json(c.run(['pull', '--json']));
        expect(rebased).toMatchObject({ outcome: 'rebased', mode: 'replay', number: null });
        expect(rebased.replayed).toEqual([{ from: vc.id, to: rebased.to, metricsKept: true }]);
        // a snapshot: c's files exactly (a's config change lives on in a's version, under it), message and metrics
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).not.toBe('tuned in a\n');
        expect(rebased.overridden).toEqual(['models/small.txt']);
        expect(readFileSync(c.path('models/big.bin')).equals(randomBytes(900_000, 8))).toBe(true);
        const top = json(c.run(['show', rebased.to, '--json']));
        expect(top.version).toMatchObject({ message: 'c: weights', parents: [va.id], metrics: { f1: 0.7 } });
        expect(top.version.deps.replayOf).toEqual({ id: vc.id, parent: json(a.run(['show', 'v1', '--json'])).id });
        expect(top.version.files).toEqual(json(c.run(['show', vc.id, '--json'])).version.files);
        // lineage says what it replays and where that was made
        expect(c.run(['lineage', rebased.to]).stdout).toContain(`replays ${vc.id.slice(0, 12)}, made on v1`);
        const pushed = json(c.run(['push', '--json']));
        expect(pushed.newNumbers).toEqual([{ id: rebased.to, number: 3 }]);
        const pulled = json(a.run(['pull', '--json']));
        expect(pulled).toMatchObject({ outcome: 'fast-forward', to: rebased.to });
        for (const w of [a, c]) {
          expect(json(w.run(['show', 'v2', '--json'])).id).toBe(va.id);
          expect(json(w.run(['show', 'v3', '--json'])).id).toBe(rebased.to);
          expect(json(w.run(['status', '--json'])).clean).toBe(true);
          expect(json(w.run(['fsck', '--json'])).ok).toBe(true);
          // both retrains survive, each numbered once, each with its metrics; the replaced original is gone
          const log = json(w.run(['log', '--all', '--json'])) as { id: string; number: number; metrics: object }[];
          expect(log.map((e) => [e.number, e.metrics])).toEqual([
            [3, { f1: 0.7 }],
            [2, { f1: 0.5 }],
            [1, {}],
          ]);
        }
        // the same path changed on both sides is a conflict, and nothing is written
        write(a.path('models/small.txt'), 'a again\n');
        ok(a.run(['commit', '-m', 'a3']));
        ok(a.run(['push']));
        write(c.path('models/small.txt'), 'c again\n');
        const c4 = json(c.run(['commit', '-m', 'c4', '--json']));
        const conflict = expectError(c.run(['pull', '--merge', '--json']), 'REBASE_CONFLICT', 5);
        expect(conflict.data.paths).toEqual(['models/small.txt']);
        expect(conflict.data.hint).toContain("plain 'mvm pull' keeps both");
        expect(json(c.run(['show', 'HEAD', '--json'])).id).toBe(c4.id);
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('c again\n');
        // plain pull keeps both; then different paths merge, and the merged version carries no metrics (its bytes
        // were never measured); the backend plays no part in the merge, so the folder remote shows it
        if (b.name !== 'folder') return;
        expect(json(c.run(['pull', '--json'])).replayed).toHaveLength(1);
        ok(c.run(['push']));
        ok(a.run(['pull']));
        write(a.path('models/small.txt'), 'a once more\n');
        ok(a.run(['commit', '-m', 'a5']));
        ok(a.run(['push']));
        write(c.path('models/extra.txt'), 'only c\n');
        ok(c.run(['add', 'models/extra.txt']));
        ok(c.run(['commit', '-m', 'c5', '--metric', 'f1=0.9']));
        const merged = json(c.run(['pull', '--merge', '--json']));
        expect(merged.mode).toBe('merge');
        expect(merged.replayed.map((r: { metricsKept: boolean }) => r.metricsKept)).toEqual([false]);
        expect(json(c.run(['show', merged.to, '--json'])).version.metrics).toEqual({});
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('a once more\n');
        expect(readFileSync(c.path('models/extra.txt'), 'utf8')).toBe('only c\n');
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'a hostile version on the remote (a path out of the workspace) is refused by pull: UNSAFE_VERSION, nothing ' +
      'written',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'hostile');
        const { a, c } = originAndClone(b, t, url);
        const before = json(c.run(['show', 'HEAD', '--json'])).id;
        // craft, as a tampered copy would, a version writing ../escaped.txt and .git/hooks/post-checkout
        const repo = Repository.open(a.dir);
        const head = repo.version(repo.headId()!);
        const entry = head.files['models/small.txt']!;
        const evil = repo.putObject({
          ...head,
          parents: [repo.headId()!],
          message: 'evil',
          files: { ...head.files, '../escaped.txt': entry, '.git/hooks/post-checkout': { ...entry, mode: 0o4755 } },
        });
        repo.refs.write('refs/heads/main', evil);
        ok(a.run(['push']));
        const err = expectError(c.run(['pull', '--json']), 'UNSAFE_VERSION', 7);
        expect(err.data.problems.join('\n')).toContain('..');
        expect(existsSync(t.path('escaped.txt'))).toBe(false);
        expect(existsSync(c.path('.git'))).toBe(false);
        expect(isStored(c.path('.mvm/objects'), evil)).toBe(false);
        expect(json(c.run(['show', 'HEAD', '--json'])).id).toBe(before);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('remotes on a folder', () => {
  it(
    'a pull killed part-way leaves the repository sound and the workspace at the old version; run again, it ' +
      'completes',
    async () => {
      const t = testdir();
      try {
        const url = t.path('remote');
        const { a, c } = originAndClone(BACKENDS[0]!, t, url);
        write(a.path('models/big.bin'), randomBytes(6_000_000, 21));
        const v2 = json(a.run(['commit', '-m', 'v2', '--json']));
        ok(a.run(['push'], { MVM_PACK_SIZE: String(64 << 10) }));
        const oldBytes = readFileSync(c.path('models/big.bin'));
        // kill the pull as soon as it has stored a chunk of v2
        const objects = c.path('.mvm/objects');
        const count = () => storedIds(objects).size;
        const before = count();
        const { child, done } = mvmAsync(['pull'], { cwd: c.dir, env: { MVM_PACK_SIZE: String(64 << 10) } });
        for (let i = 0; i < 4000 && count() === before; i++) await new Promise((r) => setTimeout(r, 2));
        child.kill('SIGKILL');
        await done;
        // whatever it had stored, HEAD and the workspace are still v1 (or, if it finished, all v2)
        const head = json(c.run(['show', 'HEAD', '--json'])).id;
        const now = readFileSync(c.path('models/big.bin'));
        if (head !== v2.id) expect(now.equals(oldBytes)).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        const again = json(c.run(['pull', '--json']));
        expect(again.to).toBe(v2.id);
        expect(readFileSync(c.path('models/big.bin')).equals(readFileSync(a.path('models/big.bin')))).toBe(true);
        expect(json(c.run(['fsck', '--json'])).ok).toBe(true);
        expect(json(c.run(['status', '--json'])).clean).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});
