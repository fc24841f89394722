import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canExchange, exchangePaths } from '../../../src/storage/exchange.js';

const dir = mkdtempSync(join(tmpdir(), 'mvm-exchange-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** A stand-in for the addon: records its calls, and throws `code` when given one. */
function fake(code?: string) {
  const calls: [string, string][] = [];
  return {
    calls,
    swapSync(a: string, b: string) {
      calls.push([a, b]);
      if (code) throw Object.assign(new Error(code), { code });
    },
  };
}

describe('exchangePaths', () => {
  it('is available on Linux (glibc) and macOS on x64 and arm64, where the addon ships a prebuild', () => {
    // the Linux prebuilds link against glibc: on musl (Alpine) there is none to load
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    const libc = process.platform !== 'linux' || !!header?.glibcVersionRuntime;
    const prebuilt = ['linux', 'darwin'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch);
    expect(canExchange()).toBe(prebuilt && libc);
  });

  it.runIf(canExchange())('swaps two names in one step; a reader of the old file keeps its bytes', () => {
    const a = file('new', 'new bytes');
    const b = file('old', 'old bytes');
    const inoA = statSync(a).ino;
    const fd = openSync(b, 'r');
    try {
      expect(exchangePaths(a, b)).toBe(true);
      expect(readFileSync(b, 'utf8')).toBe('new bytes');
      expect(readFileSync(a, 'utf8')).toBe('old bytes');
      // the same inodes under each other's names: nothing was copied
      expect(statSync(b).ino).toBe(inoA);
      const seen = Buffer.alloc(9);
      readSync(fd, seen, 0, 9, 0);
      expect(seen.toString()).toBe('old bytes');
    } finally {
      closeSync(fd);
    }
  });

  it.runIf(canExchange())('throws what the kernel says for a missing path, with its code, changing nothing', () => {
    const a = file('lonely', 'x');
    let err: unknown;
    try {
      exchangePaths(a, join(dir, 'absent'));
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('ENOENT');
    expect(readFileSync(a, 'utf8')).toBe('x');
    expect(existsSync(join(dir, 'absent'))).toBe(false);
  });

  it.runIf(canExchange() && existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(dir).dev)(
    'answers false for paths on two filesystems, so the caller copies instead',
    () => {
      const shm = mkdtempSync('/dev/shm/mvm-exchange-');
      try {
        const a = join(shm, 'a');
        writeFileSync(a, 'a');
        const b = file('b', 'b');
        expect(exchangePaths(a, b)).toBe(false);
        expect([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')]).toEqual(['a', 'b']);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    },
  );

  it('answers false when the filesystem or kernel cannot exchange, and throws other errors', () => {
    for (const code of ['EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV']) {
      const b = fake(code);
      expect(exchangePaths('/x/a', '/x/b', b)).toBe(false);
      expect(b.calls).toEqual([['/x/a', '/x/b']]);
    }
    expect(() => exchangePaths('/x/a', '/x/b', fake('EACCES'))).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(exchangePaths('/x/a', '/x/b', null)).toBe(false);
  });

  it('never hands the addon a path it would cut short: one longer than its buffer, or holding a NUL', () => {
    const b = fake();
    expect(exchangePaths(`/${'d/'.repeat(2100)}a`, '/x/b', b)).toBe(false);
    expect(exchangePaths('/x/a', '/x/b\0/c', b)).toBe(false);
    // four bytes a character in UTF-8: 1,100 of them (4,400 bytes) overflow the buffer, 2,200 UTF-16 units do not
    expect(exchangePaths(`/x/${'😀'.repeat(1100)}`, '/x/b', b)).toBe(false);
    expect(b.calls).toEqual([]);
    expect(exchangePaths('/x/a', '/x/b', b)).toBe(true);
    expect(b.calls).toEqual([['/x/a', '/x/b']]);
  });
});
