import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initDir, mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';

describe('every name, every key', () => {
  it('mvm add of .git or .mvm, at any depth and in any case, is refused and changes nothing', () => {
    const { t, run } = initDir({ 'sub/.git/config': 'x', 'm/a.bin': 'a' });
    try {
      const ignore = readFileSync(t.path('.gitignore'), 'utf8');
      for (const p of ['.git', '.git/hooks/pre-commit', 'sub/.git', 'sub/.GIT/config'])
        expectError(run(['add', p, '--json']), 'PATH_INSIDE_GIT', 2);
      for (const p of ['.mvm', '.mvm/config.json', 'm/.MVM/x'])
        expectError(run(['add', p, '--json']), 'PATH_INSIDE_MVM', 2);
      expect(readFileSync(t.path('.gitignore'), 'utf8')).toBe(ignore);
      expect(json(run(['status', '--json'])).tracked ?? []).toEqual([]);
      // a tracked folder that holds a git repository (a submodule, say) is versioned without it
      ok(run(['add', 'sub', 'm']));
      const v = json(run(['commit', '-m', 'v1', '--json']));
      expect(Object.keys(json(run(['show', v.id, '--json'])).version.files)).toEqual(['m/a.bin']);
    } finally {
      t.cleanup();
    }
  });

  it(
    'a file name that is not UTF-8 is refused loudly by commit (UNSUPPORTED_NAME, escaped), never dropped; nothing ' +
      'is committed',
    () => {
      const { t, run } = initDir({ 'm/ok.bin': 'ok' });
      try {
        ok(run(['add', 'm']));
        const bad = Buffer.concat([
          Buffer.from(join(t.dir, 'm', 'bad')),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('.bin'),
        ]);
        writeFileSync(bad, 'data');
        const e = expectError(run(['commit', '-m', 'v1', '--json']), 'UNSUPPORTED_NAME', 2);
        expect(e.message).toContain('m/bad\\xff\\xfe.bin');
        const plain = run(['commit', '-m', 'v1']);
        expect(plain.stderr).toContain('m/bad\\xff\\xfe.bin');
        expect(existsSync(t.path('.mvm/refs/heads/main'))).toBe(false);
        expectError(run(['status', '--json']), 'UNSUPPORTED_NAME', 2);
      } finally {
        t.cleanup();
      }
    },
  );

  it('__proto__ and constructor are keys and names like any other', () => {
    const { t, run } = initDir({ '__proto__/constructor.bin': 'p' });
    try {
      ok(run(['add', '__proto__']));
      ok(
        run([
          'commit',
          '-m',
          'v1',
          '--meta',
          '__proto__=x',
          '--param',
          'constructor=1',
          '--metric',
          '__proto__=0.5',
          '--metric',
          'toString=1',
        ]),
      );
      const show = json(run(['show', 'v1', '--json']));
      expect(show.version.meta).toEqual(JSON.parse('{"__proto__": "x"}'));
      expect(Object.keys(show.version.meta)).toEqual(['__proto__']);
      expect(show.version.params).toEqual({ constructor: 1 });
      expect(Object.keys(show.version.metrics).sort()).toEqual(['__proto__', 'toString']);
      expect(Object.keys(show.version.files)).toEqual(['__proto__/constructor.bin']);
      ok(run(['annotate', 'v1', '--metric', '__proto__=0.7']));
      expect(json(run(['best', '--metric', '__proto__', '--json'])).value).toBe(0.7);
      expect(json(run(['log', '--where', 'meta.__proto__ = "x" and metrics.__proto__ > 0.6', '--json']))).toHaveLength(
        1,
      );
      expect(json(run(['log', '--where', 'metrics.__proto__ > 0.8', '--json']))).toHaveLength(0);
      rmSync(t.path('__proto__'), { recursive: true });
      ok(run(['checkout', 'v1', '--force']));
      expect(readFileSync(t.path('__proto__/constructor.bin'), 'utf8')).toBe('p');
    } finally {
      t.cleanup();
    }
  });

  it(
    'control characters in names and messages are printed escaped; JSON and the file on disk keep them ' + 'exactly',
    () => {
      const name = 'm/e\x1b[31mvil\x07.bin';
      const t = testdir();
      try {
        mkdirSync(t.path('m'));
        write(t.path(name), 'x');
        const run = (args: string[]) => mvm(args, { cwd: t.dir });
        ok(run(['init']));
        ok(run(['add', 'm']));
        ok(run(['commit', '-m', 'msg \x1b]0;title\x07 end']));
        const shown = run(['show', 'v1']);
        ok(shown);
        expect(shown.stdout).not.toMatch(/[\x1b\x07]/);
        expect(shown.stdout).toContain('m/e\\x1b[31mvil\\x07.bin');
        expect(shown.stdout).toContain('msg \\x1b]0;title\\x07 end');
        expect(run(['log']).stdout).not.toMatch(/[\x1b\x07]/);
        expect(Object.keys(json(run(['show', 'v1', '--json'])).version.files)).toEqual([name]);
        rmSync(t.path('m'), { recursive: true });
        ok(run(['checkout', 'v1', '--force']));
        expect(readdirSync(t.path('m'))).toEqual(['e\x1b[31mvil\x07.bin']);
      } finally {
        t.cleanup();
      }
    },
  );
});
