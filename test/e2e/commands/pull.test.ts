// pull from a folder remote and from S3: fast-forward, --rebase, hostile versions refused, a killed pull resumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mvmAsync, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { Repository } from '../../../src/repo/repository/repository.js';
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
        expect(v2.number).toBe(2);
        const pushed = json(c.run(['push', '--json']));
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
    'two clones commit offline: the second push is refused, pull --rebase puts it on top, it then pushes, and vN ' +
      'is the same version in both',
    async () => {
      const t = testdir();
      try {
        const url = b.url(t, 'rebase');
        const { a, c } = originAndClone(b, t, url);
        write(a.path('models/small.txt'), 'tuned in a\n');
        const va = json(a.run(['commit', '-m', 'a: config', '--metric', 'f1=0.5', '--json']));
        write(c.path('models/big.bin'), randomBytes(900_000, 8));
        const vc = json(c.run(['commit', '-m', 'c: weights', '--metric', 'f1=0.7', '--json']));
        expect([va.number, vc.number]).toEqual([2, 2]);
        ok(a.run(['push']));
        expectError(c.run(['push', '--json']), 'NON_FAST_FORWARD', 5);
        const diverged = expectError(c.run(['pull', '--json']), 'NON_FAST_FORWARD', 5);
        expect(diverged.data.hint).toContain('--rebase');
        // the refused pull fetched a's version: it is v2 here too now, and c's own moved to v3
        expect(json(c.run(['show', 'v2', '--json'])).id).toBe(va.id);
        expect(json(c.run(['show', 'v3', '--json'])).id).toBe(vc.id);
        const rebased = json(c.run(['pull', '--rebase', '--json']));
        expect(rebased.outcome).toBe('rebased');
        expect(rebased.replayed).toEqual([{ from: vc.id, to: rebased.to }]);
        // both changes are in the workspace, c's message and metrics are kept
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('tuned in a\n');
        expect(readFileSync(c.path('models/big.bin')).equals(randomBytes(900_000, 8))).toBe(true);
        const top = json(c.run(['show', rebased.to, '--json']));
        expect(top.version).toMatchObject({ message: 'c: weights', parents: [va.id], metrics: { f1: 0.7 } });
        ok(c.run(['push']));
        const pulled = json(a.run(['pull', '--json']));
        expect(pulled).toMatchObject({ outcome: 'fast-forward', to: rebased.to });
        for (const w of [a, c]) {
          expect(json(w.run(['show', 'v2', '--json'])).id).toBe(va.id);
          expect(json(w.run(['show', 'v3', '--json'])).id).toBe(rebased.to);
          expect(json(w.run(['status', '--json'])).clean).toBe(true);
          expect(json(w.run(['fsck', '--json'])).ok).toBe(true);
        }
        // the same path changed on both sides is a conflict, and nothing is written
        write(a.path('models/small.txt'), 'a again\n');
        ok(a.run(['commit', '-m', 'a3']));
        ok(a.run(['push']));
        write(c.path('models/small.txt'), 'c again\n');
        const c4 = json(c.run(['commit', '-m', 'c4', '--json']));
        const conflict = expectError(c.run(['pull', '--rebase', '--json']), 'REBASE_CONFLICT', 5);
        expect(conflict.data.paths).toEqual(['models/small.txt']);
        expect(json(c.run(['show', 'HEAD', '--json'])).id).toBe(c4.id);
        expect(readFileSync(c.path('models/small.txt'), 'utf8')).toBe('c again\n');
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
        expect(existsSync(c.path(`.mvm/objects/${evil.slice(0, 2)}/${evil.slice(2)}`))).toBe(false);
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
        const count = () => readdirSync(objects).reduce((n, d) => n + readdirSync(join(objects, d)).length, 0);
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
