/**
 * The whole user story, end to end, through the real CLI (bin/mvm.js) in a
 * fresh git repository: init, add, commit with metadata and metrics, status,
 * log, diff, show, checkout (bit-exact, modes, conflicts, minimal writes),
 * deploy / rollback, fsck and tensor-aware deduplication of a safetensors file
 * (checkout and later in userStory-checkout.test.ts; the help text in cli/help.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { mvm } from '../../helpers/cli.js';
import { ok, json, write } from '../../helpers/assertions.js';
import {
  AUTHOR,
  CHUNK,
  CONVERT,
  HEAD_BIN,
  HEX64,
  MODEL_V1,
  MODEL_V2,
  TOKENIZER,
  dropStoryTemplate,
  git,
  makeStory,
  makeStoryTemplate,
  patched,
  runCleanups,
  story,
  tmp,
} from '../../helpers/story.js';

afterEach(runCleanups);
beforeAll(makeStoryTemplate);
afterAll(dropStoryTemplate);

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
});
