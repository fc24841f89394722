import { describe, expect, it } from 'vitest';
import { mvm, mvmAsync, randomBytes, testdir, type RunResult } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { EXIT } from '../../../src/errors.js';

// Many processes on one repository at once: readers never fail because a
// writer is busy, writers either get the lock or fail LOCKED (exit 6), and the
// repository is sound after every round. MVM_STRESS_ROUNDS changes the rounds.
const ROUNDS = Number(process.env.MVM_STRESS_ROUNDS ?? 10);

describe('the index under many processes', () => {
  it(`${ROUNDS} rounds of 8 concurrent readers and 2 writers: every command exits 0 ` +
    '(writers may wait or say LOCKED), fsck clean after each round', async () => {
    const t = testdir();
    try {
      const run = (args: string[]) => mvm(args, { cwd: t.dir });
      write(t.path('model.bin'), randomBytes(300_000, 1));
      ok(run(['init']));
      ok(run(['add', 'model.bin']));
      ok(run(['commit', '-m', 'v1', '--metric', 'acc=0.5']));
      let committed = 1;
      const outcomes = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        write(t.path('model.bin'), randomBytes(300_000, 100 + round));
        const readers: [string, string[]][] = [
          ['log', ['log', '--json']],
          ['status', ['status', '--json']],
          ['show', ['show', 'HEAD', '--json']],
          ['best', ['best', '--metric', 'acc', '--json']],
          ['diff', ['diff', 'v1', 'HEAD', '--json']],
          ['log --where', ['log', '--where', 'metrics.acc >= 0', '--json']],
          ['status', ['status', '--json']],
          ['log', ['log', '-n', '3', '--json']],
        ];
        const writers: [string, string[]][] = [
          ['commit', ['commit', '-m', `round ${round}`, '--metric', `acc=${round / 100}`, '--json']],
          ['annotate', ['annotate', 'v1', '--metric', `f1=${round / 10}`, '--json']],
        ];
        const jobs = [...readers, ...writers].map(([name, args]) => ({
          name,
          args,
          writer: writers.some((w) => w[1] === args),
          p: mvmAsync(args, { cwd: t.dir, env: { MVM_LOCK_TIMEOUT: '30000' } }).done,
        }));
        const results: (RunResult & { name: string; writer: boolean })[] = [];
        for (const j of jobs) results.push({ ...(await j.p), name: j.name, writer: j.writer });
        for (const r of results) {
          const key = `${r.name}: exit ${r.exitCode}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (r.writer) expect([EXIT.ok, EXIT.locked], `${r.name} round ${round}: ${r.stderr}`).toContain(r.exitCode);
          else expect(r.exitCode, `${r.name} round ${round}: ${r.stderr}`).toBe(EXIT.ok);
          if (r.exitCode === EXIT.ok) expect(() => JSON.parse(r.stdout), `${r.name} printed JSON`).not.toThrow();
        }
        if (results.find((r) => r.name === 'commit')!.exitCode === EXIT.ok) committed++;
        const fsck = json(run(['fsck', '--json']));
        expect(fsck.ok, JSON.stringify(fsck.problems)).toBe(true);
        expect(fsck.leftoverTemp).toBe(0);
        // the index agrees with the number log after every round
        expect(json(run(['log', '--json'])).length).toBe(committed);
      }
      expect([...outcomes.keys()].filter((k) => !k.endsWith('exit 0') && !k.endsWith(`exit ${EXIT.locked}`))).toEqual(
        [],
      );
    } finally {
      t.cleanup();
    }
  }, 600_000);
});
