// mvm follow: a serving host with only the remote keeps a serving folder in step with an env that clones move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, mvmAsync, testdir, type RunResult } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { addModel, runModel } from '../../helpers/onnxAdd.js';
import { sshKeys } from '../../helpers/sshKeys.js';

const ssh = sshKeys();
beforeAll(() => ssh.keygen('alice'));
afterAll(() => ssh.cleanup());

const WEIGHTS: [number, number][] = [
  [1, 2],
  [10, 20],
  [100, 200],
];

/** A workspace with three versions of an ONNX model (y = x + W), pushed to a folder remote; production created. */
function team() {
  const t = testdir();
  const a = t.path('a');
  const run = (args: string[], env: Record<string, string> = {}) => mvm(args, { cwd: a, env });
  mkdirSync(a);
  ok(run(['init']));
  WEIGHTS.forEach((w, i) => {
    write(join(a, 'export/model.onnx'), addModel(w));
    if (i === 0) ok(run(['add', 'export']));
    ok(run(['commit', '-m', `v${i + 1}`]));
  });
  ok(run(['remote', 'add', 'origin', t.path('remote')]));
  ok(run(['push']));
  // the team's serving layout travels with the env: the follower needs only the folder
  const serving = ['--export', t.path('a-serving'), '--layout', 'triton', '--name', 'adder', '--path', 'export/'];
  ok(run(['env', 'production', ...serving]));
  const models = t.path('models');
  const follow = (args: string[], env: Record<string, string> = {}, name = 'production'): RunResult =>
    mvm(['follow', t.path('remote'), '--env', name, '--export', models, '--state', t.path('state'), ...args], {
      cwd: t.dir,
      env,
    });
  return { t, run, models, follow };
}

/** The numbered version folders of the model, lowest first. */
const numbered = (models: string) =>
  existsSync(join(models, 'adder'))
    ? readdirSync(join(models, 'adder'))
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((x, y) => x - y)
    : [];

describe('mvm follow', () => {
  it('--once from cron: no env, nothing deployed, then each state; the serving layout comes from the env', async () => {
    const { t, run, models, follow } = team();
    try {
      const none = json(follow(['--once', '--json'], {}, 'staging'));
      expect(none.outcome).toBe('no-env');
      expect(json(follow(['--once', '--json'])).outcome).toBe('nothing-deployed');
      ok(run(['deploy', 'v2', '--env', 'production']));
      const s = json(follow(['--once', '--json']));
      expect(s).toMatchObject({ outcome: 'exported', number: 2, path: join(models, 'adder', '2') });
      expect(s.move).toMatchObject({ action: 'deploy' });
      expect(await runModel(join(models, 'adder', '2', 'model.onnx'))).toEqual([11, 21]);
      expect(json(follow(['--once', '--json'])).outcome).toBe('unchanged');
      // a rollback: the folder above goes, so a server picking the highest number serves the rolled-back version
      ok(run(['deploy', 'v3', '--env', 'production']));
      ok(follow(['--once']));
      ok(run(['rollback', '--env', 'production']));
      const back = json(follow(['--once', '--json', '--serving-config']));
      expect(back).toMatchObject({ outcome: 'exported', number: 2, removed: [3] });
      expect(numbered(models)).toEqual([2]);
      expect(readFileSync(join(models, 'adder', 'config.pbtxt'), 'utf8')).toContain(
        'version_policy: { specific: { versions: [2] } }',
      );
      // the follower's store is kept outside the serving folder (a server would take a folder there for a model)
      expect(readdirSync(join(models))).toEqual(['adder']);
    } finally {
      t.cleanup();
    }
  });

  it('a follower that requires signatures refuses an unsigned move, keeps serving, and takes it once signed', () => {
    const { t, run, models, follow } = team();
    try {
      const signers = t.path('signers');
      writeFileSync(signers, ssh.allowedLine('alice@example.com', 'alice'));
      const strict = ['--require-signed', '--allowed-signers', signers, '--once'];
      expectError(follow(['--require-signed', '--once', '--json']), 'BAD_ARGUMENT', 2);
      ok(run(['sign', 'v1', '--key', ssh.key('alice')]));
      ok(run(['push']));
      ok(run(['deploy', 'v1', '--env', 'production']));
      ok(follow(strict));
      // someone who can write to the remote but is not an allowed signer moves production: the host does not follow
      ok(run(['deploy', 'v2', '--env', 'production']));
      const refused = expectError(follow([...strict, '--json']), 'NOT_SIGNED', 1);
      expect(refused.message).toContain('v2');
      expect(numbered(models)).toEqual([1]);
      ok(run(['sign', 'v2', '--key', ssh.key('alice')]));
      ok(run(['push']));
      expect(json(follow([...strict, '--json'])).number).toBe(2);
      expect(numbered(models)).toEqual([1, 2]);
    } finally {
      t.cleanup();
    }
  });

  it(
    'a running follower reaches each deploy and rollback within an interval, readers only ever see whole ' +
      'folders, and kill -9 mid-export then a restart converges',
    async () => {
      const { t, run, models, follow } = team();
      const bad: string[] = [];
      let looks = 0;
      // a reader of the serving folder, as a server scanning it would be
      const reader = setInterval(() => {
        for (const n of numbered(models)) {
          const dir = join(models, 'adder', String(n));
          try {
            const files = readdirSync(dir).sort();
            if (files.join(',') !== '.mvm-export.json,model.onnx') bad.push(`${n}: ${files.join(',')}`);
            looks++;
          } catch {
            // removed between the listing and the look: a folder going away whole is fine
          }
        }
      }, 2);
      const args = [
        'follow',
        t.path('remote'),
        '--env',
        'production',
        '--export',
        models,
        '--state',
        t.path('state'),
        '--interval',
        '0.2',
        '--json',
      ];
      const f = mvmAsync(args, { cwd: t.dir });
      // its first look (nothing deployed yet) before the first deploy
      await new Promise((r) => f.child.stdout!.once('data', r));
      const reach = async (n: number, w: [number, number]) => {
        const t0 = Date.now();
        while (numbered(models).at(-1) !== n) {
          if (Date.now() - t0 > 20_000) throw new Error(`the follower did not reach v${n}: ${numbered(models)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(await runModel(join(models, 'adder', String(n), 'model.onnx'))).toEqual([1 + w[0], 1 + w[1]]);
        return Date.now() - t0;
      };
      try {
        ok(run(['deploy', 'v1', '--env', 'production']));
        await reach(1, WEIGHTS[0]!);
        ok(run(['deploy', 'v2', '--env', 'production']));
        await reach(2, WEIGHTS[1]!);
        ok(run(['deploy', 'v3', '--env', 'production']));
        await reach(3, WEIGHTS[2]!);
        ok(run(['rollback', '--env', 'production']));
        await reach(2, WEIGHTS[1]!);
        f.child.kill('SIGTERM');
        const out = await f.done;
        const lines = out.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(lines.map((l) => [l.outcome, l.number])).toEqual([
          ['nothing-deployed', null],
          ['exported', 1],
          ['exported', 2],
          ['exported', 3],
          ['exported', 2],
        ]);
        // kill -9 at a write of the step that serves a deploy (every second one; npm run faults: every one), then a
        // restart: the folder converges on the env's version
        ok(run(['deploy', 'v3', '--env', 'production']));
        const log = t.path('faults.log');
        ok(follow(['--once'], { MVM_FAULT: 'count', MVM_FAULT_LOG: log }));
        const points = readFileSync(log, 'utf8').trim().split('\n').length;
        expect(points).toBeGreaterThan(3);
        for (let k = 1; k <= points; k += process.env.MVM_FAULTS === 'full' ? 1 : 2) {
          ok(run(['rollback', '--env', 'production']));
          ok(follow(['--once']));
          expect(numbered(models).at(-1)).toBe(2);
          ok(run(['deploy', 'v3', '--env', 'production']));
          const killed = follow(['--once'], { MVM_FAULT: `kill:${k}` });
          expect(killed.exitCode === -1 || killed.exitCode === 0, killed.stderr).toBe(true);
          ok(follow(['--once']));
          expect(numbered(models).at(-1)).toBe(3);
        }
        expect(bad).toEqual([]);
        expect(looks).toBeGreaterThan(0);
      } finally {
        clearInterval(reader);
        f.child.kill('SIGKILL');
        t.cleanup();
      }
    },
  );
});
