import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { writeSafetensors } from '../../helpers/modelWriters.js';

/** 70,000 tensors (past the 65,536 that are listed one by one): 69,998 tiny ones and two of 64 KiB. */
function model(tiny: Buffer, big: Buffer): Buffer {
  const tensors = [];
  for (let i = 0; i < 70_000; i++) {
    if (i === 10) tensors.push({ name: 'big.a', dtype: 'F32', shape: [128, 128], data: big });
    else if (i === 50_000)
      tensors.push({ name: 'big.b', dtype: 'F32', shape: [128, 128], data: Buffer.alloc(65536, 3) });
    else tensors.push({ name: `tiny.${i}`, dtype: 'F32', shape: [1], data: tiny.subarray(i * 4, i * 4 + 4) });
  }
  return writeSafetensors(tensors);
}

describe('a model file with very many tensors', () => {
  it('commits, diffs and checks out: the large tensors are listed, the small ones chunked in runs', () => {
    const t = testdir();
    try {
      const run = (args: string[]) => mvm(args, { cwd: t.dir });
      const tiny = Buffer.alloc(70_000 * 4);
      for (let i = 0; i < 70_000; i++) tiny.writeFloatLE(i / 7, i * 4);
      const v1 = model(tiny, Buffer.alloc(65536, 1));
      write(t.path('m.safetensors'), v1);
      ok(run(['init']));
      ok(run(['add', 'm.safetensors']));
      const c1 = json<{ newChunks: number }>(run(['commit', '-m', 'v1', '--json']));
      // chunks by run and by 1 MiB, not one per tensor
      expect(c1.newChunks).toBeLessThan(50);
      const tiny2 = Buffer.from(tiny);
      tiny2.writeFloatLE(-1, 60_000 * 4);
      const v2 = model(tiny2, Buffer.alloc(65536, 2));
      write(t.path('m.safetensors'), v2);
      ok(run(['commit', '-m', 'v2']));
      const d = json<{
        files: {
          path: string;
          status: string;
          tensors: { changes: { name: string; status: string }[]; unchanged: number; unlisted: number[] };
        }[];
      }>(run(['diff', 'v1', 'v2', '--json']));
      const f = d.files.find((x) => x.path === 'm.safetensors')!;
      expect(f.status).toBe('modified');
      expect(f.tensors.changes.map((c) => [c.name, c.status])).toEqual([['big.a', 'values']]);
      expect(f.tensors.unchanged).toBe(1);
      expect(f.tensors.unlisted).toEqual([69_998, 69_998]);
      const text = run(['diff', 'v1', 'v2']);
      expect(text.stdout).toContain('69998 small tensor(s) not listed');
      ok(run(['checkout', 'v1']));
      expect(readFileSync(t.path('m.safetensors')).equals(v1)).toBe(true);
      ok(run(['checkout', 'v2']));
      expect(readFileSync(t.path('m.safetensors')).equals(v2)).toBe(true);
      expect(json<{ ok: boolean }>(run(['fsck', '--json'])).ok).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
