// hooks install: git hooks that run mvm, and what they do when git runs them.
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { GIT_ENV, git } from '../../helpers/git.js';

describe('hooks', () => {
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
          expect(hooks.map((h: { outcome: string }) => h.outcome)).toEqual(['installed', 'installed', 'installed']);
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
