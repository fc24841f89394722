/**
 * Deploy environments that keep a serving folder in step: export before the move, rollback, --keep, and a
 * concurrent poller that only ever sees complete, bit-exact folders.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { repo, served, servingFlags } from '../../helpers/envRepo.js';

describe('deploy environments', () => {
  it(
    'keeps a TF Serving folder in step: export before the move, rollback switches it back, --keep spares what envs ' +
      'serve',
    () => {
      const { t, run, contents } = repo();
      try {
        const root = t.path('serving');
        const model = join(root, 'clf');
        ok(run(['env', 'production', '--create']));
        ok(
          run([
            'deploy',
            'v1',
            '--env',
            'production',
            ...servingFlags(root, 'tf-serving', 'clf', 'model'),
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
      ok(run(['env', 'production', ...servingFlags(root, 'tf-serving', 'clf', 'model'), '--keep', '1']));
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
});
