// init: a new repository in the current folder, its settings in .mvm/config.json, and what a bad setting leaves.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';

describe('init', () => {
  it('creates .mvm/ with HEAD on main and no version; the text names the folder and the chunk size', () => {
    const t = testdir();
    try {
      const text = ok(mvm(['init'], { cwd: t.dir })).stdout;
      expect(text).toBe(`Initialized empty mvm repository in ${t.path('.mvm')} (chunk size 1.00 MiB)\n`);
      expect(readFileSync(t.path('.mvm/HEAD'), 'utf8').trim()).toBe('ref: refs/heads/main');
      expect(JSON.parse(readFileSync(t.path('.mvm/config.json'), 'utf8'))).toMatchObject({
        format: 2,
        chunkSize: 1 << 20,
        compressionLevel: 3,
        fsync: 'refs',
      });
      // outside git the .gitignore is written all the same, holding only .mvm/
      expect(readFileSync(t.path('.gitignore'), 'utf8').split('\n')).toContain('/.mvm/');
      const st = json(mvm(['status', '--json'], { cwd: t.dir }));
      expect(st).toMatchObject({ branch: 'main', head: null, headNumber: null, tracked: [], clean: true });
      expect(json(mvm(['fsck', '--json'], { cwd: t.dir }))).toMatchObject({ ok: true, versions: 0, problems: [] });
    } finally {
      t.cleanup();
    }
  });

  it('--chunk-size, --level and --fsync are recorded; --json prints where and with which chunk size', () => {
    const t = testdir();
    try {
      const r = json(
        mvm(['init', '--chunk-size', '65536', '--level', '0', '--fsync', 'all', '--json'], { cwd: t.dir }),
      );
      expect(r).toEqual({ root: t.dir, mvmDir: t.path('.mvm'), chunkSize: 65536, gitignoreUpdated: true });
      expect(JSON.parse(readFileSync(t.path('.mvm/config.json'), 'utf8'))).toMatchObject({
        chunkSize: 65536,
        compressionLevel: 0,
        fsync: 'all',
      });
    } finally {
      t.cleanup();
    }
  });

  it('a bad setting is BAD_VALUE or BAD_ARGUMENT (exit 2) and creates nothing; a second init changes nothing', () => {
    const t = testdir();
    try {
      const small = expectError(mvm(['init', '--chunk-size', '12', '--json'], { cwd: t.dir }), 'BAD_VALUE', 2);
      expect(small.data.chunkSize).toBe(12);
      expect(expectError(mvm(['init', '--level', '99', '--json'], { cwd: t.dir }), 'BAD_VALUE', 2).data.level).toBe(99);
      // a value outside --fsync's choices: yargs words this message over two lines, mvm prints one
      const fsync = mvm(['init', '--fsync', 'sometimes', '--json'], { cwd: t.dir });
      expect(fsync.exitCode).toBe(2);
      expect(JSON.parse(fsync.stdout).error).toMatchObject({ code: 'BAD_ARGUMENT', exitCode: 2 });
      expect(fsync.stderr).toMatch(/^mvm: Invalid values: Argument: fsync, Given: "sometimes", Choices: .*\n$/);
      expect(fsync.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(readdirSync(t.dir)).toEqual([]);

      ok(mvm(['init', '--chunk-size', '4096'], { cwd: t.dir }));
      const config = readFileSync(t.path('.mvm/config.json'), 'utf8');
      const again = expectError(
        mvm(['init', '--chunk-size', '8192', '--json'], { cwd: t.dir }),
        'ALREADY_A_REPOSITORY',
        3,
      );
      expect(again.data.path).toBe(t.dir);
      expect(readFileSync(t.path('.mvm/config.json'), 'utf8')).toBe(config);
      expect(existsSync(t.path('.mvm/refs/heads/main'))).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});
