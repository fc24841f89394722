/** The help text of every command, the exit-code document it points to, and shell completion. */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { mvm } from '../../helpers/cli.js';
import { ok } from '../../helpers/assertions.js';
import { runCleanups, tmp } from '../../helpers/story.js';

afterEach(runCleanups);

describe('help', () => {
  const KNOWN = [
    'init',
    'add',
    'rm',
    'status',
    'commit',
    'log',
    'show',
    'diff',
    'checkout',
    'branch',
    'tag',
    'deploy',
    'rollback',
    'fsck',
  ];

  /** The commands `mvm --help` lists. */
  function listed(help: string): string[] {
    const section = help.slice(help.indexOf('Commands:'), help.indexOf('Options:'));
    return [...section.matchAll(/^ {2}mvm ([a-z][\w-]*)/gm)].map((m) => m[1]!);
  }

  it('mvm --help lists every command', () => {
    const t = tmp();
    const r = ok(mvm(['--help'], { cwd: t.dir }));
    expect(r.stdout).toMatch(/^mvm <command>/);
    expect(listed(r.stdout)).toEqual(expect.arrayContaining(KNOWN));
    // no repository is needed, and none was created
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('mvm --help shows an example', () => {
    const t = tmp();
    const r = ok(mvm(['--help'], { cwd: t.dir }));
    expect(r.stdout).toContain('Examples:');
  });

  it('the exit-code document that mvm --help points to exists', () => {
    const t = tmp();
    const r = ok(mvm(['--help'], { cwd: t.dir }));
    const m = /listed in (docs\/[\w-]+\.md)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(existsSync(new URL(`../../../${m![1]}`, import.meta.url)), m![1]).toBe(true);
  });

  it('mvm <command> --help prints usage and at least one example for every command', () => {
    const t = tmp();
    const commands = listed(ok(mvm(['--help'], { cwd: t.dir })).stdout);
    expect(commands.length).toBeGreaterThanOrEqual(KNOWN.length);
    // `completion` is yargs' own: it prints the script (tested below)
    for (const c of commands.filter((x) => x !== 'completion')) {
      const r = ok(mvm([c, '--help'], { cwd: t.dir }));
      expect(r.stdout, c).toMatch(new RegExp(`^mvm ${c}\\b`));
      expect(r.stdout, c).toContain('Examples:');
      const examples = r.stdout.slice(r.stdout.indexOf('Examples:'));
      expect(examples, c).toMatch(new RegExp(`^  mvm ${c}\\b`, 'm'));
    }
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('mvm completion prints a bash script, or a zsh one from zsh, that asks mvm for the words', () => {
    const t = tmp();
    const bash = ok(mvm(['completion'], { cwd: t.dir, env: { SHELL: '/bin/bash', ZSH_NAME: '' } })).stdout;
    expect(bash).toContain('complete -o bashdefault -o default -F _mvm_yargs_completions mvm');
    expect(bash).toContain('--get-yargs-completions');
    const zsh = ok(mvm(['completion'], { cwd: t.dir, env: { SHELL: '/usr/bin/zsh' } })).stdout;
    expect(zsh).toContain('compdef _mvm_yargs_completions mvm');
    // what the scripts call: every command name, and a command's options
    const words = ok(mvm(['--get-yargs-completions', 'mvm', ''], { cwd: t.dir })).stdout.split('\n');
    for (const c of ['deploy', 'promote', 'export', 'get', 'commit']) expect(words).toContain(c);
    const opts = ok(mvm(['--get-yargs-completions', 'mvm', 'deploy', '--'], { cwd: t.dir })).stdout.split('\n');
    expect(opts).toContain('--env');
    expect(opts).toContain('--require');
  });
});
