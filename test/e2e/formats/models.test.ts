/**
 * Model files end to end, through the real CLI (bin/mvm.js) with 4 KiB chunks:
 * every recognised format (safetensors, GGUF, PyTorch zip, ONNX) is committed,
 * one tensor is changed, and the commit stores only that tensor (plus the
 * header where the format's header changes); `mvm diff` names the tensor and
 * its layer; checkout restores the exact bytes. Then safetensors edits (header
 * shift, append, resize, retype, remove, shards), tied weights, malformed and disguised files
 * (plain fallback, recognition by content, never by name), `diff --stats`
 * against statistics computed here, and a compression sanity check.
 *
 * Every fixture is generated here (test/helpers/modelWriters.ts), never downloaded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compress, decompress } from 'zstd-napi';
import { mvm, testdir } from '../../helpers/cli.js';
import {
  GGML,
  prng,
  randomBf16,
  safetensorsFromHeader,
  seededBytes,
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

const CHUNK = 4096;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

// ---------------------------------------------------------------- CLI helpers

/** A fresh workspace holding `files`, with an mvm repository (4 KiB chunks unless told) tracking models/. */
function repo(files: Record<string, Buffer>, chunkSize: number | null = CHUNK) {
  const t = testdir();
  cleanups.push(t.cleanup);
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  for (const [p, b] of Object.entries(files)) put(t.path(p), b);
  ok(run(['init', ...(chunkSize === null ? [] : ['--chunk-size', String(chunkSize)])]));
  ok(run(['add', 'models']));
  return {
    dir: t.dir,
    path: t.path,
    run,
    write: (p: string, b: Buffer) => put(t.path(p), b),
    read: (p: string) => readFileSync(t.path(p)),
    commit: (message: string) => json(run(['commit', '-m', message, '--json'])),
    diff: (a: string, b: string, ...extra: string[]) => json(run(['diff', a, b, '--json', ...extra])),
    objects: () => objectFiles(join(t.dir, '.mvm', 'objects')),
    /** The file objects (docs/FORMAT.md) of version `rev`, read from disk, by path. */
    fileObjects: (rev: string): ((path: string) => any) => {
      const files: Record<string, { file: string }> = json(run(['show', rev, '--json'])).version.files;
      return (path) => JSON.parse(readObject(join(t.dir, '.mvm', 'objects'), files[path]!.file).toString('utf8'));
    },
  };
}

/** An object's content, decoded from its stored encoding (raw or zstd; JSON objects are never byte planes). */
function readObject(objectsDir: string, id: string): Buffer {
  const b = readFileSync(join(objectsDir, id.slice(0, 2), id.slice(2)));
  expect(b[0]).toBe(0x4d);
  expect(b[1]).toBe(1);
  const payload = b.subarray(8);
  const content = b[2] === 0 ? payload : b[2] === 1 ? decompress(payload) : null;
  expect(content, `object ${id} has encoding ${b[2]}`).not.toBeNull();
  expect(content!.length).toBe(b.readUInt32LE(4));
  return content!;
}

function put(path: string, data: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** Every object file under .mvm/objects, with its size on disk. */
function objectFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of readdirSync(dir)) {
    const sub = join(dir, d);
    if (!statSync(sub).isDirectory()) continue;
    for (const f of readdirSync(sub)) out.set(`${d}/${f}`, statSync(join(sub, f)).size);
  }
  return out;
}

/** Objects in `after` but not in `before`, and their total size on disk. */
function added(before: Map<string, number>, after: Map<string, number>): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const [k, v] of after) {
    if (before.has(k)) continue;
    count++;
    bytes += v;
  }
  return { count, bytes };
}

const chunksOf = (n: number) => Math.ceil(n / CHUNK);

// ---------------------------------------------------------------- data

/** `count` f32 values drawn from N(0, std²), deterministic in `seed`. */
function normalF32(count: number, std = 1, seed = 1): Float32Array {
  const rnd = prng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  return out;
}

const f32Bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const f32 = (count: number, seed: number) => f32Bytes(normalF32(count, 0.02, seed));
const bf16 = (count: number, seed: number) => randomBf16(count, 0.02, seed);

/** IEEE binary16 bits of x (round to nearest; tiny values flush to zero). */
function toF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a < 2 ** -14) return sign;
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

function f16(count: number, seed: number): Buffer {
  const v = normalF32(count, 0.02, seed);
  const out = Buffer.alloc(count * 2);
  v.forEach((x, i) => out.writeUInt16LE(toF16(x), i * 2));
  return out;
}

function readBf16(b: Buffer): Float64Array {
  const out = new Float64Array(b.length / 2);
  const tmp = Buffer.alloc(4);
  for (let i = 0; i < out.length; i++) {
    tmp.writeUInt32LE((b.readUInt16LE(i * 2) << 16) >>> 0);
    out[i] = tmp.readFloatLE(0);
  }
  return out;
}

/** Difference statistics of two equal-length value arrays, in float64, computed independently of src/. */
function expectedStats(a: Float64Array, b: Float64Array) {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  let dd = 0;
  let max = 0;
  let changed = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    aa += p * p;
    bb += q * q;
    ab += p * q;
    const d = q - p;
    dd += d * d;
    if (d !== 0) changed++;
    max = Math.max(max, Math.abs(d));
  }
  return {
    elements: a.length,
    changed,
    fractionChanged: changed / a.length,
    maxAbsDelta: max,
    relL2: Math.sqrt(dd) / Math.sqrt(aa),
    cosine: ab / Math.sqrt(aa * bb),
  };
}

/** |actual - expected| <= tol * max(1, |expected|). */
function near(actual: number, expected: number, tol = 1e-9): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tol * Math.max(1, Math.abs(expected)),
  );
}

/** The data of every stored entry of a zip, read by walking its local headers (independently of src/). */
function zipEntries(zip: Buffer): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  let p = 0;
  while (p + 30 <= zip.length && zip.readUInt32LE(p) === 0x04034b50) {
    const size = zip.readUInt32LE(18 + p);
    const nameLen = zip.readUInt16LE(p + 26);
    const extraLen = zip.readUInt16LE(p + 28);
    const name = zip.toString('utf8', p + 30, p + 30 + nameLen);
    const start = p + 30 + nameLen + extraLen;
    out.set(name, { start, end: start + size });
    p = start + size;
  }
  return out;
}

/** A copy of `buf` with its middle byte flipped (inside the data of every fixture, so its defect stays). */
function flipMiddle(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  out[out.length >> 1] ^= 0xff;
  return out;
}

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
  return {
    format: 'safetensors',
    path: 'models/model.safetensors',
    v1,
    v2,
    changed: CHANGED,
    dtype: 'f32',
    shape: [48, 64],
    tensorCount: 5,
    newChunks: 3,
    newBytes: 48 * 64 * 4,
    layers: LAYER3,
  };
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
  return {
    format: 'gguf',
    path: 'models/model.gguf',
    v1,
    v2,
    changed: CHANGED,
    dtype: 'f32',
    shape: [64, 48],
    tensorCount: 5,
    newChunks: 3,
    newBytes: 48 * 64 * 4,
    layers: LAYER3,
  };
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
  return {
    format: 'onnx',
    path: 'models/model.onnx',
    v1,
    v2,
    changed: CHANGED,
    dtype: 'f32',
    shape: [48, 64],
    tensorCount: 5,
    newChunks: 3,
    newBytes: 48 * 64 * 4,
    layers: LAYER3,
  };
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
    expect(text).toContain(`${c.changed}: values: ${tensorChunks} of ${tensorChunks} chunk(s) changed`);
    if (c.layers) expect(text).toContain('layer model.layers.3.*: 1 of 2 tensor(s) changed');

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

// ---------------------------------------------------------------- 2. safetensors edits

describe('safetensors edits', () => {
  const EMBED = 'model.embed_tokens.weight';
  const base = (): SafetensorsTensor[] => [
    { name: EMBED, dtype: 'F32', shape: [100, 64], data: f32(100 * 64, 41) }, // 25600 bytes: 6.25 chunks
    { name: 'model.layers.0.mlp.weight', dtype: 'BF16', shape: [64, 64], data: bf16(64 * 64, 42) },
    { name: 'model.layers.0.mlp.bias', dtype: 'F32', shape: [32, 64], data: f32(32 * 64, 43) },
    { name: 'model.layers.1.mlp.weight', dtype: 'F16', shape: [64, 64], data: f16(64 * 64, 44) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [500], data: f32(500, 45) },
  ];
  const headerSize = (b: Buffer) => 8 + Number(b.readBigUInt64LE(0));

  it('header shift, append, resize, retype and remove store only what changed and diff says what', () => {
    const meta = { format: 'pt' };
    const files: Buffer[] = [];
    const t1 = base();
    files.push(writeSafetensors(t1, meta));
    const r = repo({ 'models/model.safetensors': files[0]! });
    const c1 = r.commit('v1');
    expect(c1.newChunks).toBe(1 + 7 + 2 + 2 + 2 + 1);

    // v2: a longer __metadata__ moves every tensor by a non-multiple of the chunk size
    const longMeta = {
      format: 'pt',
      note: 'a much longer metadata string that moves all tensor data further into the file',
      step: '12345',
    };
    files.push(writeSafetensors(t1, longMeta));
    const [h1, h2] = [headerSize(files[0]!), headerSize(files[1]!)];
    expect(h2 - h1).toBeGreaterThan(0);
    expect((h2 - h1) % CHUNK).not.toBe(0);
    expect(files[1]!.subarray(h2).equals(files[0]!.subarray(h1))).toBe(true);
    r.write('models/model.safetensors', files[1]!);
    const c2 = r.commit('v2: metadata');
    expect({ newChunks: c2.newChunks, newBytes: c2.newBytes }).toEqual({ newChunks: 1, newBytes: h2 });
    let d = r.diff('v1', 'v2').files[0];
    expect(d).toMatchObject({ status: 'modified', chunksChanged: 1, bytesNew: h2 });
    expect(d.tensors).toEqual({ format: 'safetensors', changes: [], unchanged: 5, layers: [] });

    // v3: a tensor appended
    const NEW = 'model.layers.2.mlp.weight';
    const t3 = [...t1, { name: NEW, dtype: 'F32', shape: [32, 64], data: f32(32 * 64, 46) }];
    files.push(writeSafetensors(t3, longMeta));
    r.write('models/model.safetensors', files[2]!);
    const c3 = r.commit('v3: append');
    expect({ newChunks: c3.newChunks, newBytes: c3.newBytes }).toEqual({
      newChunks: 1 + 2,
      newBytes: headerSize(files[2]!) + 32 * 64 * 4,
    });
    d = r.diff('v2', 'v3').files[0];
    expect(d.tensors.changes).toEqual([
      {
        name: NEW,
        status: 'added',
        dtype: [null, 'f32'],
        shape: [null, [32, 64]],
        chunksChanged: 2,
        chunksTotal: 2,
        bytes: 32 * 64 * 4,
      },
    ]);
    expect(d.tensors.unchanged).toBe(5);
    expect(d.tensors.layers).toEqual([{ layer: 'model.layers.2.*', changed: 1, total: 1 }]);
    expect(ok(r.run(['diff', 'v2', 'v3'])).stdout).toContain(`${NEW}: added f32 [32, 64]`);

    // v4: the embedding grows from [100, 64] to [120, 64] (rows appended); every tensor after it moves
    const t4 = t3.map((t) =>
      t.name === EMBED ? { ...t, shape: [120, 64], data: Buffer.concat([t.data!, f32(20 * 64, 47)]) } : t,
    );
    files.push(writeSafetensors(t4, longMeta));
    r.write('models/model.safetensors', files[3]!);
    const c4 = r.commit('v4: resize');
    // the header, the embedding's formerly partial 7th chunk, and its new 8th chunk
    expect({ newChunks: c4.newChunks, newBytes: c4.newBytes }).toEqual({
      newChunks: 3,
      newBytes: headerSize(files[3]!) + CHUNK + (120 * 64 * 4 - 7 * CHUNK),
    });
    d = r.diff('v3', 'v4').files[0];
    expect(d.tensors.changes).toEqual([
      {
        name: EMBED,
        status: 'reshaped',
        dtype: ['f32', 'f32'],
        shape: [
          [100, 64],
          [120, 64],
        ],
        chunksChanged: 2,
        chunksTotal: 8,
        bytes: CHUNK + (120 * 64 * 4 - 7 * CHUNK),
      },
    ]);
    expect(d.tensors.unchanged).toBe(5);
    expect(ok(r.run(['diff', 'v3', 'v4'])).stdout).toContain(`${EMBED}: shape [100, 64] -> [120, 64]`);

    // v5: one tensor goes from F32 to BF16
    const RETYPED = 'model.layers.0.mlp.bias';
    const t5 = t4.map((t) => (t.name === RETYPED ? { ...t, dtype: 'BF16', data: bf16(32 * 64, 48) } : t));
    files.push(writeSafetensors(t5, longMeta));
    r.write('models/model.safetensors', files[4]!);
    const c5 = r.commit('v5: retype');
    expect({ newChunks: c5.newChunks, newBytes: c5.newBytes }).toEqual({
      newChunks: 2,
      newBytes: headerSize(files[4]!) + 32 * 64 * 2,
    });
    d = r.diff('v4', 'v5').files[0];
    expect(d.tensors.changes).toHaveLength(1);
    expect(d.tensors.changes[0]).toMatchObject({
      name: RETYPED,
      status: 'retyped',
      dtype: ['f32', 'bf16'],
      shape: [
        [32, 64],
        [32, 64],
      ],
    });
    expect(d.tensors.layers).toEqual([{ layer: 'model.layers.0.*', changed: 1, total: 2 }]);
    expect(ok(r.run(['diff', 'v4', 'v5'])).stdout).toContain(`${RETYPED}: dtype f32 -> bf16`);

    // v6: a tensor removed
    const REMOVED = 'model.layers.1.mlp.weight';
    const t6 = t5.filter((t) => t.name !== REMOVED);
    files.push(writeSafetensors(t6, longMeta));
    r.write('models/model.safetensors', files[5]!);
    const c6 = r.commit('v6: remove');
    expect({ newChunks: c6.newChunks, newBytes: c6.newBytes }).toEqual({
      newChunks: 1,
      newBytes: headerSize(files[5]!),
    });
    d = r.diff('v5', 'v6').files[0];
    expect(d.tensors.changes).toHaveLength(1);
    expect(d.tensors.changes[0]).toMatchObject({
      name: REMOVED,
      status: 'removed',
      dtype: ['f16', null],
      shape: [[64, 64], null],
    });
    expect(d.tensors.unchanged).toBe(5);
    expect(d.tensors.layers).toEqual([{ layer: 'model.layers.1.*', changed: 1, total: 1 }]);
    expect(ok(r.run(['diff', 'v5', 'v6'])).stdout).toContain(`${REMOVED}: removed`);

    // every version comes back bit for bit
    for (let i = 0; i < files.length; i++) {
      ok(r.run(['checkout', `v${i + 1}`]));
      expect(r.read('models/model.safetensors').equals(files[i]!), `v${i + 1}`).toBe(true);
    }
  });

  it('sharded checkpoints: each shard is recognised on its own; a change in one leaves the other unchanged', () => {
    const shard1 = (w: Buffer) =>
      writeSafetensors(
        [
          { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [64, 64], data: bf16(64 * 64, 51) },
          { name: 'model.layers.0.mlp.weight', dtype: 'BF16', shape: [64, 64], data: w },
        ],
        { format: 'pt' },
      );
    const shard2 = (w: Buffer) =>
      writeSafetensors(
        [
          { name: 'model.layers.1.mlp.weight', dtype: 'BF16', shape: [64, 64], data: w },
          { name: 'model.norm.weight', dtype: 'F32', shape: [64], data: f32(64, 54) },
        ],
        { format: 'pt' },
      );
    const index = (total: number) =>
      Buffer.from(
        JSON.stringify(
          {
            metadata: { total_size: total },
            weight_map: {
              'model.embed_tokens.weight': 'model-00001-of-00002.safetensors',
              'model.layers.0.mlp.weight': 'model-00001-of-00002.safetensors',
              'model.layers.1.mlp.weight': 'model-00002-of-00002.safetensors',
              'model.norm.weight': 'model-00002-of-00002.safetensors',
            },
          },
          null,
          2,
        ),
      );
    const S1 = 'models/model-00001-of-00002.safetensors';
    const S2 = 'models/model-00002-of-00002.safetensors';
    const IDX = 'models/model.safetensors.index.json';
    const a1 = shard1(bf16(4096, 52));
    const a2 = shard2(bf16(4096, 53));
    const r = repo({ [S1]: a1, [S2]: a2, [IDX]: index(4 * 8192 + 256) });
    r.commit('v1');

    // v2: shard 2's layer 1 changes
    const b2 = shard2(bf16(4096, 530));
    r.write(S2, b2);
    const c2 = r.commit('v2');
    expect(c2.changes).toEqual([{ path: S2, status: 'modified' }]);
    expect({ newChunks: c2.newChunks, newBytes: c2.newBytes }).toEqual({ newChunks: 2, newBytes: 8192 });
    let d = r.diff('v1', 'v2');
    expect(d.files.map((f: { path: string; status: string }) => [f.path, f.status])).toEqual([
      [S1, 'unchanged'],
      [S2, 'modified'],
      [IDX, 'unchanged'],
    ]);
    const f2 = d.files[1];
    expect(f2.tensors.format).toBe('safetensors');
    expect(f2.tensors.changes).toMatchObject([
      { name: 'model.layers.1.mlp.weight', status: 'values', chunksChanged: 2, chunksTotal: 2 },
    ]);
    expect(f2.tensors.unchanged).toBe(1);
    expect(f2.tensors.layers).toEqual([{ layer: 'model.layers.1.*', changed: 1, total: 1 }]);
    expect(d.files[0].tensors).toBeUndefined();

    // v3: shard 1's layer 0 changes, and the index is rewritten: shard 1 is recognised too, the index is a plain file
    const b1 = shard1(bf16(4096, 520));
    r.write(S1, b1);
    r.write(IDX, index(4 * 8192 + 256 + 1));
    const c3 = r.commit('v3');
    expect(c3.changes).toEqual([
      { path: S1, status: 'modified' },
      { path: IDX, status: 'modified' },
    ]);
    d = r.diff('v2', 'v3');
    expect(d.files.map((f: { path: string; status: string }) => [f.path, f.status])).toEqual([
      [S1, 'modified'],
      [S2, 'unchanged'],
      [IDX, 'modified'],
    ]);
    expect(d.files[0].tensors.format).toBe('safetensors');
    expect(d.files[0].tensors.changes).toMatchObject([
      { name: 'model.layers.0.mlp.weight', status: 'values', chunksChanged: 2, chunksTotal: 2 },
    ]);
    expect(d.files[0].tensors.layers).toEqual([{ layer: 'model.layers.0.*', changed: 1, total: 1 }]);
    expect(d.files[2].tensors).toBeUndefined();
    expect(d.files[2]).toMatchObject({ chunksChanged: 1, chunksTotal: 1 });

    ok(r.run(['checkout', 'v1']));
    expect(r.read(S1).equals(a1)).toBe(true);
    expect(r.read(S2).equals(a2)).toBe(true);
    ok(r.run(['checkout', 'v2']));
    expect(r.read(S1).equals(a1)).toBe(true);
    expect(r.read(S2).equals(b2)).toBe(true);
    ok(r.run(['checkout', 'main']));
    expect(r.read(S1).equals(b1)).toBe(true);
    expect(r.read(S2).equals(b2)).toBe(true);
  });
});

describe('tied weights (the same tensor bytes several times in a file)', () => {
  it('a commit counts each new chunk once, however often it occurs', () => {
    const TIED = 8;
    const tied = (seed: number) => {
      const w = bf16(128 * 128, seed); // 32 KiB: 8 chunks
      return writeSafetensors(
        Array.from({ length: TIED }, (_, i) => ({
          name: `model.layers.${i}.tied.weight`,
          dtype: 'BF16',
          shape: [128, 128],
          data: w,
        })),
        { seed: String(seed) },
      );
    };
    const files = {
      'models/a.safetensors': tied(201),
      'models/b.safetensors': tied(202),
      'models/c.safetensors': tied(203),
    };
    const r = repo(files);
    const before = r.objects();
    const c = r.commit('v1');
    const grown = added(before, r.objects());
    // distinct chunks: each file's header and the 8 chunks of its tensor; plus 3 file objects and a manifest
    const headers = Object.values(files).reduce((s, f) => s + 8 + Number(f.readBigUInt64LE(0)), 0);
    expect(grown.count).toBe(3 * (1 + 8) + 3 + 1);
    // soft: the counts are reported wrong when the copies are stored concurrently; the rest must still be checked
    expect
      .soft({ newChunks: c.newChunks, newBytes: c.newBytes })
      .toEqual({ newChunks: 3 * (1 + 8), newBytes: headers + 3 * 32768 });
    expect.soft(c.storedBytes).toBeLessThanOrEqual(grown.bytes);
    // on disk, every copy of the tensor refers to the same chunks
    const fo = r.fileObjects('v1')('models/a.safetensors');
    const ids = fo.layout.tensors.map((t: { chunkStart: number; chunkEnd: number }) =>
      fo.chunks
        .slice(t.chunkStart, t.chunkEnd)
        .map((ch: [string, number]) => ch[0])
        .join(),
    );
    expect(new Set(ids).size).toBe(1);
    rmSync(r.path('models'), { recursive: true });
    ok(r.run(['checkout', '--force', 'v1']));
    for (const [p, b] of Object.entries(files)) expect(r.read(p).equals(b), p).toBe(true);
  });
});

// ---------------------------------------------------------------- 3. fallback and recognition by content

describe('odd files: plain fallback, recognition by content', () => {
  const valid3 = () =>
    writeSafetensors([
      { name: 'model.layers.0.w', dtype: 'F32', shape: [1000], data: f32(1000, 61) },
      { name: 'model.layers.1.w', dtype: 'BF16', shape: [3000], data: bf16(3000, 62) },
      { name: 'model.layers.2.w', dtype: 'F32', shape: [1500], data: f32(1500, 63) },
    ]);

  /** Files that must NOT be recognised as models. */
  function plainFixtures(): Record<string, Buffer> {
    const hdrTooBig = valid3();
    hdrTooBig.writeBigUInt64LE(BigInt(hdrTooBig.length + 100), 0);

    const oob = safetensorsFromHeader(
      { 'model.w': { dtype: 'F32', shape: [4096], data_offsets: [0, 16384] } },
      f32(2048, 64),
    );
    const overlap = safetensorsFromHeader(
      {
        'model.a': { dtype: 'F32', shape: [2048], data_offsets: [0, 8192] },
        'model.b': { dtype: 'F32', shape: [2048], data_offsets: [4096, 12288] },
      },
      f32(3072, 65),
    );
    const notJson = safetensorsFromHeader(
      '{"model.w": {"dtype": "F32", "shape": [2048], "data_offsets": [0, 8192]',
      f32(2048, 66),
    );
    const sizeMismatch = safetensorsFromHeader(
      { 'model.w': { dtype: 'F32', shape: [1000], data_offsets: [0, 8192] } },
      f32(2048, 67),
    );
    const v = valid3();
    const truncatedSt = v.subarray(0, Math.floor(v.length * 0.6));
    const g = writeGguf({
      metadata: { 'general.architecture': 'llama' },
      tensors: [
        { name: 'a', type: GGML.F32, dims: [2048], data: f32(2048, 68) },
        { name: 'b', type: GGML.BF16, dims: [4096], data: bf16(4096, 69) },
      ],
    });
    const truncatedGguf = g.subarray(0, Math.floor(g.length * 0.6));
    const o = writeOnnx([
      { name: 'a', dataType: 1, dims: [2048], raw: f32(2048, 70) },
      { name: 'b', dataType: 16, dims: [4096], raw: bf16(4096, 71) },
    ]);
    const truncatedOnnx = o.subarray(0, Math.floor(o.length * 0.6));
    const deflated = writeTorchZip(
      [
        { key: '0', data: f32(2048, 72) },
        { key: '1', data: bf16(4096, 73) },
      ],
      { compress: true },
    );

    const random = (seed: number) => {
      const b = seededBytes(20000, seed);
      // deterministic fixtures: make sure no magic matches by chance
      expect(b[8]).not.toBe(0x7b);
      expect(b.toString('latin1', 0, 4)).not.toBe('GGUF');
      expect(b.readUInt32LE(0)).not.toBe(0x04034b50);
      return b;
    };
    return {
      'models/hdr-too-big.safetensors': hdrTooBig,
      'models/offsets-out-of-range.safetensors': oob,
      'models/overlap.safetensors': overlap,
      'models/not-json.safetensors': notJson,
      'models/size-mismatch.safetensors': sizeMismatch,
      'models/truncated.safetensors': Buffer.from(truncatedSt),
      'models/truncated.gguf': Buffer.from(truncatedGguf),
      'models/truncated.onnx': Buffer.from(truncatedOnnx),
      'models/deflated.pt': deflated,
      'models/random/model.safetensors': random(81),
      'models/random/model.gguf': random(82),
      'models/random/model.onnx': random(83),
      'models/random/model.pt': random(84),
    };
  }

  it(
    'malformed and disguised files are plain files, stored and restored bit for bit; models are found by ' + 'content',
    () => {
      const plain = plainFixtures();
      // a valid safetensors file with an unhelpful name, and one with zero-size tensors
      const weightsBin = (w: Buffer) =>
        writeSafetensors([
          { name: 'model.layers.0.w', dtype: 'F32', shape: [1000], data: f32(1000, 91) },
          { name: 'model.layers.1.w', dtype: 'F32', shape: [1000], data: w },
        ]);
      const zeroSize = (w: Buffer) =>
        writeSafetensors([
          { name: 'model.layers.0.empty', dtype: 'F32', shape: [0, 64], data: Buffer.alloc(0) },
          { name: 'model.layers.0.w', dtype: 'F32', shape: [32, 64], data: f32(32 * 64, 93) },
          { name: 'model.layers.1.empty', dtype: 'BF16', shape: [0], data: Buffer.alloc(0) },
          { name: 'model.layers.1.w', dtype: 'F32', shape: [1024], data: w },
          { name: 'model.layers.2.empty', dtype: 'F16', shape: [4, 0], data: Buffer.alloc(0) },
        ]);
      // a valid file whose header lists the tensors in another order than their data
      const unordered = (w: Buffer) =>
        safetensorsFromHeader(
          {
            'model.layers.2.w': { dtype: 'F32', shape: [1500], data_offsets: [10000, 16000] },
            'model.layers.0.w': { dtype: 'BF16', shape: [5000], data_offsets: [0, 10000] },
          },
          Buffer.concat([bf16(5000, 95), w]),
        );
      const v1: Record<string, Buffer> = {
        ...plain,
        'models/weights.bin': weightsBin(f32(1000, 92)),
        'models/zero-size.safetensors': zeroSize(f32(1024, 94)),
        'models/unordered.safetensors': unordered(f32(1500, 96)),
      };
      const v2: Record<string, Buffer> = {
        'models/weights.bin': weightsBin(f32(1000, 920)),
        'models/zero-size.safetensors': zeroSize(f32(1024, 940)),
        'models/unordered.safetensors': unordered(f32(1500, 960)),
      };
      for (const [p, b] of Object.entries(plain)) v2[p] = flipMiddle(b);

      const r = repo(v1);
      const c1 = r.commit('v1');
      expect(c1.files).toBe(Object.keys(v1).length);
      for (const [p, b] of Object.entries(v2)) r.write(p, b);
      const c2 = r.commit('v2');
      expect(c2.changes).toHaveLength(Object.keys(v1).length);

      const d = r.diff('v1', 'v2');
      const byPath = new Map<string, any>(d.files.map((f: { path: string }) => [f.path, f]));
      for (const [p, b] of Object.entries(plain)) {
        const f = byPath.get(p);
        expect(f.status, p).toBe('modified');
        expect(f.tensors, `${p} must not be recognised as a model`).toBeUndefined();
        // plain fixed-size cutting from offset 0; the flipped byte is in one chunk only
        expect({ path: p, total: f.chunksTotal, changed: f.chunksChanged }).toEqual({
          path: p,
          total: chunksOf(b.length),
          changed: 1,
        });
      }

      // on disk: neither side's file object has a layout, and its chunks are cut from offset 0
      const objectsOf = { v1: r.fileObjects('v1'), v2: r.fileObjects('v2') };
      for (const [p, b] of Object.entries(plain)) {
        for (const rev of ['v1', 'v2'] as const) {
          const fo = objectsOf[rev](p);
          expect(fo.layout, `${p} ${rev}`).toBeUndefined();
          expect(fo.size).toBe(b.length);
          expect(fo.chunks.map((c: [string, number]) => c[1])).toEqual(
            Array.from({ length: chunksOf(b.length) }, (_, i) => Math.min(CHUNK, b.length - i * CHUNK)),
          );
        }
      }
      for (const rev of ['v1', 'v2'] as const) {
        expect(objectsOf[rev]('models/weights.bin').layout.format).toBe('safetensors');
        const zl = objectsOf[rev]('models/zero-size.safetensors').layout;
        expect(zl.format).toBe('safetensors');
        // zero-size tensors own an empty chunk range
        for (const t of zl.tensors)
          expect(t.chunkEnd - t.chunkStart, t.name).toBe(
            t.name.endsWith('.empty') ? 0 : t.end - t.start === 8192 ? 2 : 1,
          );
      }

      const wb = byPath.get('models/weights.bin');
      expect(wb.tensors?.format).toBe('safetensors');
      expect(wb.tensors.changes).toEqual([
        {
          name: 'model.layers.1.w',
          status: 'values',
          dtype: ['f32', 'f32'],
          shape: [[1000], [1000]],
          chunksChanged: 1,
          chunksTotal: 1,
          bytes: 4000,
        },
      ]);
      expect(wb.tensors.unchanged).toBe(1);

      const z = byPath.get('models/zero-size.safetensors');
      expect(z.tensors?.format).toBe('safetensors');
      expect(z.tensors.changes).toEqual([
        {
          name: 'model.layers.1.w',
          status: 'values',
          dtype: ['f32', 'f32'],
          shape: [[1024], [1024]],
          chunksChanged: 1,
          chunksTotal: 1,
          bytes: 4096,
        },
      ]);
      expect(z.tensors.unchanged).toBe(4);
      expect(z.tensors.layers).toEqual([{ layer: 'model.layers.1.*', changed: 1, total: 2 }]);

      const u = byPath.get('models/unordered.safetensors');
      expect(u.tensors?.format).toBe('safetensors');
      expect(u.tensors.changes).toEqual([
        {
          name: 'model.layers.2.w',
          status: 'values',
          dtype: ['f32', 'f32'],
          shape: [[1500], [1500]],
          chunksChanged: 2,
          chunksTotal: 2,
          bytes: 6000,
        },
      ]);
      expect(u.tensors.unchanged).toBe(1);

      ok(r.run(['checkout', 'v1']));
      for (const [p, b] of Object.entries(v1)) expect(r.read(p).equals(b), p).toBe(true);
      ok(r.run(['checkout', 'main']));
      for (const [p, b] of Object.entries(v2)) expect(r.read(p).equals(b), p).toBe(true);
      expect(json(r.run(['fsck', '--json'])).ok).toBe(true);
    },
  );
});

// ---------------------------------------------------------------- 4. diff --stats

describe('diff --stats', () => {
  it('reports per-tensor statistics that match values computed here', () => {
    // tensor A: f32 [1000]; v2 adds 0.5 to exactly 10 elements
    const a1 = normalF32(1000, 1, 101);
    const a2 = Float32Array.from(a1);
    const bumped = [3, 97, 150, 222, 401, 512, 640, 777, 888, 999];
    for (const i of bumped) a2[i] = a2[i]! + 0.5;
    // tensor B: f32 [64, 128] (8 chunks); v2 scales the elements of chunks 2 and 5 by 1.5
    const b1 = normalF32(64 * 128, 0.02, 102);
    const b2 = Float32Array.from(b1);
    for (const k of [2, 5]) for (let i = k * 1024; i < (k + 1) * 1024; i++) b2[i] = b2[i]! * 1.5;
    // tensor C: bf16 [64, 64], negated in v2
    const c1 = bf16(64 * 64, 103);
    const c2 = Buffer.from(c1);
    for (let i = 1; i < c2.length; i += 2) c2[i] ^= 0x80;
    // an fp8 tensor (no statistics for its dtype) and an unchanged tensor
    const fp8v1 = seededBytes(4096, 104);
    const fp8v2 = seededBytes(4096, 1040);
    const norm = f32(256, 105);

    const model = (a: Float32Array, b: Float32Array, c: Buffer, fp8: Buffer) =>
      writeSafetensors([
        { name: 'model.layers.0.mlp.weight', dtype: 'F32', shape: [1000], data: f32Bytes(a) },
        { name: 'model.layers.1.mlp.weight', dtype: 'F32', shape: [64, 128], data: f32Bytes(b) },
        { name: 'model.layers.2.attn.weight', dtype: 'BF16', shape: [64, 64], data: c },
        { name: 'model.layers.3.fp8', dtype: 'F8_E4M3', shape: [4096], data: fp8 },
        { name: 'model.norm.weight', dtype: 'F32', shape: [256], data: norm },
      ]);
    const notes1 = seededBytes(3 * CHUNK, 106);
    const notes2 = Buffer.from(notes1);
    notes2[CHUNK + 10] ^= 0x01;

    const r = repo({ 'models/model.safetensors': model(a1, b1, c1, fp8v1), 'models/notes.bin': notes1 });
    r.commit('v1');
    r.write('models/model.safetensors', model(a2, b2, c2, fp8v2));
    r.write('models/notes.bin', notes2);
    r.commit('v2');

    const d = json(r.run(['diff', '--stats', '--json', 'v1', 'v2']));
    const byPath = new Map<string, any>(d.files.map((f: { path: string }) => [f.path, f]));
    const f = byPath.get('models/model.safetensors');
    const changes = new Map<string, any>(f.tensors.changes.map((c: { name: string }) => [c.name, c]));
    expect([...changes.keys()].sort()).toEqual([
      'model.layers.0.mlp.weight',
      'model.layers.1.mlp.weight',
      'model.layers.2.attn.weight',
      'model.layers.3.fp8',
    ]);
    expect(f.tensors.unchanged).toBe(1);
    expect(changes.has('model.norm.weight')).toBe(false);
    expect(d.statsBytes).toBeGreaterThan(0);

    // A: 10 of 1000 elements moved by 0.5
    const sa = changes.get('model.layers.0.mlp.weight').stats;
    const ea = expectedStats(Float64Array.from(a1), Float64Array.from(a2));
    const normA = Math.sqrt(a1.reduce((s, x) => s + x * x, 0));
    expect(sa.elements).toBe(1000);
    expect(sa.changed).toBe(10);
    expect(sa.fractionChanged).toBe(0.01);
    near(sa.maxAbsDelta, 0.5, 1e-6);
    near(sa.maxAbsDelta, ea.maxAbsDelta);
    near(sa.relL2, Math.sqrt(10 * 0.25) / normA, 1e-6);
    near(sa.relL2, ea.relL2);
    near(sa.cosine, ea.cosine);
    near(sa.normA, normA, 1e-6);
    expect(sa.cosine).toBeLessThan(1);

    // B: a quarter of the elements scaled, across chunk boundaries
    const sb = changes.get('model.layers.1.mlp.weight').stats;
    const eb = expectedStats(Float64Array.from(b1), Float64Array.from(b2));
    expect(changes.get('model.layers.1.mlp.weight')).toMatchObject({
      status: 'values',
      chunksChanged: 2,
      chunksTotal: 8,
    });
    expect(sb.changed).toBe(eb.changed);
    near(sb.fractionChanged, 0.25, 1e-3);
    near(sb.fractionChanged, eb.fractionChanged);
    near(sb.maxAbsDelta, eb.maxAbsDelta);
    near(sb.relL2, eb.relL2);
    near(sb.cosine, eb.cosine);

    // C: negated bf16
    const sc = changes.get('model.layers.2.attn.weight').stats;
    const cv1 = readBf16(c1);
    const ec = expectedStats(cv1, readBf16(c2));
    expect(sc.fractionChanged).toBe(1);
    near(sc.cosine, -1, 1e-9);
    near(sc.relL2, 2, 1e-9);
    near(sc.maxAbsDelta, 2 * cv1.reduce((m, x) => Math.max(m, Math.abs(x)), 0));
    near(sc.maxAbsDelta, ec.maxAbsDelta);

    // fp8: changed, but no statistics for its dtype
    const fp8 = changes.get('model.layers.3.fp8');
    expect(fp8.stats).toBeUndefined();
    expect(fp8.statsSkipped).toMatch(/dtype f8_e4m3/);

    // a non-model file in the same versions keeps the chunk-level diff
    const notes = byPath.get('models/notes.bin');
    expect(notes).toMatchObject({ status: 'modified', chunksChanged: 1, chunksTotal: 3 });
    expect(notes.tensors).toBeUndefined();

    // the text output puts the statistics under the changed tensor
    const lines = ok(r.run(['diff', '--stats', 'v1', 'v2'])).stdout.split('\n');
    const at = lines.findIndex((l) => l.includes('model.layers.0.mlp.weight: values:'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/max\|d\|=0\.5000\s+relL2=\S+\s+changed=1\.00%\s+cos=0\.\d{6}/);
    const atC = lines.findIndex((l) => l.includes('model.layers.2.attn.weight: values:'));
    expect(lines[atC + 1]).toMatch(/max\|d\|=\S+\s+relL2=2\.000\s+changed=100\.00%\s+cos=-1\.000000/);
    expect(lines.some((l) => l.includes('model.norm.weight'))).toBe(false);
    expect(lines.filter((l) => l.includes('max|d|='))).toHaveLength(3);
  });

  it('diff --stats needs two versions (BAD_ARGUMENT, exit 2)', () => {
    const r = repo({
      'models/model.safetensors': writeSafetensors([{ name: 'w', dtype: 'F32', shape: [64], data: f32(64, 111) }]),
    });
    r.commit('v1');
    for (const args of [
      ['diff', '--stats'],
      ['diff', '--stats', 'v1'],
    ]) {
      const t = r.run(args);
      expect(t.exitCode, t.stderr).toBe(2);
      expect(t.stderr).toMatch(/^mvm: [^\n]*two versions[^\n]*\n/);
      const j = r.run([...args, '--json']);
      expect(j.exitCode).toBe(2);
      expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'BAD_ARGUMENT', exitCode: 2 });
    }
  });
});

// ---------------------------------------------------------------- 5. compression

describe('compression', () => {
  /** Sum of the sizes of every object file under .mvm/objects. */
  const stored = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);

  it.each([
    { label: '4 KiB chunks', chunkSize: CHUNK },
    { label: 'default 1 MiB chunks', chunkSize: null },
  ])(
    'bf16 N(0, 0.02) weights are stored in at most 3/4 of their size and below plain zstd -3 ($label)',
    ({ chunkSize }) => {
      const weights = randomBf16(1536 * 1024, 0.02, 7); // 3 MiB
      const file = writeSafetensors(
        [{ name: 'model.layers.0.mlp.weight', dtype: 'BF16', shape: [1536, 1024], data: weights }],
        { format: 'pt' },
      );
      const zstd3 = compress(file, { compressionLevel: 3 }).length;
      const r = repo({ 'models/model.safetensors': file }, chunkSize);
      const c = r.commit('v1');
      expect(c.newBytes).toBe(file.length);
      const onDisk = stored(r.objects());
      expect(onDisk).toBeGreaterThanOrEqual(c.storedBytes);
      expect(onDisk / file.length, `stored ${onDisk} of ${file.length}; plain zstd -3: ${zstd3}`).toBeLessThanOrEqual(
        0.75,
      );
      expect(onDisk).toBeLessThan(zstd3);
      rmSync(r.path('models/model.safetensors'));
      ok(r.run(['checkout', '--force', 'v1']));
      expect(r.read('models/model.safetensors').equals(file)).toBe(true);
    },
  );
});
