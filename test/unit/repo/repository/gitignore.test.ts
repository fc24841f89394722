import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ignoreLine } from '../../../../src/repo/repository/gitignore.js';
import { testdir } from '../../../helpers/cli.js';

describe('.gitignore lines for tracked paths', () => {
  it('match the tracked file alone, whatever characters its name holds (checked with git itself)', () => {
    const names = ['a\\b', 'x*', 'q?', '[ab]', '!bang', '#hash', 'trail ', 'plain', 'sp ace', 'é'];
    const t = testdir();
    try {
      expect(spawnSync('git', ['init', '-q'], { cwd: t.dir }).status).toBe(0);
      writeFileSync(join(t.dir, '.gitignore'), names.map((n) => ignoreLine(n, false)).join('\n') + '\n');
      const ignored = (path: string) =>
        spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: t.dir }).status === 0;
      for (const n of names) expect(ignored(n), n).toBe(true);
      // and nothing else: the names as git would have read them unescaped
      for (const other of ['ab', 'xy', 'q1', 'a', 'trail', 'sp']) expect(ignored(other), other).toBe(false);
      expect(ignoreLine('models', true)).toBe('/models/');
    } finally {
      t.cleanup();
    }
  });
});
