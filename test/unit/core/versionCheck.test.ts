import { describe, expect, it } from 'vitest';
import { assertSafeVersion, pathProblem, versionProblems } from '../../../src/core/versionCheck.js';

const ID = 'a'.repeat(64);
const entry = (mode = 0o644) => ({ file: ID, mode, size: 1 });

describe('version safety', () => {
  it('accepts relative, normalised paths with permission-only modes', () => {
    expect(
      versionProblems({
        files: { 'models/a.bin': entry(), 'b.txt': entry(0o755), '.hidden/x': entry(), 'a..b': entry() },
      }),
    ).toEqual([]);
  });

  it.each([
    ['../escaped.txt', '..'],
    ['models/../../x', '..'],
    ['/etc/passwd', 'absolute'],
    ['./a', "'.'"],
    ['a//b', 'empty'],
    ['a/', 'empty'],
    ['', 'empty'],
    ['.git/hooks/post-checkout', '.git'],
    ['sub/.GIT/config', '.GIT'],
    ['.mvm/refs/heads/main', '.mvm'],
    ['x\0y', 'NUL'],
  ])('refuses %j (%s)', (path, why) => {
    expect(pathProblem(path)).toContain(why);
    expect(versionProblems({ files: { [path]: entry() } })).toHaveLength(1);
  });

  it(
    'a backslash or a drive letter is a name like any other on Linux and macOS, and refused (naming the file) only ' +
      'on Windows',
    () => {
      for (const path of ['a\\b', 'models\\w.bin', '..\\x', 'C:/x', 'c:x']) {
        expect(pathProblem(path, 'linux')).toBeNull();
        expect(pathProblem(path, 'darwin')).toBeNull();
        expect(pathProblem(path, 'any')).toBeNull();
        expect(pathProblem(path, 'win32')).toMatch(/backslash|drive/);
        expect(versionProblems({ files: { [path]: entry() } }, 'win32')[0]).toContain(JSON.stringify(path));
      }
      let err: unknown;
      try {
        assertSafeVersion({ files: { 'a\\b': entry() } }, ID, 'win32');
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'UNSAFE_VERSION' });
      expect((err as Error).message).toContain('"a\\\\b"');
      expect((err as { data: { hint: string } }).data.hint).toContain('cannot hold');
    },
  );

  it('refuses setuid, setgid and sticky bits, bad entries, and a path that is both a file and a folder', () => {
    expect(versionProblems({ files: { a: entry(0o4755) } })[0]).toContain('permission bits');
    expect(versionProblems({ files: { a: entry(0o2755) } })[0]).toContain('permission bits');
    expect(versionProblems({ files: { a: entry(0o1777) } })[0]).toContain('permission bits');
    expect(versionProblems({ files: { a: { file: 'zz', mode: 0o644, size: 1 } } })[0]).toContain('file id');
    expect(versionProblems({ files: { a: entry(), 'a/b': entry() } })[0]).toContain('both a file and the folder');
  });

  it('assertSafeVersion throws UNSAFE_VERSION with every problem', () => {
    let err: unknown;
    try {
      assertSafeVersion({ files: { '../x': entry(), y: entry(0o6755) } }, ID);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'UNSAFE_VERSION', exitCode: 7 });
    expect((err as { data: { problems: string[] } }).data.problems).toHaveLength(2);
  });
});
