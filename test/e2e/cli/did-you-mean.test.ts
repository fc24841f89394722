/**
 * "Did you mean" for every misspelled name the command line takes, end to end through the real CLI: remotes
 * (push, pull, fetch, remote remove), branches (push, pull, clone --rev, branch -d), tags (tag -d), revisions
 * (checkout, log, show), options (`log --onelin`, `mvm --verison`, `commit --metrc`). Each error keeps its code
 * and lists the closest names in data.suggestions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, ok } from '../../helpers/assertions.js';
import { BACKENDS, makeOrigin } from '../../helpers/remotes.js';

const folder = BACKENDS.find((b) => b.name === 'folder')!;
let t: ReturnType<typeof testdir>;
let a: ReturnType<typeof makeOrigin>;
let url: string;

beforeAll(() => {
  t = testdir();
  url = folder.url(t, 'origin');
  a = makeOrigin(folder, t, url);
  ok(a.run(['push']));
  ok(a.run(['tag', 'release']));
});
afterAll(() => t.cleanup());

describe.concurrent('did you mean', () => {
  it('a misspelled remote: UNKNOWN_REMOTE with the closest remotes (push, pull, fetch)', () => {
    for (const args of [
      ['push', 'orgin'],
      ['pull', 'orgin'],
      ['fetch', 'orgin'],
      ['push', 'orgin', 'main'],
    ]) {
      const e = expectError(a.run([...args, '--json']), 'UNKNOWN_REMOTE', 4);
      expect(e.message, args.join(' ')).toBe("no remote named 'orgin' (did you mean 'origin'?)");
      expect(e.data.suggestions).toEqual(['origin']);
      expect(e.data.remotes).toEqual(['origin']);
    }
    // nothing close: no suggestion
    expect(expectError(a.run(['push', 'backup', '--json']), 'UNKNOWN_REMOTE', 4).data.suggestions).toBeUndefined();
  });

  it('a misspelled branch to push or pull, or to clone with --rev: UNKNOWN_REVISION with the closest', () => {
    const push = expectError(a.run(['push', 'origin', 'mian', '--json']), 'UNKNOWN_REVISION', 4);
    expect(push.message).toContain("(did you mean 'main'?)");
    expect(push.data.suggestions).toEqual(['main']);
    const pull = expectError(a.run(['pull', 'origin', 'mian', '--json']), 'UNKNOWN_REVISION', 4);
    expect(pull.message).toContain("(did you mean 'main'?)");
    expect(pull.data.suggestions).toEqual(['main']);
    const clone = expectError(
      mvm(['clone', url, 'c', '--rev', 'mian', '--json'], { cwd: t.dir }),
      'UNKNOWN_REVISION',
      4,
    );
    expect(clone.data.suggestions).toEqual(['origin/main']);
    expect(clone.message).toContain("did you mean 'origin/main'?");
  });

  it('a misspelled branch or tag to check out or log: UNKNOWN_REVISION with the closest refs', () => {
    for (const [cmd, name, near] of [
      ['checkout', 'mian', 'main'],
      ['log', 'mian', 'main'],
      ['log', 'relase', 'release'],
      ['show', 'relaese', 'release'],
    ] as const) {
      const e = expectError(a.run([cmd, name, '--json']), 'UNKNOWN_REVISION', 4);
      expect(e.data.suggestions, `${cmd} ${name}`).toEqual([near]);
      expect(e.message).toContain(`did you mean '${near}'?`);
    }
    // deleting one: branches for branch -d, tags for tag -d
    expect(expectError(a.run(['branch', '-d', 'mian', '--json']), 'UNKNOWN_REVISION', 4).data.suggestions).toEqual([
      'main',
    ]);
    const tag = expectError(a.run(['tag', '-d', 'relaese', '--json']), 'UNKNOWN_REVISION', 4);
    expect(tag.data.suggestions).toEqual(['release']);
    expect(expectError(a.run(['remote', 'remove', 'orgin', '--json']), 'UNKNOWN_REMOTE', 4).data.suggestions).toEqual([
      'origin',
    ]);
  });

  it("a misspelled option: BAD_ARGUMENT naming the command's closest options", () => {
    const log = expectError(a.run(['log', '--onelin', '--json']), 'BAD_ARGUMENT', 2);
    expect(log.message).toBe('unknown option --onelin (did you mean --oneline?)');
    expect(log.data).toMatchObject({ options: ['--onelin'], suggestions: ['--oneline'], hint: 'see mvm log --help' });
    const version = expectError(a.run(['--verison', '--json']), 'BAD_ARGUMENT', 2);
    expect(version.data.suggestions).toEqual(['--version']);
    const commit = expectError(a.run(['commit', '-m', 'x', '--metrc', 'acc=1', '--json']), 'BAD_ARGUMENT', 2);
    expect(commit.data.suggestions).toContain('--metric');
    // two at once, each with its own; and an option of another command is not offered
    const two = expectError(a.run(['log', '--onelin', '--grap', '--json']), 'BAD_ARGUMENT', 2);
    expect(two.message).toBe(
      'unknown options --onelin (did you mean --oneline?), --grap (did you mean --graph or --grep?)',
    );
    expect(expectError(a.run(['status', '--metric', '--json']), 'BAD_ARGUMENT', 2).data.suggestions).toBeUndefined();
    // an extra word is not an option: yargs' own message stands
    expect(expectError(a.run(['status', 'foo', '--json']), 'BAD_ARGUMENT', 2).message).toBe('Unknown argument: foo');
  });
});
