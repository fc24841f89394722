/**
 * Model files end to end, through the real CLI (bin/mvm.js) with 4 KiB chunks:
 * every recognised format (safetensors, GGUF, PyTorch zip, ONNX) is committed,
 * one tensor is changed, and the commit stores only that tensor (plus the
 * header where the format's header changes); `mvm diff` names the tensor and
 * its layer; checkout restores the exact bytes. safetensors edits, odd files,
 * diff --stats and compression have their own files (formats/, commands/diff-stats).
 *
 * Every fixture is generated here (test/helpers/modelWriters.ts), never downloaded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  GGML,
  writeGguf,
  writeOnnx,
  writeSafetensors,
  writeTorchZip,
  type GgufTensor,
  type OnnxInitializer,
  type SafetensorsTensor,
  type TorchStorage,
} from '../../helpers/modelWriters.js';
import { ok, json } from '../../helpers/assertions.js';
import { CHUNK, added, bf16, chunksOf, cleanups, f16, f32, repo, zipEntries } from '../../helpers/modelRepo.js';

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

// ---------------------------------------------------------------- 1. every format

interface FormatCase {
  format: 'safetensors' | 'gguf' | 'pytorch' | 'onnx';
  path: string;
  v1: Buffer;
  v2: Buffer;
  /** The tensor whose values change. */
  changed: string;
  dtype: string;
  shape: number[];
  tensorCount: number;
  /** Chunks and raw bytes the second commit must store. */
  newChunks: number;
  newBytes: number;
  /** The layer summary of the diff; null: only check it counts one change. */
  layers: { layer: string; changed: number; total: number }[] | null;
}

const CHANGED = 'model.layers.3.mlp.weight';
const LAYER3 = [{ layer: 'model.layers.3.*', changed: 1, total: 2 }];

/** A case whose f32 tensor CHANGED (48 x 64, in layer 3) is all that differs between v1 and v2: three new chunks. */
function layer3Case(format: FormatCase['format'], path: string, v1: Buffer, v2: Buffer, shape: number[]): FormatCase {
  const same = { changed: CHANGED, dtype: 'f32', tensorCount: 5, newChunks: 3, newBytes: 48 * 64 * 4, layers: LAYER3 };
  return { format, path, v1, v2, shape, ...same };
}

function safetensorsCase(): FormatCase {
  const tensors = (w: Buffer): SafetensorsTensor[] => [
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [64, 128], data: bf16(64 * 128, 1) }, // 16 KiB
    { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F16', shape: [64, 64], data: f16(64 * 64, 2) }, // 8 KiB
    { name: CHANGED, dtype: 'F32', shape: [48, 64], data: w }, // 12 KiB
    { name: 'model.layers.3.mlp.bias', dtype: 'F32', shape: [100], data: f32(100, 4) },
    { name: 'model.norm.weight', dtype: 'BF16', shape: [1000], data: bf16(1000, 5) },
  ];
  const v1 = writeSafetensors(tensors(f32(48 * 64, 3)), { format: 'pt' });
  const v2 = writeSafetensors(tensors(f32(48 * 64, 33)), { format: 'pt' });
  return layer3Case('safetensors', 'models/model.safetensors', v1, v2, [48, 64]);
}

function ggufCase(): FormatCase {
  // dims in ggml order (innermost first); every tensor a multiple of the alignment, so no padding between them
  const tensors = (w: Buffer): GgufTensor[] => [
    { name: 'token_embd.weight', type: GGML.BF16, dims: [128, 64], data: bf16(64 * 128, 11) },
    { name: 'model.layers.0.attn_q.weight', type: GGML.F16, dims: [64, 64], data: f16(64 * 64, 12) },
    { name: CHANGED, type: GGML.F32, dims: [64, 48], data: w },
    { name: 'model.layers.3.mlp.bias', type: GGML.F32, dims: [96], data: f32(96, 14) },
    { name: 'output_norm.weight', type: GGML.F32, dims: [1024], data: f32(1024, 15) },
  ];
  const metadata = { 'general.architecture': 'llama', 'general.name': 'tiny test model', 'llama.block_count': 4 };
  const v1 = writeGguf({ metadata, tensors: tensors(f32(48 * 64, 13)) });
  const v2 = writeGguf({ metadata, tensors: tensors(f32(48 * 64, 133)) });
  return layer3Case('gguf', 'models/model.gguf', v1, v2, [64, 48]);
}

function pytorchCase(): FormatCase {
  const storages = (w: Buffer): TorchStorage[] => [
    { key: '0', data: bf16(64 * 128, 21) },
    { key: '1', data: f16(64 * 64, 22) },
    { key: '2', data: w },
    { key: '3', data: f32(100, 24) },
    { key: '4', data: bf16(1000, 25) },
  ];
  const v1 = writeTorchZip(storages(f32(48 * 64, 23)), { archive: 'pytorch_model' });
  const v2 = writeTorchZip(storages(f32(48 * 64, 233)), { archive: 'pytorch_model' });
  // the entry's CRC changes too: in its local header (the gap before its data) and in the central directory (the tail)
  const e1 = zipEntries(v1);
  const before = e1.get('pytorch_model/data/1')!;
  const mine = e1.get('pytorch_model/data/2')!;
  const last = e1.get('pytorch_model/data/4')!;
  const gap = mine.start - before.end;
  const tail = v1.length - last.end;
  expect(gap).toBeLessThan(CHUNK);
  expect(tail).toBeLessThan(CHUNK);
  expect(zipEntries(v2).get('pytorch_model/data/2')).toEqual(mine);
  expect(v2.subarray(0, before.end).equals(v1.subarray(0, before.end))).toBe(true);
  return {
    format: 'pytorch',
    path: 'models/pytorch_model.bin',
    v1,
    v2,
    changed: 'data/2',
    dtype: 'unknown',
    shape: [],
    tensorCount: 5,
    newChunks: 3 + 2,
    newBytes: 48 * 64 * 4 + gap + tail,
    layers: null,
  };
}

function onnxCase(): FormatCase {
  const inits = (w: Buffer): OnnxInitializer[] => [
    { name: 'model.embed_tokens.weight', dataType: 16, dims: [64, 128], raw: bf16(64 * 128, 31) },
    { name: 'model.layers.0.q_proj.weight', dataType: 10, dims: [64, 64], raw: f16(64 * 64, 32) },
    { name: CHANGED, dataType: 1, dims: [48, 64], raw: w },
    { name: 'model.layers.3.mlp.bias', dataType: 1, dims: [100], raw: f32(100, 34) },
    { name: 'model.norm.weight', dataType: 16, dims: [1000], raw: bf16(1000, 35) },
  ];
  const v1 = writeOnnx(inits(f32(48 * 64, 33)));
  const v2 = writeOnnx(inits(f32(48 * 64, 333)));
  return layer3Case('onnx', 'models/model.onnx', v1, v2, [48, 64]);
}

describe('every model format: one tensor changes', () => {
  const cases: [string, () => FormatCase][] = [
    ['safetensors', safetensorsCase],
    ['gguf', ggufCase],
    ['pytorch', pytorchCase],
    ['onnx', onnxCase],
  ];

  it.each(cases)('%s: only the changed tensor is stored, diff names it, checkout is bit-exact', (_name, make) => {
    const c = make();
    expect(c.v2.length).toBe(c.v1.length);
    expect(c.v2.equals(c.v1)).toBe(false);
    const r = repo({ [c.path]: c.v1 });

    const c1 = r.commit('v1');
    expect(c1).toMatchObject({ created: true, number: 1, files: 1, logicalBytes: c.v1.length, newBytes: c.v1.length });
    // tensor-aligned cutting: more chunks than plain fixed-size cutting would make
    expect(c1.newChunks).toBeGreaterThan(chunksOf(c.v1.length));

    const before = r.objects();
    r.write(c.path, c.v2);
    // the workspace diff (HEAD -> workspace) already sees the one tensor
    const w = r.run(['diff', '--json']);
    const wf = json(w).files[0];
    expect(wf).toMatchObject({ path: c.path, status: 'modified', chunksChanged: c.newChunks });
    expect(wf.tensors.format).toBe(c.format);
    expect(wf.tensors.changes.map((x: { name: string; status: string }) => [x.name, x.status])).toEqual([
      [c.changed, 'values'],
    ]);
    const c2 = r.commit('v2: one tensor');
    expect(c2).toMatchObject({ created: true, number: 2, changes: [{ path: c.path, status: 'modified' }] });
    expect({ newChunks: c2.newChunks, newBytes: c2.newBytes }).toEqual({
      newChunks: c.newChunks,
      newBytes: c.newBytes,
    });
    // on disk: the new chunks, one file object and one manifest; nothing else
    const grown = added(before, r.objects());
    expect(grown.count).toBe(c.newChunks + 2);
    expect(grown.bytes).toBeGreaterThanOrEqual(c2.storedBytes);
    expect(grown.bytes).toBeLessThan(c2.storedBytes + 8192);

    const d = r.diff('v1', 'v2');
    expect(d.files).toHaveLength(1);
    const f = d.files[0];
    expect(f).toMatchObject({
      path: c.path,
      status: 'modified',
      oldSize: c.v1.length,
      newSize: c.v2.length,
      chunksChanged: c.newChunks,
      bytesNew: c.newBytes,
    });
    expect(f.tensors.format).toBe(c.format);
    expect(f.tensors.changes).toHaveLength(1);
    const tensorChunks = chunksOf(48 * 64 * 4);
    expect(f.tensors.changes[0]).toEqual({
      name: c.changed,
      status: 'values',
      dtype: [c.dtype, c.dtype],
      shape: [c.shape, c.shape],
      chunksChanged: tensorChunks,
      chunksTotal: tensorChunks,
      bytes: 48 * 64 * 4,
    });
    expect(f.tensors.unchanged).toBe(c.tensorCount - 1);
    if (c.layers) expect(f.tensors.layers).toEqual(c.layers);
    else expect(f.tensors.layers.reduce((s: number, l: { changed: number }) => s + l.changed, 0)).toBe(1);

    // the file object on disk records the layout and the tensor-aligned chunks
    for (const rev of ['v1', 'v2']) {
      const fo = r.fileObjects(rev)(c.path);
      expect(fo).toMatchObject({ type: 'file', chunkSize: CHUNK, size: c.v1.length });
      expect(fo.chunks.reduce((s: number, ch: [string, number]) => s + ch[1], 0)).toBe(c.v1.length);
      expect(fo.layout.format).toBe(c.format);
      expect(fo.layout.tensors).toHaveLength(c.tensorCount);
      const t = fo.layout.tensors.find((x: { name: string }) => x.name === c.changed);
      expect(t).toMatchObject({ dtype: c.dtype, shape: c.shape, chunkEnd: t.chunkStart + tensorChunks });
      expect(t.end - t.start).toBe(48 * 64 * 4);
    }

    const text = ok(r.run(['diff', 'v1', 'v2'])).stdout;
    expect(text).toContain(`M ${c.path}`);
    expect(text).toContain(`${c.format}: 1 tensor(s) changed, ${c.tensorCount - 1} unchanged`);
    // the changed tensor, grouped under its layer, named after the layer's prefix
    const [layer, short] = c.layers ? ['model.layers.3.*', 'mlp.weight'] : ['data/*', '2'];
    expect(text).toContain(
      `    layer ${layer}: 1 of ${c.layers ? 2 : c.tensorCount} tensor(s) changed\n` +
        `      ${short}: values: ${tensorChunks} of ${tensorChunks} chunk(s) changed`,
    );

    const s1 = json(r.run(['show', 'v1', '--json']));
    const s2 = json(r.run(['show', 'v2', '--json']));
    expect(s2.version.files[c.path].size).toBe(c.v2.length);
    expect(s2.version.files[c.path].file).not.toBe(s1.version.files[c.path].file);

    ok(r.run(['checkout', 'v1']));
    expect(r.read(c.path).equals(c.v1)).toBe(true);
    ok(r.run(['checkout', 'main']));
    expect(r.read(c.path).equals(c.v2)).toBe(true);
  });
});
