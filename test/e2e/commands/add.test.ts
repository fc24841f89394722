/** `.mvmignore`, the default ignores, and glob patterns in `add` / `rm`. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

describe('ignore rules and globs', () => {
  it(
    '.DS_Store, .ipynb_checkpoints/ and __pycache__/ are never versioned; .mvmignore adds patterns and ! takes ' +
      'them back',
    () => {
      const t = testdir({
        'models/a.safetensors': 'a',
        'models/.DS_Store': 'finder',
        'models/.ipynb_checkpoints/a-checkpoint.ipynb': '{}',
        'models/__pycache__/x.cpython-311.pyc': 'pyc',
        'models/run.log': 'log',
        'models/tmp/scratch.bin': 'scratch',
        'models/keep.log': 'kept',
      });
      try {
        const run = (args: string[]) => mvm(args, { cwd: t.dir });
        ok(run(['init']));
        ok(run(['add', 'models']));
        const files = () => Object.keys(json(run(['show', 'HEAD', '--json'])).version.files).sort();
        ok(run(['commit', '-m', 'v1']));
        expect(files()).toEqual([
          'models/a.safetensors',
          'models/keep.log',
          'models/run.log',
          'models/tmp/scratch.bin',
        ]);
        writeFileSync(t.path('.mvmignore'), '# logs and scratch\n*.log\n!keep.log\nmodels/tmp/\n');
        // status sees the ignored files as gone from the tracked set
        const st = json(run(['status', '--json']));
        expect(st.clean).toBe(false);
        ok(run(['commit', '-m', 'v2']));
        expect(files()).toEqual(['models/a.safetensors', 'models/keep.log']);
        // new droppings change nothing
        writeFileSync(t.path('models/.DS_Store'), 'finder again');
        writeFileSync(t.path('models/debug.log'), 'more');
        expect(json(run(['status', '--json'])).clean).toBe(true);
        const again = run(['commit', '-m', 'v3']);
        expect(again.exitCode).toBe(1);
        expect(again.stdout).toContain('nothing to commit');
      } finally {
        t.cleanup();
      }
    },
  );

  it("mvm add '*.safetensors' tracks matching files in every folder below; rm with a pattern untracks them", () => {
    const t = testdir({
      'a.safetensors': 'a',
      'sub/b.safetensors': 'b',
      'sub/deep/c.safetensors': 'c',
      'sub/notes.txt': 'n',
      'other/d.safetensors': 'd',
    });
    try {
      const run = (args: string[], cwd = t.dir) => mvm(args, { cwd });
      ok(run(['init']));
      const added = json(run(['add', '*.safetensors', '--json']));
      expect(added.tracked).toEqual([
        'a.safetensors',
        'other/d.safetensors',
        'sub/b.safetensors',
        'sub/deep/c.safetensors',
      ]);
      // from a subfolder, relative to it; a pattern with / matches the whole path
      const r2 = json(run(['rm', 'deep/*.safetensors', '--json'], t.path('sub')));
      expect(r2.changed).toEqual(['sub/deep/c.safetensors']);
      const r3 = json(run(['rm', '*.safetensors', '--json'], t.path('other')));
      expect(r3.tracked).toEqual(['a.safetensors', 'sub/b.safetensors']);
      expectError(run(['add', '*.onnx', '--json']), 'PATH_NOT_FOUND', 4);
      expectError(run(['rm', '*.onnx', '--json']), 'NOT_TRACKED', 4);
      ok(run(['commit', '-m', 'v1']));
      expect(Object.keys(json(run(['show', 'v1', '--json'])).version.files).sort()).toEqual([
        'a.safetensors',
        'sub/b.safetensors',
      ]);
      // a literal file name with glob characters is taken as it is
      mkdirSync(t.path('odd'));
      writeFileSync(t.path('odd/[1].bin'), 'literal');
      expect(json(run(['add', 'odd/[1].bin', '--json'])).changed).toEqual(['odd/[1].bin']);
    } finally {
      t.cleanup();
    }
  });
});
