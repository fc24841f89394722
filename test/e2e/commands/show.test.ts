// show: one version's record (meta, metrics, files and modes, the git commit), as text and --json.
import { describe, expect, it } from 'vitest';
import { ok, json } from '../../helpers/assertions.js';
import { AUTHOR, CONVERT, MODEL_V1, TOKENIZER, story, useStory } from '../../helpers/story.js';

useStory();

describe('show', () => {
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
