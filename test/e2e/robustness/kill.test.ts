/**
 * SIGKILL at many moments of a commit and of a checkout: the repository stays sound, every file is whole, and
 * running the command again completes it. Everything runs through the real CLI (bin/mvm.js).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mvm, mvmAsync } from '../../helpers/cli.js';
import {
  type KillPlan,
  CHUNK,
  MiB,
  expectSound,
  fileSha,
  headFile,
  logOf,
  nth,
  ok,
  plainBytes,
  repoWith,
  runAndKill,
  scribble,
  sha,
} from '../../helpers/reliability.js';

describe('reliability', () => {
  it('survives SIGKILL at any moment of a commit', async () => {
    const size = 24 * MiB;
    const v1Bytes = plainBytes(size);
    const { d, v1 } = repoWith({ 'model.bin': v1Bytes });
    const file = d.path('model.bin');
    const tmp = d.path('.mvm/tmp');
    // each commit rewrites every 16th chunk, so new chunks are stored all through the file read
    const step = 16;
    const changed = size / CHUNK / step;
    try {
      // measure one full commit of such a change
      scribble(file, step - 1, step, changed);
      const t0 = Date.now();
      const fr = await mvmAsync(['commit', '-q', '-m', 'measured'], { cwd: d.dir }).done;
      const duration = Date.now() - t0;
      expect(fr.exitCode, fr.stderr).toBe(0);
      let history = logOf(d).map((e) => e.id);
      expect(history).toHaveLength(2);
      expect(history[1]).toBe(v1);

      // kill points: timed (spread over the measured duration) and at events that pin the
      // moment whatever the machine's load: the k-th chunk object being written, the file
      // object, the version manifest, the number being handed out, the ref being written
      const plans: (() => KillPlan)[] = [
        () => ({ label: 'first chunk object', watchDir: tmp, match: nth('o-', 1) }),
        () => ({ label: `${Math.round(0.45 * duration)} ms`, delay: Math.round(0.45 * duration) }),
        () => ({
          label: `chunk object ${Math.round(changed * 0.7)}/${changed}`,
          watchDir: tmp,
          match: nth('o-', Math.round(changed * 0.7)),
        }),
        () => ({ label: 'file object write', watchDir: tmp, match: nth('w-', 1) }),
        () => ({ label: 'version manifest write', watchDir: tmp, match: nth('w-', 2) }),
        () => ({ label: 'number handed out', watchDir: d.path('.mvm'), match: (n) => n === 'numbers' }),
        () => ({ label: 'branch ref write', watchDir: tmp, match: nth('w-', 3) }),
        () => ({ label: `${Math.round(0.9 * duration)} ms`, delay: Math.round(0.9 * duration) }),
      ];
      const outcomes: string[] = [];
      for (const [i, makePlan] of plans.entries()) {
        const plan = makePlan();
        const ctx = `kill at ${plan.label}`;
        const iterStart = Date.now();
        scribble(file, i % step, step, changed);
        const before = fileSha(file);
        const st = statSync(file);
        const { result, killed } = await runAndKill(d, ['commit', '-q', '-m', `c${i}`], plan);
        if (!killed) expect(result.exitCode, `${ctx}: ${result.stderr}`).toBe(0);
        // the workspace is never written by a commit
        expect(fileSha(file), ctx).toBe(before);
        expect(statSync(file).ino, ctx).toBe(st.ino);
        expect(statSync(file).mtimeMs, ctx).toBe(st.mtimeMs);
        // the repository is sound (temp files are allowed and reported, not errors)
        const report = expectSound(d);
        // history is the old one, or the old one plus exactly the new version
        const after = logOf(d);
        const ids = after.map((e) => e.id);
        if (ids.length === history.length) {
          expect(ids, ctx).toEqual(history);
          expect(killed, `${ctx}: a completed commit must have moved the branch`).toBe(true);
        } else {
          expect(ids.slice(1), ctx).toEqual(history);
          expect(after[0]!.parents, ctx).toEqual([history[0]]);
          expect(after[0]!.message, ctx).toBe(`c${i}`);
        }
        const landed = ids.length > history.length;
        // the next commit takes over the dead process's lock and succeeds
        const next = mvm(['commit', '-m', `f${i}`, '--json'], { cwd: d.dir });
        // exit 1 when it finds nothing to commit (the killed commit landed)
        expect(next.exitCode, `${ctx}: follow-up commit: ${next.stdout} ${next.stderr}`).toBe(landed ? 1 : 0);
        const nr = JSON.parse(next.stdout) as { created: boolean; id: string };
        expect(nr.created, `${ctx}: follow-up commit created a version`).toBe(!landed);
        const final = logOf(d);
        expect(final.map((e) => e.id).slice(1), ctx).toEqual(history);
        expect(final[0]!.id).toBe(nr.id);
        expect(final[0]!.parents, ctx).toEqual([history[0]]);
        expect(existsSync(d.path('.mvm/lock')), `${ctx}: lock released`).toBe(false);
        // clean: the dead writer's temp files are gone (the next iteration's fsck verifies every object)
        expect(readdirSync(tmp), `${ctx}: temp files cleared`).toEqual([]);
        history = final.map((e) => e.id);
        const outcome = killed ? (landed ? 'killed after the branch moved' : 'killed, old history kept') : 'completed';
        const leftover = report.leftoverTemp ? `, ${report.leftoverTemp} temp file(s) left` : '';
        outcomes.push(`${plan.label}: ${outcome}${leftover} [${Date.now() - iterStart} ms]`);
      }
      expectSound(d, { noTemp: true });
      // every recorded version still restores bit for bit
      const last = fileSha(file);
      ok(d, ['checkout', 'v1', '--force']);
      expect(fileSha(file)).toBe(sha(v1Bytes));
      ok(d, ['checkout', 'main', '--force']);
      expect(fileSha(file)).toBe(last);
      console.log(`commit (${duration} ms) kill outcomes:\n  ${outcomes.join('\n  ')}`);
    } finally {
      d.cleanup();
    }
  }, 120_000);

  it('survives SIGKILL at any moment of a checkout: every file is whole, v1 or v2', async () => {
    const names = ['a.bin', 'b.bin', 'c.bin', 'd.bin'];
    const per = 3 * MiB;
    const v1Files = Object.fromEntries(names.map((n) => [n, plainBytes(per)]));
    const { d, v1 } = repoWith(v1Files);
    const tmp = d.path('.mvm/tmp');
    try {
      // v2: the first half of every file rewritten
      for (const n of names) scribble(d.path(n), 0, 1, per / CHUNK / 2);
      const v2 = ok<{ id: string }>(d, ['commit', '-m', 'v2']).id;
      const h1 = Object.fromEntries(names.map((n) => [n, sha(v1Files[n]!)]));
      const h2 = Object.fromEntries(names.map((n) => [n, fileSha(d.path(n))]));
      for (const n of names) expect(h2[n]).not.toBe(h1[n]);
      const atV = (h: Record<string, string>) => names.every((n) => fileSha(d.path(n)) === h[n]);
      // measure one full checkout
      const t0 = Date.now();
      const m = await mvmAsync(['checkout', 'v1', '-q'], { cwd: d.dir }).done;
      const duration = Date.now() - t0;
      expect(m.exitCode, m.stderr).toBe(0);
      expect(atV(h1)).toBe(true);
      ok(d, ['checkout', 'main']);
      expect(atV(h2)).toBe(true);

      // kill points: while file k is being assembled in .mvm/tmp, right after file k is renamed
      // into the workspace, while HEAD is being written, and at a few delays
      const replaced = (k: number) => {
        const seen = new Set<string>();
        return (n: string) => names.includes(n) && seen.add(n).size === k;
      };
      const plans: (() => KillPlan)[] = [
        () => ({ label: 'writing file 1', watchDir: tmp, match: nth('co-', 1) }),
        () => ({ label: 'file 1 replaced', watchDir: d.dir, match: replaced(1) }),
        () => ({ label: 'writing file 3', watchDir: tmp, match: nth('co-', 3) }),
        () => ({ label: `${Math.round(0.7 * duration)} ms`, delay: Math.round(0.7 * duration) }),
        () => ({ label: 'file 4 replaced', watchDir: d.dir, match: replaced(4) }),
        () => ({ label: 'HEAD write', watchDir: tmp, match: nth('w-', 1) }),
      ];
      const outcomes: string[] = [];
      for (const makePlan of plans) {
        const plan = makePlan();
        const ctx = `kill at ${plan.label}`;
        const iterStart = Date.now();
        const { result, killed } = await runAndKill(d, ['checkout', 'v1', '-q'], plan);
        if (!killed) expect(result.exitCode, `${ctx}: ${result.stderr}`).toBe(0);
        expectSound(d);
        // history is intact whatever HEAD says
        expect(
          logOf(d, 'main').map((e) => e.id),
          ctx,
        ).toEqual([v2, v1]);
        const head = headFile(d);
        expect(['ref: refs/heads/main', v1], ctx).toContain(head);
        // every file is whole: exactly its v1 or its v2 bytes; nothing else appeared in the workspace
        let old = 0;
        for (const n of names) {
          const h = fileSha(d.path(n));
          expect([h1[n], h2[n]], `${ctx}: ${n} is neither its v1 nor its v2 bytes`).toContain(h);
          if (h === h1[n]) old++;
        }
        expect(readdirSync(d.dir).sort(), ctx).toEqual(['.gitignore', '.mvm', ...names].sort());
        if (!killed || head === v1)
          expect(old, `${ctx}: HEAD moved to v1 before every file was written`).toBe(names.length);
        const headMoved = head === v1 ? 'moved' : 'unmoved';
        const outcome = killed ? `killed with ${old}/${names.length} files at v1, HEAD ${headMoved}` : 'completed';
        outcomes.push(`${plan.label}: ${outcome}`);
        // re-running the checkout finishes the job, bit for bit
        const co = ok<{ id: string }>(d, ['checkout', 'v1', '--force']);
        expect(co.id).toBe(v1);
        expect(atV(h1), ctx).toBe(true);
        expect(headFile(d)).toBe(v1);
        expect(existsSync(d.path('.mvm/lock'))).toBe(false);
        expect(readdirSync(tmp), ctx).toEqual([]);
        ok(d, ['checkout', 'main', '--force']);
        expect(atV(h2), ctx).toBe(true);
        expect(headFile(d)).toBe('ref: refs/heads/main');
        outcomes[outcomes.length - 1] += ` [${Date.now() - iterStart} ms]`;
      }
      expectSound(d, { noTemp: true });
      console.log(`checkout (${duration} ms) kill outcomes:\n  ${outcomes.join('\n  ')}`);
    } finally {
      d.cleanup();
    }
  }, 90_000);
});
