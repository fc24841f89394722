/**
 * The user story, continued: checkout (bit-exact, modes, conflicts, minimal writes), deploy / rollback and
 * tensor-aware deduplication of a safetensors file, through the real CLI in a fresh git repository.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mvm } from '../../helpers/cli.js';
import { writeSafetensors, type SafetensorsTensor } from '../../helpers/modelWriters.js';
import { ok, json, expectError, write } from '../../helpers/assertions.js';
import {
  AUTHOR,
  CHUNK,
  CONVERT,
  HEAD_BIN,
  MODEL_V1,
  MODEL_V2,
  TOKENIZER,
  dropStoryTemplate,
  makeStoryTemplate,
  modeOf,
  patched,
  runCleanups,
  story,
  tmp,
} from '../../helpers/story.js';

afterEach(runCleanups);
beforeAll(makeStoryTemplate);
afterAll(dropStoryTemplate);

describe('user story', () => {
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
