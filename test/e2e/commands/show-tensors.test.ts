// show --tensors: every tensor of a version's files (or of one file or folder) with its dtype, shape, bytes, chunks,
// how they are stored and what that takes; grouped by layer in text, bounded by --limit, complete in --json.
import { afterEach, describe, expect, it } from 'vitest';
import { expectError, json, ok } from '../../helpers/assertions.js';
import { cleanups, repo } from '../../helpers/modelRepo.js';
import { mvm, testdir } from '../../helpers/cli.js';
import { bf16, tune, weights } from '../../helpers/deltaModels.js';
import { writeSafetensors } from '../../helpers/modelWriters.js';
import { BLOCKS, PER_BLOCK, SCOPE, longName, longNameModel } from '../../helpers/longNames.js';

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const KIB64 = 64 * 1024;
const N = 128 * 1024; // bf16 elements of one weight: 256 KiB, four 64 KiB chunks

/** Four bf16 weights, a copy of the first (the same bytes), zeros as u8 and a small f32 tensor. */
function model(ws: Float32Array[]): Buffer {
  return writeSafetensors([
    ...ws.map((w, i) => ({ name: `model.layers.${i}.mlp.weight`, dtype: 'BF16', shape: [N], data: bf16(w) })),
    { name: 'model.layers.0.mlp.copy', dtype: 'BF16', shape: [N], data: bf16(ws[0]!) },
    { name: 'model.embed.ids', dtype: 'U8', shape: [64, 64], data: Buffer.alloc(4096) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [256], data: Buffer.from(weights(256, 9).buffer) },
  ]);
}

/** A repository whose v2 fine-tunes layer 2 of v1 (stored as deltas), with a file of no model format beside. */
function tuned() {
  const ws = [0, 1, 2, 3].map((i) => weights(N, i + 1));
  const r = repo({ 'models/model.safetensors': model(ws), 'models/notes.bin': Buffer.alloc(10_000, 7) }, KIB64);
  r.commit('v1');
  r.write('models/model.safetensors', model(ws.map((w, i) => (i === 2 ? tune(w, 0.1, 7) : w))));
  r.commit('v2');
  return r;
}

describe('show --tensors', () => {
  it('lists each tensor with its chunks, encodings and stored bytes; the parts add up to the files', () => {
    const r = tuned();
    const s = json(r.run(['show', 'v2', '--tensors', '--json']));
    expect(s).toMatchObject({ number: 2, path: null });
    expect(s.files.map((f: any) => f.path)).toEqual(['models/model.safetensors', 'models/notes.bin']);
    const [st, notes] = s.files;
    expect(st).toMatchObject({ format: 'safetensors', size: r.read('models/model.safetensors').length });
    const by = Object.fromEntries(st.tensors.map((t: any) => [t.name, t]));
    expect(st.tensors.map((t: any) => t.name)).toEqual([
      'model.layers.0.mlp.weight',
      'model.layers.1.mlp.weight',
      'model.layers.2.mlp.weight',
      'model.layers.3.mlp.weight',
      'model.layers.0.mlp.copy',
      'model.embed.ids',
      'model.norm.weight',
    ]);
    // the file object on disk says which chunks each tensor holds
    const fo = r.fileObjects('v2')('models/model.safetensors');
    for (const t of fo.layout.tensors) {
      expect(by[t.name]).toMatchObject({ dtype: t.dtype, shape: t.shape, bytes: t.end - t.start });
      expect(by[t.name].chunks).toBe(t.chunkEnd - t.chunkStart);
    }
    expect(by['model.layers.1.mlp.weight']).toMatchObject({ dtype: 'bf16', shape: [N], bytes: 2 * N, chunks: 4 });
    // bf16 weights are stored as byte planes; the fine-tuned one as deltas from v1's; zeros compress to nearly nothing
    for (const i of [0, 1, 3]) expect(by[`model.layers.${i}.mlp.weight`].encodings).toEqual({ 'planes:bf16': 4 });
    expect(by['model.layers.2.mlp.weight'].encodings).toEqual({ 'delta:bf16': 4 });
    expect(by['model.embed.ids']).toMatchObject({ chunks: 1, sharedChunks: 0 });
    expect(by['model.embed.ids'].stored).toBeLessThan(100);
    for (const i of [0, 1, 2, 3]) {
      const t = by[`model.layers.${i}.mlp.weight`];
      expect(t.sharedChunks).toBe(0);
      expect(t.stored).toBeGreaterThan(0.3 * t.bytes);
      expect(t.stored).toBeLessThan(t.bytes);
    }
    // a delta takes less than the whole chunks it stands for
    expect(by['model.layers.2.mlp.weight'].stored).toBeLessThan(by['model.layers.1.mlp.weight'].stored);
    // the copy holds the first weight's chunks: counted there, once
    expect(by['model.layers.0.mlp.copy']).toMatchObject({ chunks: 4, sharedChunks: 4, stored: 0 });
    expect(by['model.layers.0.mlp.copy'].encodings).toEqual({ 'planes:bf16': 4 });
    // tensors and the rest (the header) add up to the file
    const sum = (k: string) => st.tensors.reduce((n: number, t: any) => n + t[k], st.other[k]);
    expect(sum('bytes')).toBe(st.size);
    expect(sum('chunks')).toBe(st.chunks);
    expect(sum('stored')).toBe(st.stored);
    expect(st.chunks).toBe(fo.chunks.length);
    expect(st.other.chunks).toBeGreaterThan(0);
    expect(st.absentChunks).toBe(0);
    // a file of no model format: its chunks, all under other
    expect(notes).toMatchObject({ format: null, tensors: [], chunks: 1, size: 10_000 });
    expect(notes.other).toMatchObject({ bytes: 10_000, chunks: 1, encodings: { zstd: 1 } });
    // the totals count a chunk once, as compare counts a version's stored bytes
    const c = json(r.run(['compare', 'v2', '--format', 'json']));
    expect(s.totals).toEqual({
      files: 2,
      tensors: 7,
      bytes: st.size + 10_000,
      chunks: st.chunks + 1,
      stored: c.columns[0].storedBytes,
    });
    expect(s.totals.stored).toBe(st.stored + notes.stored);
    // v1 stored layer 2 whole
    const v1 = json(r.run(['show', 'v1', '--tensors', 'models/model.safetensors', '--json']));
    expect(v1.files[0].tensors[2].encodings).toEqual({ 'planes:bf16': 4 });

    const text = ok(r.run(['show', 'v2', '--tensors'])).stdout;
    expect(text).toMatch(/^version v2 \w{12}: 2 file\(s\), 7 tensor\(s\), .* in \d+ chunk\(s\), stored /m);
    expect(text).toMatch(/^models\/model\.safetensors {2}safetensors, 7 tensor\(s\), /m);
    expect(text).toMatch(/^ {2}layer model\.layers\.0\.\*: 2 tensor\(s\), 512\.0 KiB, stored /m);
    expect(text).toMatch(/^ {4}bf16 +\[131072\] +256\.0 KiB +4 +delta:bf16 +[\d.]+ KiB +0\.\d\d +mlp\.weight$/m);
    expect(text).toMatch(/^ {4}bf16 +\[131072\] +256\.0 KiB +4 +planes:bf16 +0 B \* +0\.00 +mlp\.copy$/m);
    expect(text).toMatch(/^ {4}u8 +\[64, 64\] +4\.00 KiB +1 +zstd +\d+ B +0\.\d\d +ids$/m);
    expect(text).toContain('* holds chunks an earlier tensor of the file also holds');
    expect(text).toMatch(/^models\/notes\.bin {2}no tensors \(not a model format mvm reads\), 9\.77 KiB in 1 chunk/m);
  });

  it('keeps hundreds of long names readable: one prefix, a group per layer, --limit rows; --json has them all', () => {
    const r = repo({ 'models/model.tflite': longNameModel(1) });
    r.commit('v1');
    const s = json(r.run(['show', 'v1', '--tensors', '--json']));
    const names = Array.from({ length: BLOCKS * PER_BLOCK }, (_, i) =>
      longName(Math.floor(i / PER_BLOCK), i % PER_BLOCK),
    );
    expect(s.files[0].tensors.map((t: any) => t.name)).toEqual(names);
    expect(s.files[0].tensors.every((t: any) => t.bytes === 1024 && t.chunks === 1)).toBe(true);
    // --limit shapes the text only
    expect(json(r.run(['show', 'v1', '--tensors', '--limit', '5', '--json']))).toEqual(s);

    const all = ok(r.run(['show', 'v1', '--tensors']))
      .stdout.trimEnd()
      .split('\n');
    expect(all).toContain(`  names start with ${SCOPE}`);
    expect(all.filter((l) => / kernel_weights_part_\d$/.test(l))).toHaveLength(200);
    const heads = all.filter((l) => l.startsWith('  layer '));
    expect(heads).toHaveLength(BLOCKS);
    expect(heads[7]).toMatch(
      /^ {2}layer …block_7\/multi_head_self_attention_and_feed_forward_sublayers\/\*: 10 tensor/,
    );
    expect(Math.max(...all.map((l) => l.length))).toBeLessThan(names[0]!.length);

    const lines = ok(r.run(['show', 'v1', '--tensors', '--limit', '25']))
      .stdout.trimEnd()
      .split('\n');
    expect(lines.filter((l) => / kernel_weights_part_\d$/.test(l))).toHaveLength(25);
    expect(lines.filter((l) => l.startsWith('  layer '))).toHaveLength(3);
    expect(lines).toContain('  ... and 175 more tensor(s) (17 more layer(s)): --limit N shows more, --json lists all');
    expect(lines.length).toBeLessThan(45);
  });

  it('takes a file or folder of the version; refuses a path it lacks, and a path or --limit without --tensors', () => {
    const r = tuned();
    const one = json(r.run(['show', 'v2', '--tensors', './models/notes.bin', '--json']));
    expect(one.path).toBe('models/notes.bin');
    expect(one.files.map((f: any) => f.path)).toEqual(['models/notes.bin']);
    expect(one.totals).toMatchObject({ files: 1, tensors: 0, bytes: 10_000, chunks: 1 });
    const folder = json(r.run(['show', 'v2', '--tensors', 'models/', '--json']));
    expect(folder).toMatchObject({ path: 'models', totals: { files: 2, tensors: 7 } });
    expect(expectError(r.run(['show', 'v2', '--tensors', 'models/nope', '--json']), 'PATH_NOT_FOUND', 4).data).toEqual(
      expect.objectContaining({ path: 'models/nope' }),
    );
    expectError(r.run(['show', 'v2', '--tensors', 'model', '--json']), 'PATH_NOT_FOUND', 4);
    expectError(r.run(['show', 'v2', 'models/notes.bin', '--json']), 'BAD_ARGUMENT', 2);
    expectError(r.run(['show', 'v2', '--limit', '3', '--json']), 'BAD_ARGUMENT', 2);
    expectError(r.run(['show', '--tensors', '--limit', 'all', '--json']), 'BAD_ARGUMENT', 2);
  });

  it('in a partial clone, says which chunks are not in the store, and fetches none to list them', () => {
    const r = tuned();
    const t = testdir();
    cleanups.push(t.cleanup);
    ok(r.run(['remote', 'add', 'origin', t.path('remote')]));
    ok(r.run(['push']));
    ok(mvm(['clone', t.path('remote'), 'c'], { cwd: t.dir }));
    const run = (args: string[]) => mvm(args, { cwd: t.path('c') });
    const full = json(r.run(['show', 'v1', '--tensors', '--json']));
    const s = json(run(['show', 'v1', '--tensors', '--json']));
    const st = s.files[0];
    expect(st.tensors.map((x: any) => [x.name, x.chunks])).toEqual(
      full.files[0].tensors.map((x: any) => [x.name, x.chunks]),
    );
    // the clone keeps the checked-out version's chunks in its files only (v1's layer 2 is stored: v2's deltas are
    // based on it); a tensor both versions share is not in the store
    expect(st.tensors[1]).toMatchObject({ name: 'model.layers.1.mlp.weight', encodings: { absent: 4 }, stored: 0 });
    expect(st.tensors[2].encodings).toEqual({ 'planes:bf16': 4 });
    expect(st.tensors[2].stored).toBe(full.files[0].tensors[2].stored);
    const absent = st.tensors.reduce((n: number, x: any) => n + (x.encodings.absent ?? 0), st.other.encodings.absent);
    expect(st.absentChunks).toBe(absent);
    expect(st.absentChunks).toBe(st.chunks - 4);
    // listing fetched nothing: the same again
    expect(json(run(['show', 'v1', '--tensors', '--json']))).toEqual(s);
    expect(ok(run(['show', 'v1', '--tensors'])).stdout).toContain('chunk(s) not in this store (partial clone)');
  });
});
