// hooks install: git hooks that run mvm, and what they do when git runs them.
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { GIT_ENV, git } from '../../helpers/git.js';

describe('hooks', () => {
  it('install writes three executable hooks running mvm here; again it updates them, keeps one not its own', () => {
    const t = testdir();
    try {
      git(t.dir, ['init', '-q', '-b', 'main']);
      ok(mvm(['init'], { cwd: t.dir }));
      const text = ok(mvm(['hooks', 'install'], { cwd: t.dir })).stdout;
      const hookPath = (h: string) => t.path(`.git/hooks/${h}`);
      expect(text).toBe(
        ['post-checkout', 'post-merge', 'pre-push'].map((h) => `installed ${hookPath(h)}\n`).join('') +
          `installed ${t.path('.gitattributes')} (the merge driver for mvm.lock: commit it)\n`,
      );
      for (const [hook, line] of [
        ['post-checkout', 'mvm checkout --lock --quiet || true'],
        ['post-merge', 'mvm checkout --lock --quiet || true'],
        ['pre-push', 'mvm push --quiet || true'],
      ] as const) {
        expect(readFileSync(hookPath(hook), 'utf8')).toBe(
          `#!/bin/sh\n# installed by mvm hooks install\ncd '${t.dir}' && ${line}\n`,
        );
        expect(statSync(hookPath(hook)).mode & 0o111).toBe(0o111);
      }
      const again = json(mvm(['hooks', 'install', '--json'], { cwd: t.dir }));
      expect(again.map((h: { outcome: string }) => h.outcome)).toEqual(['updated', 'updated', 'updated', 'updated']);
      writeFileSync(hookPath('pre-push'), '#!/bin/sh\necho mine\n');
      const kept = json(mvm(['hooks', 'install', '--json'], { cwd: t.dir }));
      expect(kept[2]).toEqual({
        hook: 'pre-push',
        path: hookPath('pre-push'),
        outcome: 'kept',
        line: 'mvm push --quiet || true',
      });
      expect(readFileSync(hookPath('pre-push'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
      expect(ok(mvm(['hooks', 'install'], { cwd: t.dir })).stdout).toContain(
        `kept ${hookPath('pre-push')} (not mvm's): add the line 'mvm push --quiet || true' to it`,
      );
    } finally {
      t.cleanup();
    }
  });

  it('outside git is NOT_A_REPOSITORY with a hint; an action other than install is BAD_ARGUMENT', () => {
    const t = testdir();
    try {
      ok(mvm(['init'], { cwd: t.dir }));
      const e = expectError(mvm(['hooks', 'install', '--json'], { cwd: t.dir }), 'NOT_A_REPOSITORY', 3);
      expect(e.data.hint).toBe('git init first; the hooks are git hooks');
      expect(existsSync(t.path('.git'))).toBe(false);
      // a value outside the action's choices (yargs words this message over two lines)
      const remove = mvm(['hooks', 'remove', '--json'], { cwd: t.dir });
      expect(remove.exitCode).toBe(2);
      expect(JSON.parse(remove.stdout).error).toMatchObject({ code: 'BAD_ARGUMENT', exitCode: 2 });
    } finally {
      t.cleanup();
    }
  });

  it(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the folder name is a shell injection, not a template
    'hooks install quotes the workspace path: a folder named ml$(touch${IFS}PWNED) runs nothing when git runs the ' +
      'hook',
    () => {
      const t = testdir();
      try {
        // a stand-in `mvm` on PATH that records where the hook ran it
        const bin = t.path('bin');
        mkdirSync(bin);
        writeFileSync(join(bin, 'mvm'), '#!/bin/sh\npwd >> "$MVM_HOOK_SEEN"\n');
        chmodSync(join(bin, 'mvm'), 0o755);
        const seen = t.path('seen.txt');
        const env = { ...GIT_ENV, PATH: `${bin}:${process.env.PATH}`, MVM_HOOK_SEEN: seen };
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell injection in a folder name, on purpose
        for (const name of ['ml$(touch${IFS}PWNED)', 'it\'s `touch PWNED2` "$(touch PWNED3)"']) {
          const root = t.path(name);
          mkdirSync(root);
          git(root, ['init', '-q', '-b', 'main']);
          write(join(root, 'train.py'), 'print(1)\n');
          git(root, ['add', 'train.py']);
          git(root, ['commit', '-q', '-m', 'one']);
          ok(mvm(['init'], { cwd: root }));
          const hooks = json(mvm(['hooks', 'install', '--json'], { cwd: root }));
          expect(hooks.map((h: { outcome: string }) => h.outcome)).toEqual([
            'installed',
            'installed',
            'installed',
            'installed',
          ]);
          rmSync(seen, { force: true });
          git(root, ['checkout', '-q', '-b', 'other'], env);
          git(root, ['checkout', '-q', 'main'], env);
          for (const pwned of ['PWNED', 'PWNED2', 'PWNED3']) {
            expect(existsSync(join(root, pwned)), pwned).toBe(false);
            expect(existsSync(t.path(pwned)), pwned).toBe(false);
          }
          // the hook did run mvm, in the workspace
          expect(readFileSync(seen, 'utf8')).toBe(`${root}\n${root}\n`);
        }
      } finally {
        t.cleanup();
      }
    },
  );
});
