/**
 * The user story, end to end, through the real CLI (bin/mvm.js) in a fresh git repository: init and add, commit
 * with metadata and metrics and what a second commit stores, and tensor-aware deduplication of a safetensors file.
 * What each command does on the story's two versions is tested in its own file (commands/status, log, diff, show,
 * checkout, deploy); the help text in cli/help.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { mvm } from '../../helpers/cli.js';
import { writeSafetensors, type SafetensorsTensor } from '../../helpers/modelWriters.js';
import { ok, json, write } from '../../helpers/assertions.js';
import {
  CHUNK,
  CONVERT,
  HEAD_BIN,
  HEX64,
  MODEL_V1,
  MODEL_V2,
  TOKENIZER,
  git,
  makeStory,
  runCleanups,
  tmp,
} from '../../helpers/story.js';

afterEach(runCleanups);

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
