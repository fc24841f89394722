/**
 * Fine-tune deltas end to end: a tensor changed a little is stored as a delta
 * against the parent version's chunk, checks out bit for bit both ways, keeps
 * delta chains at most MAX_DELTA_DEPTH deep, survives gc and fsck, and
 * reaches a partial clone as deltas (each stored there with the base it was
 * checked through). Deltas on remotes: commands/push-deltas.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { TRANSFORMER_TENSORS, prng, writeSafetensors } from '../../helpers/modelWriters.js';
import { storedEncodings } from '../../helpers/deltaModels.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

const N = 128 * 1024; // bf16 elements per tensor: 256 KiB, one chunk

/** N(0, 0.02) weights as f32 values. */
function weights(seed: number): Float32Array {
  const r = prng(seed);
  return Float32Array.from(
    { length: N },
    () => 0.02 * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()),
  );
}
/** w += N(0, (rel * 0.02)^2), as a fine-tune step moves weights. */
function tune(w: Float32Array, rel: number, seed: number): Float32Array {
  const r = prng(seed);
  return w.map((x) => x + rel * 0.02 * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}
function bf16(w: Float32Array): Buffer {
  const u = new Uint32Array(w.buffer.slice(0));
  const out = Buffer.alloc(w.length * 2);
  for (let i = 0; i < w.length; i++)
    out.writeUInt16LE(((u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
  return out;
}
const model = (ws: Float32Array[]) =>
  writeSafetensors(TRANSFORMER_TENSORS.map((name, i) => ({ name, dtype: 'BF16', shape: [N], data: bf16(ws[i]!) })));

describe('fine-tune deltas', () => {
  it('store a fine-tuned tensor as a delta, restore both versions bit for bit, and stay within the depth bound', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[]) => mvm(args, { cwd: t.dir });
    let ws = TRANSFORMER_TENSORS.map((_, i) => weights(i + 1));
    const v1 = model(ws);
    write(t.path('model.safetensors'), v1);
    ok(run(['init']));
    ok(run(['add', 'model.safetensors']));
    ok(run(['commit', '-m', 'v1']));
    // two of six tensors move by 10% of their spread
    ws = ws.map((w, i) => (i === 1 || i === 4 ? tune(w, 0.1, 10 + i) : w));
    const v2 = model(ws);
    write(t.path('model.safetensors'), v2);
    const c2 = json(run(['commit', '-m', 'v2: fine-tune', '--json']));
    const changed = 2 * N * 2;
    expect(c2.newBytes).toBe(changed);
    expect(c2.storedBytes / changed).toBeLessThan(0.6);
    expect(storedEncodings(t.dir)).toMatchObject({ delta: 2, maxDepth: 1 });
    ok(run(['checkout', 'v1']));
    expect(readFileSync(t.path('model.safetensors')).equals(v1)).toBe(true);
    ok(run(['checkout', 'main']));
    expect(readFileSync(t.path('model.safetensors')).equals(v2)).toBe(true);
    // diff --stats reads deltas like any chunk
    const d = json(run(['diff', '--stats', 'v1', 'v2', '--json']));
    expect(d.files[0].tensors.changes.map((c: any) => c.name)).toEqual(['layers.0.attn.weight', 'layers.1.mlp.weight']);
    expect(d.files[0].tensors.changes[0].stats.relL2).toBeGreaterThan(0.05);

    // a long chain of small steps on one tensor: never deeper than 8, then stored whole again
    const versions: Buffer[] = [v2];
    for (let k = 0; k < 10; k++) {
      ws = ws.map((w, i) => (i === 1 ? tune(w, 0.01, 100 + k) : w));
      versions.push(model(ws));
      write(t.path('model.safetensors'), versions[versions.length - 1]!);
      ok(run(['commit', '-m', `step ${k}`]));
    }
    const e = storedEncodings(t.dir);
    expect(e.maxDepth).toBe(8);
    ok(run(['checkout', 'v2']));
    expect(readFileSync(t.path('model.safetensors')).equals(v2)).toBe(true);
    ok(run(['checkout', 'main']));
    expect(readFileSync(t.path('model.safetensors')).equals(versions[10]!)).toBe(true);

    // gc keeps what deltas need; fsck verifies every delta through its base
    ok(run(['gc', '--grace', '0']));
    const f = json(run(['fsck', '--json']));
    expect(f.problems ?? f.errors ?? []).toEqual([]);
    ok(run(['checkout', 'v1']));
    expect(readFileSync(t.path('model.safetensors')).equals(v1)).toBe(true);
  });

  it('reach a partial clone as deltas, stored with their bases, and restore the same bytes', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const run = (args: string[], cwd = t.path('a')) => mvm(args, { cwd });
    let ws = TRANSFORMER_TENSORS.map((_, i) => weights(i + 50));
    write(t.path('a/model.safetensors'), model(ws));
    ok(run(['init']));
    ok(run(['add', 'model.safetensors']));
    ok(run(['commit', '-m', 'v1']));
    ws = ws.map((w, i) => (i % 2 === 0 ? tune(w, 0.05, 60 + i) : w));
    const v2 = model(ws);
    write(t.path('a/model.safetensors'), v2);
    ok(run(['commit', '-m', 'v2']));
    expect(storedEncodings(t.path('a')).delta).toBe(3);
    ok(run(['remote', 'add', 'origin', t.path('remote')]));
    ok(run(['push']));
    ok(mvm(['clone', t.path('remote'), t.path('b')], { cwd: t.dir }));
    expect(readFileSync(t.path('b/model.safetensors')).equals(v2)).toBe(true);
    expect(storedEncodings(t.path('b')).delta).toBe(3);
    ok(run(['checkout', 'v1'], t.path('b')));
    const f = json(run(['fsck', '--json'], t.path('b')));
    expect(f.problems ?? f.errors ?? []).toEqual([]);
  });
});
