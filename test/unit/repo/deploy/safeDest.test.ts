import { describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeDestination } from '../../../../src/repo/deploy/safeDest.js';
import { MvmError } from '../../../../src/errors.js';

function codeOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return e instanceof MvmError ? e.code : 'not an MvmError';
  }
}

describe('safeDestination', () => {
  it(
    'makes real folders under the root, and refuses paths that climb out and folders that are symlinks or ' + 'files',
    () => {
      const t = mkdtempSync(join(tmpdir(), 'mvm-safedest-'));
      try {
        const root = join(t, 'root');
        mkdirSync(root);
        mkdirSync(join(t, 'outside'));
        expect(safeDestination(root, 'a/b/c.bin')).toBe(join(root, 'a/b/c.bin'));
        expect(lstatSync(join(root, 'a/b')).isDirectory()).toBe(true);
        // a backslash is a name like any other where the system can hold it: one file, not a folder
        if (process.platform !== 'win32') expect(safeDestination(root, 'a\\x')).toBe(join(root, 'a\\x'));
        expect(safeDestination(root, 'top.bin')).toBe(join(root, 'top.bin'));
        for (const bad of [
          '../x',
          'a/../../x',
          '/etc/x',
          '.git/hooks/x',
          'a/.MVM/x',
          'a//x',
          './x',
          ...(process.platform === 'win32' ? ['a\\x'] : []),
        ])
          expect(
            codeOf(() => safeDestination(root, bad)),
            bad,
          ).toBe('UNSAFE_VERSION');
        symlinkSync(join(t, 'outside'), join(root, 'link'));
        writeFileSync(join(root, 'file'), 'x');
        expect(codeOf(() => safeDestination(root, 'link/w.bin'))).toBe('SYMLINK_IN_PATH');
        expect(codeOf(() => safeDestination(root, 'link/deeper/w.bin'))).toBe('SYMLINK_IN_PATH');
        expect(codeOf(() => safeDestination(root, 'file/w.bin'))).toBe('SYMLINK_IN_PATH');
        expect(existsSync(join(t, 'outside/deeper'))).toBe(false);
      } finally {
        rmSync(t, { recursive: true, force: true });
      }
    },
  );
});
