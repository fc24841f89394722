// diff: what changed between two versions, or between HEAD and the workspace, counted in chunks (diff --stats in
// diff-stats.test.ts).
import { describe, expect, it } from 'vitest';
import { ok, json, write } from '../../helpers/assertions.js';
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
