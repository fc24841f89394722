/** commit: a commit that fails halfway leaves refs, numbers and the workspace as they were. */
import { describe, it, expect } from 'vitest';
import {
  chmodSync,
  chownSync,
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mvm, testdir } from '../../helpers/cli.js';
import {
  type LogEntry,
  CHUNK,
  errorOf,
  expectSound,
  fileSha,
  headFile,
  plainBytes,
  scribble,
} from '../../helpers/reliability.js';
import { storedIds } from '../../helpers/storedObjects.js';

describe('reliability', () => {
  describe('a commit that fails halfway', () => {
    it('leaves refs, numbers and the workspace untouched when a tracked file is unreadable', () => {
      const a = plainBytes(64 * CHUNK, 21);
      const z = plainBytes(16 * CHUNK, 22);
      const d = testdir({ 'a.bin': a, 'z.bin': z });
      // root reads anything: run mvm as an unprivileged user so the permission bits bite
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const run = (args: string[]) => mvm([...args, '--json'], { cwd: d.dir, ...asUser });
      try {
        if ('uid' in asUser) {
          const chownAll = (p: string) => {
            chownSync(p, 65534, 65534);
            if (statSync(p).isDirectory()) for (const f of readdirSync(p)) chownAll(join(p, f));
          };
          chownAll(d.dir);
        }
        expect(run(['init', '--chunk-size', String(CHUNK)]).exitCode).toBe(0);
        expect(run(['add', 'a.bin', 'z.bin']).exitCode).toBe(0);
        const c1 = run(['commit', '-m', 'v1']);
        expect(c1.exitCode, c1.stderr).toBe(0);
        const v1 = JSON.parse(c1.stdout).id as string;
        const state = () => ({
          head: headFile(d),
          main: readFileSync(d.path('.mvm/refs/heads/main'), 'utf8'),
          numbers: readFileSync(d.path('.mvm/numbers'), 'latin1'),
        });
        const objects = () => storedIds(d.path('.mvm/objects')).size;

        // both files change (so neither is vouched for by the stat cache); z.bin, read last, becomes unreadable
        scribble(d.path('a.bin'), 0, 2, 32);
        scribble(d.path('z.bin'), 0, 1, 4);
        chmodSync(d.path('z.bin'), 0o000);
        const ha = fileSha(d.path('a.bin'));
        const hz = fileSha(d.path('z.bin'));
        const before = state();
        const objsBefore = objects();
        const r = run(['commit', '-m', 'half']);
        expect(r.exitCode, r.stdout + r.stderr).toBe(8);
        expect(errorOf(r).code).toBe('UNREADABLE');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain('z.bin');
        // a.bin's new chunks were stored before z.bin failed (the commit really was halfway)...
        expect(objects()).toBeGreaterThan(objsBefore);
        // ...yet no ref, number, lock or workspace byte changed
        expect(state()).toEqual(before);
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
        expect(fileSha(d.path('a.bin'))).toBe(ha);
        expect(fileSha(d.path('z.bin'))).toBe(hz);
        const l = run(['log']);
        expect(l.exitCode).toBe(0);
        expect((JSON.parse(l.stdout) as LogEntry[]).map((e) => e.id)).toEqual([v1]);
        expectSound(d, { noTemp: true });

        // a commit refused by the lock writes nothing either, and leaves the holder's lock alone
        const lockText = JSON.stringify({
          pid: process.pid,
          host: hostname(),
          since: new Date().toISOString(),
          command: 'deploy',
        });
        writeFileSync(d.path('.mvm/lock'), lockText);
        const objs2 = objects();
        const lr = mvm(['commit', '-m', 'blocked', '--json'], {
          cwd: d.dir,
          env: { MVM_LOCK_TIMEOUT: '200' },
          ...asUser,
        });
        expect(lr.exitCode).toBe(6);
        expect(errorOf(lr).code).toBe('LOCKED');
        expect(state()).toEqual(before);
        expect(objects()).toBe(objs2);
        expect(readFileSync(d.path('.mvm/lock'), 'utf8')).toBe(lockText);
        unlinkSync(d.path('.mvm/lock'));

        // once readable again the commit goes through
        chmodSync(d.path('z.bin'), 0o644);
        const c2 = run(['commit', '-m', 'v2']);
        expect(c2.exitCode, c2.stderr).toBe(0);
        expect(JSON.parse(c2.stdout)).toMatchObject({ created: true, number: 2 });
        expectSound(d, { noTemp: true });
      } finally {
        try {
          chmodSync(d.path('z.bin'), 0o644);
        } catch {
          /* gone */
        }
        d.cleanup();
      }
    });
  });
});
