/** diff --stats: per-tensor statistics that match values computed here, and the arguments it needs. */
import { afterEach, describe, expect, it } from 'vitest';
import { seededBytes, writeSafetensors } from '../../helpers/modelWriters.js';
import { ok, json } from '../../helpers/assertions.js';
import {
  CHUNK,
  bf16,
  cleanups,
  expectedStats,
  f32,
  f32Bytes,
  near,
  normalF32,
  readBf16,
  repo,
} from '../../helpers/modelRepo.js';

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Two tensor diffs alike; statistics equal but for the last bits (sums combine in the order chunks finish). */
function sameTensors(x: any, y: any) {
  const strip = (t: any) => ({ ...t, changes: t.changes.map(({ stats, ...c }: any) => c) });
  expect(strip(x)).toEqual(strip(y));
  x.changes.forEach((c: any, i: number) => {
    const w = y.changes[i].stats;
    expect(c.stats.elements).toBe(w.elements);
    expect(c.stats.changed).toBe(w.changed);
    for (const k of ['maxAbsDelta', 'relL2', 'cosine', 'normA', 'normB']) near(c.stats[k], w[k], 1e-12);
  });
}

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
    // (each tensor named after its layer's prefix, under its layer)
    const at = lines.indexOf('    layer model.layers.0.*: 1 of 1 tensor(s) changed') + 1;
    expect(at).toBeGreaterThan(0);
    expect(lines[at]).toMatch(/^ {6}mlp\.weight: values:/);
    expect(lines[at + 1]).toMatch(/max\|d\|=0\.5000\s+relL2=\S+\s+changed=1\.00%\s+cos=0\.\d{6}/);
    const atC = lines.indexOf('    layer model.layers.2.*: 1 of 1 tensor(s) changed') + 1;
    expect(atC).toBeGreaterThan(0);
    expect(lines[atC]).toMatch(/^ {6}attn\.weight: values:/);
    expect(lines[atC + 1]).toMatch(/max\|d\|=\S+\s+relL2=2\.000\s+changed=100\.00%\s+cos=-1\.000000/);
    expect(lines.some((l) => l.includes('model.norm.weight'))).toBe(false);
    expect(lines.filter((l) => l.includes('max|d|='))).toHaveLength(3);
  });

  it('diff --stats [REV] compares REV (default HEAD) with the workspace, as between two versions', () => {
    const w1 = normalF32(64 * 128, 0.02, 201);
    const w2 = Float32Array.from(w1);
    for (let i = 3 * 1024; i < 4 * 1024; i++) w2[i] = w2[i]! + 0.25; // one chunk of eight moves
    const h1 = bf16(64 * 64, 202);
    const h2 = Buffer.from(h1);
    for (let i = 1; i < h2.length; i += 2) h2[i] ^= 0x80; // negated
    const model = (w: Float32Array, h: Buffer) =>
      writeSafetensors([
        { name: 'model.layers.0.mlp.weight', dtype: 'F32', shape: [64, 128], data: f32Bytes(w) },
        { name: 'model.layers.1.attn.weight', dtype: 'BF16', shape: [64, 64], data: h },
        { name: 'model.norm.weight', dtype: 'F32', shape: [256], data: f32(256, 203) },
      ]);
    const r = repo({ 'models/model.safetensors': model(w1, h1), 'models/notes.txt': Buffer.from('one\n') });
    r.commit('v1');
    r.write('models/model.safetensors', model(w2, h2));
    r.write('models/notes.txt', Buffer.from('two\n'));
    const stored = Object.keys(r.objects()).length;
    // paths after --: only those files (a folder: the files under it)
    const one = json(r.run(['diff', '--stats', '--json', '--', 'models/model.safetensors']));
    expect(one.files.map((f: { path: string }) => f.path)).toEqual(['models/model.safetensors']);
    expect(one.totals).toMatchObject({ modified: 1, unchanged: 0 });
    const folder = json(r.run(['diff', '--json', 'v1', '--', 'models']));
    expect(folder.files.map((f: { path: string }) => f.path).sort()).toEqual([
      'models/model.safetensors',
      'models/notes.txt',
    ]);

    // HEAD (by default, or named) against the workspace: the new side read from the workspace file
    const ws = json(r.run(['diff', '--stats', '--json']));
    expect(ws.files.map((f: { path: string }) => f.path)).toEqual(['models/model.safetensors', 'models/notes.txt']);
    expect(ws.files[1].tensors).toBeUndefined();
    sameTensors(one.files[0].tensors, ws.files[0].tensors);
    expect(ws.from.label).toBe('HEAD');
    expect(ws.to).toMatchObject({ label: 'workspace', id: null });
    expect(ws.statsBytes).toBeGreaterThan(0);
    sameTensors(json(r.run(['diff', '--stats', 'v1', '--json'])).files[0].tensors, ws.files[0].tensors);
    // the diff stored nothing: its chunks were hashed, not kept
    expect(Object.keys(r.objects())).toHaveLength(stored);
    const changes = new Map<string, any>(ws.files[0].tensors.changes.map((c: { name: string }) => [c.name, c]));
    expect([...changes.keys()].sort()).toEqual(['model.layers.0.mlp.weight', 'model.layers.1.attn.weight']);
    const sw = changes.get('model.layers.0.mlp.weight').stats;
    const ew = expectedStats(Float64Array.from(w1), Float64Array.from(w2));
    expect(sw.changed).toBe(1024);
    near(sw.maxAbsDelta, 0.25, 1e-6);
    near(sw.relL2, ew.relL2);
    near(sw.cosine, ew.cosine);
    near(changes.get('model.layers.1.attn.weight').stats.cosine, -1, 1e-9);

    // the same numbers once the workspace is committed
    r.commit('v2');
    const vv = json(r.run(['diff', '--stats', 'v1', 'v2', '--json']));
    sameTensors(vv.files[0].tensors, ws.files[0].tensors);

    // text: the statistics under each changed tensor
    r.write('models/model.safetensors', model(w1, h2));
    const text = ok(r.run(['diff', '--stats'])).stdout;
    expect(text).toMatch(/^diff HEAD \(v2 [0-9a-f]+\) -> workspace$/m);
    expect(text).toMatch(/max\|d\|=0\.2500\s+relL2=\S+\s+changed=12\.50%/);
    expect(text.split('\n').filter((l) => l.includes('max|d|='))).toHaveLength(1);
  });

  it('diff --stats of an unchanged workspace streams nothing', () => {
    const r = repo({
      'models/model.safetensors': writeSafetensors([{ name: 'w', dtype: 'F32', shape: [64], data: f32(64, 111) }]),
    });
    r.commit('v1');
    // nothing changed: no statistics to compute, and none reported
    const same = json(r.run(['diff', '--stats', '--json']));
    expect(same.files.every((f: { status: string }) => f.status === 'unchanged')).toBe(true);
    expect(same.statsBytes).toBe(0);
  });
});
