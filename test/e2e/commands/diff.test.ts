// diff: what changed between two versions, or between HEAD and the workspace, counted in chunks, and a model of
// hundreds of tensors grouped by layer (diff --stats in diff-stats.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { ok, json, write, expectError } from '../../helpers/assertions.js';
import { cleanups, repo } from '../../helpers/modelRepo.js';
import { PER_BLOCK, SCOPE, longName, longNameModel } from '../../helpers/longNames.js';
import { CHUNK, HEAD_BIN, MODEL_V1, MODEL_V2, patched, story, useStory } from '../../helpers/story.js';

useStory();

describe('diff', () => {
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
});

describe('diff of a model with hundreds of tensors', () => {
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });

  it('groups changed tensors by layer, says their shared prefix once, stops at --limit; --json lists all', () => {
    // 200 tensors with 152-character names; v2 changes the 150 of blocks 0-14
    const r = repo({ 'models/model.tflite': longNameModel(1) });
    r.commit('v1');
    r.write('models/model.tflite', longNameModel(2, 15));
    r.commit('v2');
    const changed = Array.from({ length: 15 * PER_BLOCK }, (_, i) =>
      longName(Math.floor(i / PER_BLOCK), i % PER_BLOCK),
    );

    const d = r.diff('v1', 'v2');
    const f = d.files.find((x: any) => x.path === 'models/model.tflite');
    expect(f.tensors.changes.map((c: any) => c.name).sort()).toEqual([...changed].sort());
    expect(f.tensors.changes.every((c: any) => c.status === 'values')).toBe(true);
    expect(f.tensors.unchanged).toBe(50);
    expect(f.tensors.layers).toHaveLength(15);
    // --limit shapes the text only
    expect(r.diff('v1', 'v2', '--limit', '3')).toEqual(d);

    const lines = ok(r.run(['diff', 'v1', 'v2']))
      .stdout.trimEnd()
      .split('\n');
    const text = lines.join('\n');
    expect(text).toContain('tflite: 150 tensor(s) changed, 50 unchanged');
    expect(lines).toContain(`    names start with ${SCOPE}`);
    // 50 rows by default, in the first 5 layers, each row the name after its layer
    const rows = lines.filter((l) => /^ {6}kernel_weights_part_\d+: values: 1 of 1 chunk\(s\) changed$/.test(l));
    expect(rows).toHaveLength(50);
    const heads = lines.filter((l) => l.startsWith('    layer '));
    expect(heads).toEqual(
      [0, 1, 2, 3, 4].map(
        (b) =>
          `    layer …block_${b}/multi_head_self_attention_and_feed_forward_sublayers/*: 10 of 10 tensor(s) changed`,
      ),
    );
    expect(text).toContain(
      '    ... and 100 more changed tensor(s) (10 more layer(s)): --limit N shows more, --json lists all',
    );
    expect(lines.length).toBeLessThan(65);
    // no line repeats a whole name: the longest is the one that says the prefix
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(changed[0]!.length);

    const all = ok(r.run(['diff', 'v1', 'v2', '--limit', '150'])).stdout;
    expect(all.match(/^ {6}kernel_weights_part_\d+: values/gm)).toHaveLength(150);
    expect(all).not.toContain('more changed tensor(s)');
    const few = ok(r.run(['diff', 'v1', 'v2', '--limit', '12'])).stdout;
    expect(few.match(/^ {6}kernel_weights_part_\d+: values/gm)).toHaveLength(12);
    // the second layer is cut part-way: its header still counts all of its changes
    expect(few).toContain(
      '…block_1/multi_head_self_attention_and_feed_forward_sublayers/*: 10 of 10 tensor(s) changed',
    );
    expect(few).toContain('... and 138 more changed tensor(s) (13 more layer(s))');

    expectError(r.run(['diff', 'v1', 'v2', '--limit', '0', '--json']), 'BAD_ARGUMENT', 2);
  });
});
