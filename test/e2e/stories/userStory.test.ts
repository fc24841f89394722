/**
 * The whole user story, end to end, through the real CLI (bin/mvm.js) in a
 * fresh git repository: init, add, commit with metadata and metrics, status,
 * log, diff, show, checkout (bit-exact, modes, conflicts, minimal writes),
 * deploy / rollback, fsck, tensor-aware deduplication of a safetensors file,
 * and the help text of every command.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mvm, randomBytes, testdir, type RunResult } from '../../helpers/cli.js';
import { writeSafetensors, type SafetensorsTensor } from '../../helpers/modelWriters.js';
import { ok, json, expectError, write } from '../../helpers/assertions.js';

const CHUNK = 4096;
const HEX64 = /^[0-9a-f]{64}$/;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A temp folder removed after the test. */
function tmp(): ReturnType<typeof testdir> {
  const t = testdir();
  cleanups.push(t.cleanup);
  return t;
}

function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** A copy of `buf` with `patch` written at `offset`. */
function patched(buf: Buffer, offset: number, patch: Buffer): Buffer {
  const out = Buffer.from(buf);
  patch.copy(out, offset);
  return out;
}

// ---------------------------------------------------------------- the story fixture

const MODEL_V1 = randomBytes(16 * CHUNK, 1); // 16 chunks of 4096
// v2 touches exactly two chunks of the model: chunk 3 (100 bytes inside it) and the last byte of chunk 10
const MODEL_V2 = patched(
  patched(MODEL_V1, 3 * CHUNK + 50, randomBytes(100, 77)),
  10 * CHUNK + CHUNK - 1,
  Buffer.from([MODEL_V1[10 * CHUNK + CHUNK - 1]! ^ 0xff]),
);
const TOKENIZER = Buffer.from(JSON.stringify({ vocab: { a: 1, b: 2, c: 3 }, merges: ['a b', 'b c'] }, null, 2));
const CONVERT = Buffer.from('#!/bin/sh\necho converting the checkpoint\n');
const HEAD_BIN = randomBytes(5000, 9); // 2 chunks; added in v2
const AUTHOR = 'Ada Lovelace <ada@example.com>';

interface Story {
  dir: string;
  path: (p: string) => string;
  run: (args: string[]) => RunResult;
  v1: string;
  v2: string;
  gitCommit: string;
}

/**
 * A git repository with an mvm repository holding:
 *   v1 "baseline": models/model.bin (0644), models/tokenizer.json (0644), models/convert.sh (0755)
 *   v2 "lr 3e-4":  model.bin with 2 chunks changed, convert.sh chmod 0700, models/extra/head.bin added
 * The author comes from git's user.name / user.email (MVM_AUTHOR is cleared).
 */
function makeStory(opts: { stopAfterV1?: boolean; t?: ReturnType<typeof testdir> } = {}): Story {
  const t = opts.t ?? tmp();
  const run = (args: string[]) => mvm(args, { cwd: t.dir, env: { MVM_AUTHOR: '' } });
  git(t.dir, ['init', '-q', '-b', 'gitmain']);
  git(t.dir, ['config', 'user.name', 'Ada Lovelace']);
  git(t.dir, ['config', 'user.email', 'ada@example.com']);
  write(t.path('train.py'), 'print("train")\n');
  git(t.dir, ['add', 'train.py']);
  git(t.dir, ['commit', '-q', '-m', 'training code']);

  write(t.path('models/model.bin'), MODEL_V1, 0o644);
  write(t.path('models/tokenizer.json'), TOKENIZER, 0o644);
  write(t.path('models/convert.sh'), CONVERT, 0o755);
  ok(run(['init', '--chunk-size', String(CHUNK)]));
  ok(run(['add', 'models/']));
  git(t.dir, ['add', '.gitignore']);
  git(t.dir, ['commit', '-q', '-m', 'ignore models']);
  const gitCommit = git(t.dir, ['rev-parse', 'HEAD']);
  const c1 = json(
    run(['commit', '-m', 'baseline', '--meta', 'dataset=imagenet-2024', '--metric', 'accuracy=0.91', '--json']),
  );
  const story: Story = { dir: t.dir, path: t.path, run, v1: c1.id, v2: '', gitCommit };
  if (opts.stopAfterV1) return story;
  write(t.path('models/model.bin'), MODEL_V2);
  chmodSync(t.path('models/convert.sh'), 0o700);
  write(t.path('models/extra/head.bin'), HEAD_BIN, 0o644);
  story.v2 = json(run(['commit', '-m', 'lr 3e-4', '--metric', 'accuracy=0.93', '--json'])).id;
  return story;
}

// The two-version story is made once and copied for each test that starts from it
// (spawning the CLI is the slow part); copies get new inodes, so the stat cache is cold.
let template: ReturnType<typeof testdir>;
let templateStory: Story;
beforeAll(() => {
  template = testdir();
  templateStory = makeStory({ t: template });
});
afterAll(() => template?.cleanup());

/** A fresh copy of the two-version story. */
function story(): Story {
  const t = tmp();
  cpSync(template.dir, t.dir, { recursive: true });
  return {
    ...templateStory,
    dir: t.dir,
    path: t.path,
    run: (args) => mvm(args, { cwd: t.dir, env: { MVM_AUTHOR: '' } }),
  };
}

describe('user story', () => {
  it('init creates .mvm/ and ignores it in git; add tracks models/ and ignores it', () => {
    const t = tmp();
    git(t.dir, ['init', '-q']);
    write(t.path('models/model.bin'), MODEL_V1);
    write(t.path('.gitignore'), 'node_modules/\n');

    const init = json(mvm(['init', '--chunk-size', String(CHUNK), '--json'], { cwd: t.dir }));
    expect(init.chunkSize).toBe(CHUNK);
    expect(init.gitignoreUpdated).toBe(true);
    expect(statSync(t.path('.mvm')).isDirectory()).toBe(true);
    expect(JSON.parse(readFileSync(t.path('.mvm/config.json'), 'utf8')).chunkSize).toBe(CHUNK);
    let ignore = readFileSync(t.path('.gitignore'), 'utf8').split('\n');
    expect(ignore).toContain('node_modules/'); // the user's lines are kept
    expect(ignore).toContain('/.mvm/');

    const add = mvm(['add', 'models/'], { cwd: t.dir });
    ok(add);
    expect(add.stdout).toContain('models');
    ignore = readFileSync(t.path('.gitignore'), 'utf8').split('\n');
    expect(ignore).toContain('/models/');
    expect(ignore.filter((l) => l === '/models/')).toHaveLength(1);
    // adding again changes nothing, and does not duplicate the .gitignore line
    const again = json(mvm(['add', 'models', '--json'], { cwd: t.dir }));
    expect(again.changed).toEqual([]);
    expect(again.unchanged).toEqual(['models']);
    expect(again.tracked).toEqual(['models']);
    expect(
      readFileSync(t.path('.gitignore'), 'utf8')
        .split('\n')
        .filter((l) => l === '/models/'),
    ).toHaveLength(1);
    // git really ignores both
    expect(git(t.dir, ['status', '--porcelain', '--untracked-files=all'])).not.toMatch(/models|\.mvm/);

    const st = json(mvm(['status', '--json'], { cwd: t.dir }));
    expect(st.branch).toBe('main');
    expect(st.head).toBeNull();
    expect(st.tracked).toEqual(['models']);
    expect(st.changes).toEqual([{ path: 'models/model.bin', status: 'added' }]);
  });

  it('commit with meta and metrics, status of a modification, second commit stores only the changed chunks', () => {
    const s = makeStory({ stopAfterV1: true });
    expect(s.v1).toMatch(HEX64);
    const clean = json(s.run(['status', '--json']));
    expect(clean.clean).toBe(true);
    expect(clean.changes).toEqual([]);
    expect(clean.headNumber).toBe(1);
    expect(ok(s.run(['status'])).stdout).toMatch(/On branch main \(v1 [0-9a-f]{12}\)/);

    // modify part of the model, change a mode, add a file
    write(s.path('models/model.bin'), MODEL_V2);
    chmodSync(s.path('models/convert.sh'), 0o700);
    write(s.path('models/extra/head.bin'), HEAD_BIN);

    const text = ok(s.run(['status'])).stdout;
    expect(text).toMatch(/^On branch main \(v1 [0-9a-f]{12}\)\nChanges since HEAD:\n/);
    expect(text).toMatch(/^ {2}modified\s+models\/model\.bin$/m);
    expect(text).toMatch(/^ {2}added\s+models\/extra\/head\.bin$/m);
    expect(text).toContain('models/convert.sh'); // its layout is checked in its own test below
    expect(text).not.toContain('tokenizer.json');
    const st = json(s.run(['status', '--json']));
    expect(st.clean).toBe(false);
    expect(st.changes).toEqual([
      { path: 'models/convert.sh', status: 'mode' },
      { path: 'models/extra/head.bin', status: 'added' },
      { path: 'models/model.bin', status: 'modified' },
    ]);
    expect(
      ok(s.run(['status', '--short']))
        .stdout.split('\n')
        .filter(Boolean),
    ).toEqual(['T models/convert.sh', 'A models/extra/head.bin', 'M models/model.bin']);
    expect(s.run(['status', '--exit-code']).exitCode).toBe(1);

    const c2 = json(s.run(['commit', '-m', 'lr 3e-4', '--metric', 'accuracy=0.93', '--json']));
    expect(c2.created).toBe(true);
    expect(c2.number).toBe(2);
    expect(c2.branch).toBe('main');
    expect(c2.files).toBe(4);
    // 2 changed model chunks + the 2 chunks of the new file; nothing else is new
    expect(c2.newChunks).toBe(4);
    expect(c2.newBytes).toBe(2 * CHUNK + HEAD_BIN.length);
    expect(c2.logicalBytes).toBe(MODEL_V2.length + TOKENIZER.length + CONVERT.length + HEAD_BIN.length);

    expect(json(s.run(['status', '--json'])).clean).toBe(true);
    expect(s.run(['status', '--exit-code']).exitCode).toBe(0);
    // committing again with nothing changed makes no version
    const noneRun = s.run(['commit', '-m', 'again', '--json']);
    expect(noneRun.exitCode).toBe(1);
    const none = JSON.parse(noneRun.stdout);
    expect(none.created).toBe(false);
    expect(none.id).toBe(c2.id);
    expect(json<unknown[]>(s.run(['log', '--json']))).toHaveLength(2);
  });

  it('status text keeps the change kind and the path apart for a mode change', () => {
    const s = story();
    chmodSync(s.path('models/convert.sh'), 0o755);
    expect(json(s.run(['status', '--json'])).changes).toEqual([{ path: 'models/convert.sh', status: 'mode' }]);
    const lines = ok(s.run(['status'])).stdout.split('\n');
    // every change line is "  <kind><spaces><path>", as for modified/added/deleted
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}mode changed\s+models\/convert\.sh$/));
  });

  it('log shows v2 then v1 with hash, author, date, message and metrics; --oneline, -n 1, --graph, --json', () => {
    const s = story();
    const text = ok(s.run(['log'])).stdout;
    const i2 = text.indexOf(`version v2 ${s.v2.slice(0, 12)}`);
    const i1 = text.indexOf(`version v1 ${s.v1.slice(0, 12)}`);
    expect(i2).toBeGreaterThanOrEqual(0);
    expect(i1).toBeGreaterThan(i2);
    const block2 = text.slice(i2, i1);
    const block1 = text.slice(i1);
    expect(block2).toContain('(HEAD -> main)');
    expect(block2).toContain(`Author:  ${AUTHOR}`);
    expect(block2).toMatch(/Date: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(block2).toContain('Metrics: accuracy=0.93');
    expect(block2).toContain('    lr 3e-4');
    expect(block1).toContain(`Author:  ${AUTHOR}`);
    expect(block1).toContain('Metrics: accuracy=0.91');
    expect(block1).toContain('    baseline');

    const oneline = ok(s.run(['log', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    expect(oneline).toHaveLength(2);
    expect(oneline[0]).toMatch(new RegExp(`^v2 ${s.v2.slice(0, 12)} .*lr 3e-4.*accuracy=0\\.93`));
    expect(oneline[1]).toMatch(new RegExp(`^v1 ${s.v1.slice(0, 12)} .*baseline.*accuracy=0\\.91`));

    const one = ok(s.run(['log', '-n', '1', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    expect(one).toHaveLength(1);
    expect(one[0]).toContain('v2 ');
    expect(ok(s.run(['log', '-n', '1'])).stdout).not.toContain('baseline');

    const graph = ok(s.run(['log', '--graph', '--oneline']))
      .stdout.trimEnd()
      .split('\n');
    expect(graph).toEqual([expect.stringMatching(/^\* v2 .*lr 3e-4/), expect.stringMatching(/^\* v1 .*baseline/)]);
    const graphFull = ok(s.run(['log', '--graph']))
      .stdout.trimEnd()
      .split('\n');
    expect(graphFull[0]).toMatch(/^\* version v2 /);
    expect(graphFull.filter((l) => l.startsWith('* '))).toHaveLength(2);
    for (const l of graphFull) expect(l).toMatch(/^[*|]/);

    const entries = json<any[]>(s.run(['log', '--json']));
    expect(entries.map((e) => e.number)).toEqual([2, 1]);
    expect(entries.map((e) => e.id)).toEqual([s.v2, s.v1]);
    expect(entries[0]).toMatchObject({
      message: 'lr 3e-4',
      author: AUTHOR,
      metrics: { accuracy: 0.93 },
      parents: [s.v1],
      refs: ['HEAD -> main'],
    });
    expect(entries[1]).toMatchObject({
      message: 'baseline',
      author: AUTHOR,
      metrics: { accuracy: 0.91 },
      meta: { dataset: 'imagenet-2024' },
      parents: [],
    });
    expect(Number.isNaN(Date.parse(entries[0].time))).toBe(false);
    expect(Date.parse(entries[0].time)).toBeGreaterThanOrEqual(Date.parse(entries[1].time));
  });

  it('diff v1 v2 counts the chunks actually changed; diff without arguments compares HEAD with the workspace', () => {
    const s = story();
    const text = ok(s.run(['diff', 'v1', 'v2'])).stdout;
    expect(text).toMatch(/^M models\/model\.bin\s+2 of 16 chunk\(s\) changed, 8\.00 KiB new$/m);
    expect(text).toMatch(/^A models\/extra\/head\.bin/m);
    expect(text).toMatch(/^T models\/convert\.sh\s+mode 755 -> 700$/m);
    expect(text).not.toContain('tokenizer.json');

    const d = json(s.run(['diff', 'v1', 'v2', '--json']));
    expect(d.from).toMatchObject({ id: s.v1, number: 1 });
    expect(d.to).toMatchObject({ id: s.v2, number: 2 });
    const byPath = Object.fromEntries(d.files.map((f: any) => [f.path, f]));
    expect(byPath['models/model.bin']).toMatchObject({
      status: 'modified',
      chunksChanged: 2,
      chunksTotal: 16,
      bytesNew: 2 * CHUNK,
      oldSize: MODEL_V1.length,
      newSize: MODEL_V2.length,
    });
    expect(byPath['models/extra/head.bin']).toMatchObject({
      status: 'added',
      chunksTotal: 2,
      newSize: HEAD_BIN.length,
      oldSize: null,
    });
    expect(byPath['models/convert.sh']).toMatchObject({
      status: 'mode',
      oldMode: 0o755,
      newMode: 0o700,
      chunksChanged: 0,
    });
    expect(byPath['models/tokenizer.json']).toMatchObject({ status: 'unchanged', chunksChanged: 0 });
    expect(d.totals).toEqual({
      added: 1,
      removed: 0,
      modified: 2,
      unchanged: 1,
      chunksChanged: 2 + 2,
      chunksTotal: 16 + 2 + 1 + 1,
      bytesNew: 2 * CHUNK + HEAD_BIN.length,
    });

    // the reverse direction: head.bin removed
    const back = json(s.run(['diff', 'v2', 'v1', '--json']));
    expect(back.files.find((f: any) => f.path === 'models/extra/head.bin').status).toBe('removed');
    expect(back.totals.removed).toBe(1);

    // workspace vs HEAD: clean, then one chunk changed
    const clean = json(s.run(['diff', '--json']));
    expect(clean.to.label).toBe('workspace');
    expect(clean.totals).toMatchObject({ modified: 0, added: 0, removed: 0, chunksChanged: 0 });
    write(s.path('models/model.bin'), patched(MODEL_V2, 7 * CHUNK + 1, Buffer.from('xyz')));
    const w = json(s.run(['diff', '--json']));
    expect(w.from).toMatchObject({ label: 'HEAD', id: s.v2, number: 2 });
    expect(w.to).toMatchObject({ label: 'workspace', id: null });
    expect(w.files.find((f: any) => f.path === 'models/model.bin')).toMatchObject({
      status: 'modified',
      chunksChanged: 1,
      chunksTotal: 16,
      bytesNew: CHUNK,
    });
    expect(w.totals).toMatchObject({ modified: 1, added: 0, removed: 0, chunksChanged: 1 });
    expect(ok(s.run(['diff'])).stdout).toMatch(/^M models\/model\.bin\s+1 of 16 chunk\(s\) changed/m);
    // diff only reads: the workspace change is still uncommitted
    expect(json(s.run(['status', '--json'])).changes).toEqual([{ path: 'models/model.bin', status: 'modified' }]);
  });

  it('show v1 has meta, metrics, files with modes and the git commit it was made at', () => {
    const s = story();
    const r = json(s.run(['show', 'v1', '--json']));
    expect(r.id).toBe(s.v1);
    expect(r.number).toBe(1);
    expect(r.version.meta.dataset).toBe('imagenet-2024');
    expect(r.version.metrics).toEqual({ accuracy: 0.91 });
    expect(r.metrics).toEqual({ accuracy: 0.91 });
    expect(r.version.message).toBe('baseline');
    expect(r.version.author).toBe(AUTHOR);
    expect(r.version.parents).toEqual([]);
    expect(r.version.git).toEqual({ commit: s.gitCommit, dirty: false, branch: 'gitmain' });
    expect(r.version.files['models/model.bin']).toMatchObject({ mode: 0o644, size: MODEL_V1.length });
    expect(r.version.files['models/convert.sh']).toMatchObject({ mode: 0o755, size: CONVERT.length });
    expect(Object.keys(r.version.files).sort()).toEqual([
      'models/convert.sh',
      'models/model.bin',
      'models/tokenizer.json',
    ]);
    expect(r.logicalBytes).toBe(MODEL_V1.length + TOKENIZER.length + CONVERT.length);

    const text = ok(s.run(['show', 'v1'])).stdout;
    expect(text).toContain(`version v1 ${s.v1.slice(0, 12)}`);
    expect(text).toContain(`Git:     ${s.gitCommit.slice(0, 12)} on gitmain`);
    expect(text).toContain('Meta:    dataset=imagenet-2024');
    expect(text).toContain('Metrics: accuracy=0.91');
    expect(text).toMatch(/0755 .*models\/convert\.sh/);
    // default is HEAD
    expect(json(s.run(['show', '--json'])).id).toBe(s.v2);
  });

  it(
    'checkout v1 restores bytes and modes exactly, writes only what differs, and removes files v1 lacks; checkout ' +
      'main brings them back',
    () => {
      const s = story();
      const tokBefore = statSync(s.path('models/tokenizer.json'), { bigint: true });

      const co = json(s.run(['checkout', 'v1', '--json']));
      expect(co).toMatchObject({ id: s.v1, number: 1, branch: null });
      expect(co.written).toEqual(['models/model.bin']);
      expect(co.chmod).toEqual(['models/convert.sh']);
      expect(co.removed).toEqual(['models/extra/head.bin']);
      expect(co.unchanged).toBe(1);
      expect(co.bytesWritten).toBe(MODEL_V1.length);

      expect(readFileSync(s.path('models/model.bin')).equals(MODEL_V1)).toBe(true);
      expect(readFileSync(s.path('models/convert.sh')).equals(CONVERT)).toBe(true);
      expect(readFileSync(s.path('models/tokenizer.json')).equals(TOKENIZER)).toBe(true);
      expect(modeOf(s.path('models/model.bin'))).toBe(0o644);
      expect(modeOf(s.path('models/convert.sh'))).toBe(0o755);
      expect(existsSync(s.path('models/extra/head.bin'))).toBe(false);
      expect(existsSync(s.path('models/extra'))).toBe(false); // the emptied folder goes too
      // the unchanged file was not rewritten
      const tokAfter = statSync(s.path('models/tokenizer.json'), { bigint: true });
      expect(tokAfter.ino).toBe(tokBefore.ino);
      expect(tokAfter.mtimeNs).toBe(tokBefore.mtimeNs);

      const st = json(s.run(['status', '--json']));
      expect(st).toMatchObject({ branch: null, head: s.v1, headNumber: 1, clean: true });
      expect(ok(s.run(['status'])).stdout).toMatch(/HEAD detached at v1 [0-9a-f]{12}/);
      // checking out the same version again writes nothing
      const same = json(s.run(['checkout', 'v1', '--json']));
      expect(same.written).toEqual([]);
      expect(same.removed).toEqual([]);
      expect(same.chmod).toEqual([]);
      expect(same.unchanged).toBe(3);

      const back = json(s.run(['checkout', 'main', '--json']));
      expect(back).toMatchObject({ id: s.v2, number: 2, branch: 'main' });
      expect(back.written.sort()).toEqual(['models/extra/head.bin', 'models/model.bin']);
      expect(back.chmod).toEqual(['models/convert.sh']);
      expect(readFileSync(s.path('models/model.bin')).equals(MODEL_V2)).toBe(true);
      expect(readFileSync(s.path('models/extra/head.bin')).equals(HEAD_BIN)).toBe(true);
      expect(modeOf(s.path('models/extra/head.bin'))).toBe(0o644);
      expect(modeOf(s.path('models/convert.sh'))).toBe(0o700);
      expect(json(s.run(['status', '--json']))).toMatchObject({ branch: 'main', head: s.v2, clean: true });
      expect(ok(s.run(['status'])).stdout).toMatch(/On branch main \(v2 /);
      expect(statSync(s.path('models/tokenizer.json'), { bigint: true }).ino).toBe(tokBefore.ino);
    },
  );

  it('checkout refuses to overwrite uncommitted changes (exit 5) and --force discards them', () => {
    const s = story();
    ok(s.run(['checkout', 'v1']));
    const dirty = patched(MODEL_V1, 0, Buffer.from('local edit'));
    write(s.path('models/model.bin'), dirty);

    const r = s.run(['checkout', 'main', '--json']);
    const err = expectError(r, 'UNCOMMITTED_CHANGES', 5);
    expect(err.data.paths).toEqual(['models/model.bin']);
    // nothing was touched: the edit is still there, head.bin was not restored, HEAD did not move
    expect(readFileSync(s.path('models/model.bin')).equals(dirty)).toBe(true);
    expect(existsSync(s.path('models/extra/head.bin'))).toBe(false);
    expect(modeOf(s.path('models/convert.sh'))).toBe(0o755);
    expect(json(s.run(['status', '--json']))).toMatchObject({ branch: null, head: s.v1 });
    // the same without --json: one error line, nothing on stdout
    const plain = s.run(['checkout', 'main']);
    expect(plain.exitCode).toBe(5);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/^mvm: [^\n]+\n$/);

    const forced = json(s.run(['checkout', 'main', '--force', '--json']));
    expect(forced).toMatchObject({ id: s.v2, branch: 'main' });
    expect(readFileSync(s.path('models/model.bin')).equals(MODEL_V2)).toBe(true);
    expect(json(s.run(['status', '--json'])).clean).toBe(true);

    // a new file inside a tracked folder, where the target has a file of that name, is protected too
    ok(s.run(['checkout', 'v1']));
    write(s.path('models/extra/head.bin'), Buffer.from('my own file'));
    expectError(s.run(['checkout', 'main', '--json']), 'UNCOMMITTED_CHANGES', 5);
    expect(readFileSync(s.path('models/extra/head.bin'), 'utf8')).toBe('my own file');
    ok(s.run(['checkout', 'main', '-f']));
    expect(readFileSync(s.path('models/extra/head.bin')).equals(HEAD_BIN)).toBe(true);
  });

  it('deploy, rollback, deploy history, deployed@{N}', () => {
    const s = story();
    const d2 = json(s.run(['deploy', 'v2', '-m', 'first release', '--json']));
    expect(d2).toMatchObject({ action: 'deploy', from: null, to: s.v2, toNumber: 2, changed: true });
    const d1 = json(s.run(['deploy', 'v1', '--json']));
    expect(d1).toMatchObject({ action: 'deploy', from: s.v2, to: s.v1, toNumber: 1, changed: true });
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v1);
    expect(json(s.run(['show', 'deployed@{1}', '--json'])).id).toBe(s.v2);

    const rb = json(s.run(['rollback', '--json']));
    expect(rb).toMatchObject({ action: 'rollback', from: s.v1, to: s.v2, changed: true });
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v2);
    expect(json(s.run(['show', 'deployed@{1}', '--json'])).id).toBe(s.v1);
    // the stack is [v2] now: v1 was rolled back, so there is nothing earlier
    const again = s.run(['rollback', '--json']);
    expectError(again, 'NO_PREVIOUS_DEPLOYMENT', 4);
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v2);

    const to1 = json(s.run(['rollback', '--to', 'v1', '--json']));
    expect(to1).toMatchObject({ action: 'rollback', from: s.v2, to: s.v1, toNumber: 1 });
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(s.v1);

    const hist = json<any[]>(s.run(['deploy', '--json']));
    expect(hist.map((e) => [e.action, e.toNumber, e.fromNumber])).toEqual([
      ['rollback', 1, 2],
      ['rollback', 2, 1],
      ['deploy', 1, 2],
      ['deploy', 2, null],
    ]);
    expect(hist[3].reason).toBe('first release');
    expect(hist[0].who).toBe(AUTHOR);
    const text = ok(s.run(['deploy']))
      .stdout.trimEnd()
      .split('\n');
    expect(text).toHaveLength(4);
    expect(text[0]).toMatch(/rollback +v1 /);
    expect(text[3]).toMatch(/deploy +v2 .*first release/);
    // log marks the deployed version
    expect(json<any[]>(s.run(['log', '--json'])).find((e) => e.id === s.v1).refs).toContain('deployed');

    // deploying what is deployed changes nothing
    expect(json(s.run(['deploy', 'v1', '--json'])).changed).toBe(false);

    const fsck = json(s.run(['fsck', '--json']));
    expect(fsck.ok).toBe(true);
    expect(fsck.problems).toEqual([]);
    expect(ok(s.run(['fsck'])).stdout).toContain(': ok');
  });

  it('repeated rollbacks walk further back through the deployments, then stop with NO_PREVIOUS_DEPLOYMENT', () => {
    const s = story();
    const v3 = json(s.run(['commit', '-m', 'v3', '--allow-empty', '--json']));
    expect(v3.number).toBe(3);
    const ids = [s.v1, s.v2, v3.id];
    expectError(s.run(['rollback', '--json']), 'NOTHING_DEPLOYED', 4);
    for (const v of ['v1', 'v2', 'v3']) ok(s.run(['deploy', v]));
    expect(json(s.run(['rollback', '--json'])).to).toBe(ids[1]);
    expect(json(s.run(['rollback', '--json'])).to).toBe(ids[0]);
    expectError(s.run(['rollback', '--json']), 'NO_PREVIOUS_DEPLOYMENT', 4);
    expect(json(s.run(['show', 'deployed', '--json'])).id).toBe(ids[0]);
    // a new deploy goes on top of v1, so rolling it back returns to v1
    ok(s.run(['deploy', 'v3']));
    expect(json(s.run(['rollback', '--json'])).to).toBe(ids[0]);
    expect(ok(s.run(['fsck'])).exitCode).toBe(0);
  });

  it('a safetensors file whose header grows (shifting all tensor data) stores only the header chunk again', () => {
    const t = tmp();
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    const tensors: SafetensorsTensor[] = [
      { name: 'model.embed.weight', dtype: 'F32', shape: [32, 64] },
      { name: 'model.layers.0.attn.weight', dtype: 'F32', shape: [64, 64] },
      { name: 'model.layers.1.attn.weight', dtype: 'F32', shape: [64, 64] },
      { name: 'model.norm.weight', dtype: 'F16', shape: [1000] },
    ];
    const f1 = writeSafetensors(tensors, { note: 'v1' });
    const f2 = writeSafetensors(tensors, {
      note: 'v1 but with a much longer metadata string that pushes every tensor further into the file',
      step: '1000',
    });
    const hdr1 = 8 + Number(f1.readBigUInt64LE(0));
    const hdr2 = 8 + Number(f2.readBigUInt64LE(0));
    expect(hdr2).toBeGreaterThan(hdr1); // all data shifted...
    expect((hdr2 - hdr1) % CHUNK).not.toBe(0); // ...by an amount that is not a chunk multiple
    expect(hdr2).toBeLessThan(CHUNK); // the header fits one chunk
    expect(f2.subarray(hdr2).equals(f1.subarray(hdr1))).toBe(true); // the tensor bytes are identical

    write(t.path('models/model.safetensors'), f1);
    ok(run(['init', '--chunk-size', String(CHUNK)]));
    ok(run(['add', 'models']));
    const c1 = json(run(['commit', '-m', 'st v1', '--json']));
    // header + 2 + 4 + 4 + 1 chunks (each tensor starts its own chunks)
    expect(c1.newChunks).toBe(1 + 2 + 4 + 4 + 1);

    write(t.path('models/model.safetensors'), f2);
    expect(json(run(['status', '--json'])).changes).toEqual([{ path: 'models/model.safetensors', status: 'modified' }]);
    const c2 = json(run(['commit', '-m', 'st v2: metadata only', '--json']));
    expect(c2.created).toBe(true);
    expect(c2.newChunks).toBe(1);
    expect(c2.newBytes).toBe(hdr2);

    const d = json(run(['diff', 'v1', 'v2', '--json']));
    expect(d.files).toHaveLength(1);
    const f = d.files[0];
    expect(f).toMatchObject({
      path: 'models/model.safetensors',
      status: 'modified',
      chunksChanged: 1,
      bytesNew: hdr2,
      oldSize: f1.length,
      newSize: f2.length,
    });
    expect(f.tensors.format).toBe('safetensors');
    expect(f.tensors.changes).toEqual([]);
    expect(f.tensors.unchanged).toBe(4);
    expect(f.tensors.layers).toEqual([]);
    expect(ok(run(['diff', 'v1', 'v2'])).stdout).toMatch(/safetensors: 0 tensor\(s\) changed, 4 unchanged/);

    // and both versions come back bit for bit
    ok(run(['checkout', 'v1']));
    expect(readFileSync(t.path('models/model.safetensors')).equals(f1)).toBe(true);
    ok(run(['checkout', 'main']));
    expect(readFileSync(t.path('models/model.safetensors')).equals(f2)).toBe(true);
    expect(json(run(['fsck', '--json'])).ok).toBe(true);
  });
});

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
