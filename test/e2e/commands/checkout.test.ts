// checkout: bit-exact bytes and modes, minimal writes, removal of what the target lacks, and uncommitted changes
// protected unless --force.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ok, json, expectError, write } from '../../helpers/assertions.js';
import {
  CONVERT,
  HEAD_BIN,
  MODEL_V1,
  MODEL_V2,
  TOKENIZER,
  modeOf,
  patched,
  story,
  useStory,
} from '../../helpers/story.js';

useStory();

describe('checkout', () => {
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
});
