/**
 * Deploy environments end to end through the CLI: histories across envs,
 * gates, serving folders (with a concurrent poller), --keep, hooks in both
 * failure modes, no-op redeploys.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';

/** A repository with three versions of a SavedModel-like folder, each with accuracy and f1. */
function repo() {
  const t = testdir();
  const run = (args: string[], env?: Record<string, string>) => mvm(args, { cwd: t.dir, env });
  const contents: Record<number, Record<string, Buffer>> = {};
  ok(run(['init']));
  const metrics: [number, number][] = [
    [0.91, 0.8],
    [0.93, 0.85],
    [0.88, 0.9],
  ];
  const ids: string[] = [''];
  metrics.forEach(([acc, f1], i) => {
    const n = i + 1;
    contents[n] = {
      'saved_model.pb': Buffer.from(`graph ${n}\n`),
      'variables/variables.data-00000-of-00001': randomBytes(300_000 + n * 1000, n),
    };
    for (const [p, b] of Object.entries(contents[n]!)) write(t.path(`model/${p}`), b);
    if (n === 1) ok(run(['add', 'model']));
    ids.push(
      json<{ id: string }>(
        run(['commit', '-m', `v${n}`, '--metric', `accuracy=${acc}`, '--metric', `f1=${f1}`, '--json']),
      ).id,
    );
  });
  return { t, run, ids, contents };
}

/** The files of a served version folder, relative paths to bytes (the export marker left out). */
function served(folder: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.mvm-export.json') continue;
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = readFileSync(join(d, e.name));
    }
  };
  walk(folder, '');
  return out;
}

describe('deploy environments', () => {
  it(
    'deploy, promote and rollback across two envs; deployed:ENV@{N}; deployments --json; a redeploy logs ' + 'nothing',
    () => {
      const { t, run, ids } = repo();
      try {
        ok(run(['deploy', 'v1', '--env', 'staging', '-m', 'first']));
        const p1 = json(run(['promote', 'staging', 'production', '--json']));
        expect(p1).toMatchObject({ env: 'production', action: 'promote', from: null, to: ids[1], changed: true });
        ok(run(['deploy', 'v2', '--env', 'staging']));
        ok(run(['promote', 'staging', 'production', '-m', 'a week in staging']));
        ok(run(['deploy', 'v3', '--env', 'production']));
        // redeploying what production serves is a no-op: nothing logged
        const again = json(run(['deploy', 'v3', '--env', 'production', '--json']));
        expect(again).toMatchObject({ changed: false, to: ids[3] });
        expect(ok(run(['deploy', 'v3', '--env', 'production'])).stdout).toContain('is already deployed to production');
        const rb = json(run(['rollback', '--env', 'production', '--json']));
        expect(rb).toMatchObject({ env: 'production', action: 'rollback', from: ids[3], to: ids[2] });
        // the default env is untouched by all of that
        expectError(run(['show', 'deployed', '--json']), 'NOTHING_DEPLOYED', 4);
        expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[2]);
        expect(json(run(['show', 'deployed:production@{1}', '--json'])).id).toBe(ids[3]);
        expect(json(run(['show', 'deployed:staging', '--json'])).id).toBe(ids[2]);
        expectError(run(['show', 'deployed:nowhere', '--json']), 'NOTHING_DEPLOYED', 4);
        expectError(run(['show', 'deployed:../../x', '--json']), 'BAD_REF_NAME', 2);
        const all = json<
          {
            env: string;
            action: string;
            toNumber: number;
            fromNumber: number | null;
            who: string;
            reason?: string;
            fromEnv?: string;
          }[]
        >(run(['deployments', '--json']));
        expect(all.map((e) => [e.env, e.action, e.toNumber])).toEqual([
          ['production', 'rollback', 2],
          ['production', 'deploy', 3],
          ['production', 'promote', 2],
          ['staging', 'deploy', 2],
          ['production', 'promote', 1],
          ['staging', 'deploy', 1],
        ]);
        expect(all[2]).toMatchObject({
          fromEnv: 'staging',
          reason: 'a week in staging',
          fromNumber: 1,
          who: 'Test User <test@example.com>',
        });
        const prod = json<{ action: string }[]>(run(['deployments', '--env', 'production', '--json']));
        expect(prod.map((e) => e.action)).toEqual(['rollback', 'deploy', 'promote', 'promote']);
        expect(readFileSync(t.path('.mvm/logs/envs/production'), 'utf8').trim().split('\n')).toHaveLength(4);
        const text = ok(run(['deployments'])).stdout;
        expect(text).toMatch(/production\s+promote\s+v2 .*\(promoted from staging\)/);
        // log marks what each env serves; env lists them
        expect(ok(run(['log', '--oneline'])).stdout).toMatch(
          /^v2 [0-9a-f]{12} \(deployed:production, deployed:staging\)/m,
        );
        const envs = json<{ env: string; number: number; moves: number }[]>(run(['env', '--json']));
        expect(envs.map((e) => [e.env, e.number, e.moves])).toEqual([
          ['production', 2, 4],
          ['staging', 2, 2],
        ]);
        // gc keeps everything any env log names; fsck is clean
        expect(json<{ ok: boolean }>(run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it('gates refuse with the condition and the shortfall, allow what passes, and --no-gates is logged', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['deploy', 'v2', '--env', 'production']));
      // v3: accuracy 0.88 < 0.9, f1 0.9 > 0.85
      const refused = expectError(
        run([
          'deploy',
          'v3',
          '--env',
          'production',
          '--require',
          'metrics.accuracy >= 0.9',
          '--better-than-current',
          'f1',
          '--json',
        ]),
        'GATE_FAILED',
        1,
      );
      expect(refused.message).toContain('metrics.accuracy is 0.88, needs >= 0.9 (short by 0.02)');
      const failed = refused.data.failed as { gate: string; shortBy: number }[];
      expect(failed).toHaveLength(1);
      expect(failed[0]!.shortBy).toBeCloseTo(0.02, 10);
      expect(refused.data.passed).toEqual(['f1 better than the current version (higher is better)']);
      expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[2]);
      // v1 fails both: each condition is named
      const both = expectError(
        run([
          'deploy',
          'v1',
          '--env',
          'production',
          '--require',
          'metrics.accuracy >= 0.92 and params.missing = 1',
          '--better-than-current',
          'f1',
          '--json',
        ]),
        'GATE_FAILED',
        1,
      );
      expect((both.data.failed as unknown[]).length).toBe(3);
      expect(both.message).toContain('params.missing is not recorded');
      expect(both.message).toContain('the current version v2 has 0.85 (worse by 0.05)');
      // stored gates apply to every deploy, without flags
      ok(run(['env', 'production', '--require', 'metrics.accuracy >= 0.9']));
      const stored = run(['deploy', 'v3', '--env', 'production']);
      expect(stored.exitCode).toBe(1);
      expect(stored.stderr).toContain("does not pass the gates of 'production'");
      expect(stored.stdout).toBe('');
      // a gate that passes is recorded with the move
      const pass = json(run(['deploy', 'v1', '--env', 'production', '--json']));
      expect(pass.gates.passed).toEqual(['metrics.accuracy >= 0.9']);
      // --no-gates overrides, and the log says so
      const forced = json(run(['deploy', 'v3', '--env', 'production', '--no-gates', '-m', 'hotfix', '--json']));
      expect(forced).toMatchObject({ changed: true, gates: 'skipped', to: ids[3] });
      const log = json<{ gates?: unknown; reason?: string }[]>(run(['deployments', '--env', 'production', '--json']));
      expect(log[0]).toMatchObject({ gates: 'skipped', reason: 'hotfix' });
      expect(log[1]).toMatchObject({ gates: ['metrics.accuracy >= 0.9'] });
      // a rollback is never gated
      expect(json(run(['rollback', '--env', 'production', '--json']))).toMatchObject({ to: ids[1], gates: null });
      // a gate that does not parse is refused when it is stored
      expectError(run(['env', 'production', '--require', 'metrics.accuracy >>= 1', '--json']), 'BAD_EXPRESSION', 2);
    } finally {
      t.cleanup();
    }
  });

  it(
    'keeps a TF Serving folder in step: export before the move, rollback switches it back, --keep spares what envs ' +
      'serve',
    () => {
      const { t, run, contents } = repo();
      try {
        const root = t.path('serving');
        const model = join(root, 'clf');
        ok(
          run([
            'deploy',
            'v1',
            '--env',
            'production',
            '--export',
            root,
            '--layout',
            'tf-serving',
            '--name',
            'clf',
            '--path',
            'model',
            '--keep',
            '2',
          ]),
        );
        expect(readdirSync(model)).toEqual(['1']);
        expect(served(join(model, '1'))).toEqual(contents[1]);
        // a Triton-style config beside the version folders is left alone
        writeFileSync(join(model, 'config.pbtxt'), 'name: "clf"\n');
        // later deploys export by themselves (the folder is remembered)
        ok(run(['deploy', 'v2', '--env', 'production']));
        ok(run(['deploy', 'v3', '--env', 'production']));
        expect(readdirSync(model).sort()).toEqual(['2', '3', 'config.pbtxt']);
        expect(served(join(model, '3'))).toEqual(contents[3]);
        // rollback: the folder is switched back, so "serve the highest number" serves v2
        const rb = json(run(['rollback', '--env', 'production', '--json']));
        expect(rb.export).toMatchObject({ removed: [3], path: join(model, '2') });
        expect(readdirSync(model).sort()).toEqual(['2', 'config.pbtxt']);
        expect(readFileSync(join(model, 'config.pbtxt'), 'utf8')).toBe('name: "clf"\n');
        // mvm export on its own, and --keep that spares the version an env points at
        const other = t.path('other');
        for (const v of ['v1', 'v2', 'v3'])
          ok(run(['export', v, other, '--layout', 'triton', '--name', 'm', '--path', 'model']));
        expect(readdirSync(join(other, 'm')).sort()).toEqual(['1', '2', '3']);
        const again = json(
          run(['export', 'v3', other, '--layout', 'triton', '--name', 'm', '--path', 'model', '--keep', '1', '--json']),
        );
        expect(again).toMatchObject({ written: false, removed: [1] });
        // v2 stays: production serves it
        expect(readdirSync(join(other, 'm')).sort()).toEqual(['2', '3']);
        // a numbered folder mvm did not write is a conflict, unless --force
        write(join(other, 'm', '1', 'model.onnx'), 'not mine');
        const conflict = expectError(
          run(['export', 'v1', other, '--layout', 'triton', '--name', 'm', '--path', 'model', '--json']),
          'EXPORT_CONFLICT',
          5,
        );
        expect(conflict.data.held).toBeNull();
        expect(readFileSync(join(other, 'm', '1', 'model.onnx'), 'utf8')).toBe('not mine');
        ok(run(['export', 'v1', other, '--layout', 'triton', '--name', 'm', '--path', 'model', '--force']));
        expect(served(join(other, 'm', '1'))).toEqual(contents[1]);
        expect(readdirSync(join(other, 'm')).filter((n) => n.startsWith('.'))).toEqual([]);
      } finally {
        t.cleanup();
      }
    },
  );

  it('an exported folder polled during repeated deploys is only ever seen complete and bit-exact', async () => {
    const { t, run, contents } = repo();
    try {
      const root = t.path('serving');
      const model = join(root, 'clf');
      const expected = Object.fromEntries(
        Object.entries(contents).map(([n, files]) => [
          n,
          Object.fromEntries(Object.entries(files).map(([p, b]) => [p, b.toString('base64')])),
        ]),
      );
      writeFileSync(t.path('expected.json'), JSON.stringify(expected));
      // the poller: lists the model folder in a loop and reads every numbered folder it sees
      const poller = `
        const fs = require('fs'), path = require('path');
        const model = ${JSON.stringify(model)};
        const expected = JSON.parse(fs.readFileSync(${JSON.stringify(t.path('expected.json'))}, 'utf8'));
        let seen = 0, bad = [];
        const stop = () => {
          fs.writeFileSync(${JSON.stringify(t.path('poller.json'))}, JSON.stringify({ seen, bad }));
          process.exit(0);
        };
        process.on('SIGTERM', stop);
        const walk = (d, rel, out) => {
          for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.name === '.mvm-export.json') continue;
            if (e.isDirectory()) walk(path.join(d, e.name), rel + e.name + '/', out);
            else out[rel + e.name] = fs.readFileSync(path.join(d, e.name)).toString('base64');
          }
          return out;
        };
        const tick = () => {
          let names = [];
          try { names = fs.readdirSync(model).filter((n) => /^\\d+$/.test(n)); } catch {}
          for (const n of names) {
            const dir = path.join(model, n);
            let files;
            try {
              files = walk(dir, '', {});
            } catch (e) {
              if (!fs.existsSync(dir)) continue;
              bad.push(n + ': ' + e.message);
              continue;
            }
            // a folder renamed away mid-read is a vanished folder, not a partial one
            if (!fs.existsSync(dir)) continue;
            if (JSON.stringify(files) !== JSON.stringify(expected[n])) bad.push(n + ': content differs'); else seen++;
          }
          setImmediate(tick);
        };
        tick();`;
      const child = spawn(process.execPath, ['-e', poller], { stdio: 'ignore' });
      ok(
        run([
          'env',
          'production',
          '--export',
          root,
          '--layout',
          'tf-serving',
          '--model',
          'clf',
          '--path',
          'model',
          '--keep',
          '1',
        ]),
      );
      for (let round = 0; round < 4; round++) {
        ok(run(['deploy', 'v1', '--env', 'production']));
        ok(run(['deploy', 'v2', '--env', 'production']));
        ok(run(['deploy', 'v3', '--env', 'production']));
        ok(run(['rollback', '--env', 'production', '--to', 'v1']));
      }
      await new Promise((r) => setTimeout(r, 200));
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
      const report = JSON.parse(readFileSync(t.path('poller.json'), 'utf8')) as { seen: number; bad: string[] };
      expect(report.bad).toEqual([]);
      expect(report.seen).toBeGreaterThan(10);
      expect(readdirSync(model)).toEqual(['1']);
      // no staging or set-aside folder is left behind
      expect(readdirSync(model).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  it(
    'a failing hook: kept by default (exit 9, the env moved), undone with onHookFailure undo (logged, folder ' +
      'switched back)',
    () => {
      const { t, run, ids } = repo();
      try {
        const root = t.path('serving');
        ok(
          run([
            'env',
            'production',
            '--hook',
            'echo "reload $MVM_ENV $MVM_OLD_NUMBER->$MVM_NEW_NUMBER $MVM_ACTION" >> hook.log',
            '--export',
            root,
            '--layout',
            'tf-serving',
            '--model',
            'clf',
            '--path',
            'model',
          ]),
        );
        ok(run(['deploy', 'v1', '--env', 'production']));
        ok(run(['deploy', 'v2', '--env', 'production']));
        expect(readFileSync(t.path('hook.log'), 'utf8')).toBe(
          'reload production ->1 deploy\nreload production 1->2 deploy\n',
        );
        // keep: the hook fails, the move stays
        ok(run(['env', 'production', '--hook', 'echo "server said no" >&2; exit 3']));
        const kept = expectError(run(['deploy', 'v3', '--env', 'production', '--json']), 'HOOK_FAILED', 9);
        expect(kept.data).toMatchObject({ kept: true, hooks: [{ exitCode: 3 }] });
        expect((kept.data.hooks as { output: string }[])[0]!.output).toContain('server said no');
        expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[3]);
        expect(existsSync(join(root, 'clf', '3'))).toBe(true);
        // undo: the hook fails, the env goes back and the log says why
        ok(run(['env', 'production', '--on-hook-failure', 'undo']));
        const undone = expectError(run(['rollback', '--env', 'production', '--to', 'v1', '--json']), 'HOOK_FAILED', 9);
        expect(undone.data).toMatchObject({ kept: false });
        expect(undone.message).toContain('the move was undone: production serves v3 again');
        expect(json(run(['show', 'deployed:production', '--json'])).id).toBe(ids[3]);
        const log = json<{ action: string; toNumber: number; reason?: string }[]>(
          run(['deployments', '--env', 'production', '--json']),
        );
        expect(log.slice(0, 2).map((e) => [e.action, e.toNumber])).toEqual([
          ['undo', 3],
          ['rollback', 1],
        ]);
        expect(log[0]!.reason).toContain('hook failed');
        // the serving folder serves v3 again
        expect(readdirSync(join(root, 'clf')).sort().at(-1)).toBe('3');
        expect(json<{ ok: boolean }>(run(['fsck', '--json'])).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );

  it('tag -f says that it moved the tag and from where', () => {
    const { t, run, ids } = repo();
    try {
      ok(run(['tag', 'prod', 'v1']));
      expect(ok(run(['tag', 'prod', 'v2', '-f'])).stdout).toContain(
        `Moved tag prod from v1 ${ids[1]!.slice(0, 12)} to v2`,
      );
    } finally {
      t.cleanup();
    }
  });
});
