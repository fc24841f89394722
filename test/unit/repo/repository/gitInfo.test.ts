import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultAuthor, defaultAuthorAsync } from '../../../../src/repo/repository/gitInfo.js';

const dir = mkdtempSync(join(tmpdir(), 'mvm-gitinfo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// the author must come from git here: no MVM_AUTHOR, and a user config that does not exist
const saved = { author: process.env.MVM_AUTHOR, config: process.env.MVM_CONFIG };
beforeEach(() => {
  delete process.env.MVM_AUTHOR;
  process.env.MVM_CONFIG = join(dir, 'no-config.json');
});
afterEach(() => {
  for (const [k, v] of [
    ['MVM_AUTHOR', saved.author],
    ['MVM_CONFIG', saved.config],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, stdio: 'ignore' });

describe('defaultAuthor and defaultAuthorAsync', () => {
  it("give git's user.name <user.email> of the repository around the folder, the same both ways", async () => {
    const repo = join(dir, 'repo');
    git(dir, ['init', '-q', repo]);
    git(repo, ['config', 'user.name', 'Ada Lovelace']);
    git(repo, ['config', 'user.email', 'ada@example.com']);
    expect(await defaultAuthorAsync(repo)).toBe('Ada Lovelace <ada@example.com>');
    expect(defaultAuthor(repo)).toBe('Ada Lovelace <ada@example.com>');
    git(repo, ['config', '--unset', 'user.email']);
    expect(await defaultAuthorAsync(repo)).toBe(defaultAuthor(repo));
  });

  it('take --author, then MVM_AUTHOR, before git', async () => {
    const repo = join(dir, 'repo');
    expect(await defaultAuthorAsync(repo, '  Grace <g@example.com> ')).toBe('Grace <g@example.com>');
    process.env.MVM_AUTHOR = 'Env Author';
    expect(await defaultAuthorAsync(repo)).toBe('Env Author');
    expect(defaultAuthor(repo)).toBe('Env Author');
  });

  it('fall back to the login name where git has no user (no repository, no global or system config)', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'mvm-gitinfo-none-'));
    const home = {
      HOME: process.env.HOME,
      XDG: process.env.XDG_CONFIG_HOME,
      GCG: process.env.GIT_CONFIG_GLOBAL,
      NOSYS: process.env.GIT_CONFIG_NOSYSTEM,
    };
    process.env.HOME = outside;
    process.env.XDG_CONFIG_HOME = outside;
    process.env.GIT_CONFIG_GLOBAL = join(outside, 'none');
    process.env.GIT_CONFIG_NOSYSTEM = '1';
    try {
      expect(await defaultAuthorAsync(outside)).toBe(userInfo().username);
    } finally {
      for (const [k, v] of [
        ['HOME', home.HOME],
        ['XDG_CONFIG_HOME', home.XDG],
        ['GIT_CONFIG_GLOBAL', home.GCG],
        ['GIT_CONFIG_NOSYSTEM', home.NOSYS],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
