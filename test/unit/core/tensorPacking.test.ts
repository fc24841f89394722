import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scanObjectEntries } from '../../../src/core/formats/jsonScan.js';
import { parseSafetensors, parseSafetensorsWith } from '../../../src/core/formats/safetensors.js';
import { validateLayout } from '../../../src/core/formats/detect.js';
import { bufferSource } from '../../../src/core/formats/types.js';
import { planChunks } from '../../../src/core/chunking.js';
import { safetensorsFromHeader, writeSafetensors } from '../../helpers/modelWriters.js';

const runs = Number(process.env.MVM_FUZZ_RUNS ?? 300);

/** Entries as the scanner yields them, or null when it refuses the text. */
async function scan(text: string, window: number): Promise<[string, unknown][] | null> {
  const buf = Buffer.from(text);
  const out: [string, unknown][] = [];
  const ok = await scanObjectEntries(bufferSource(buf), 0, buf.length, (k, v) => (out.push([k, v]), true), window);
  return ok ? out : null;
}

/** What JSON.parse makes of the text, as entries, or null when it is not one JSON object. */
function reference(text: string): [string, unknown][] | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v) : null;
  } catch {
    return null;
  }
}

describe('scanObjectEntries', () => {
  it('reads what JSON.parse reads, entry by entry, across window edges (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom('', ' ', '\n  '),
        async (obj, window, pad) => {
          const text = JSON.stringify(obj, null, pad.length ? 1 : undefined) + pad;
          expect(await scan(text, window)).toEqual(reference(text));
        },
      ),
      { numRuns: runs },
    );
  });

  it('refuses exactly what JSON.parse refuses when a byte is cut, changed or added (property)', async () => {
    const mutated = fc
      .tuple(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 }),
        fc.nat(),
        fc.constantFrom(...'{}[]":, \\x\t0e-'.split('')),
        fc.constantFrom('cut', 'set', 'insert'),
      )
      .map(([obj, at, ch, how]) => {
        const s = JSON.stringify(obj);
        const i = at % (s.length + 1);
        return how === 'cut'
          ? s.slice(0, i)
          : how === 'set'
            ? s.slice(0, i) + ch + s.slice(i + 1)
            : s.slice(0, i) + ch + s.slice(i);
      });
    await fc.assert(
      fc.asyncProperty(mutated, fc.integer({ min: 1, max: 16 }), async (text, window) => {
        const ref = reference(text);
        const got = await scan(text, window);
        // duplicate keys: JSON.parse keeps the last, the scanner yields both; compare the last of each
        expect(got === null ? null : Object.entries(Object.fromEntries(got))).toEqual(ref === null ? null : ref);
      }),
      { numRuns: runs * 3 },
    );
  });

  it('leading whitespace longer than a window is skipped (found by the property above)', async () => {
    for (const text of [' {"":[]}', '   \n\t {"a":1}', '    '])
      expect(await scan(text, 1), JSON.stringify(text)).toEqual(reference(text));
  });

  it('a string may hold escaped quotes, backslashes and braces', async () => {
    const text = '{"a\\\\":"}\\"{","b":{"c":["]","\\\\\\""]}}   ';
    expect(await scan(text, 3)).toEqual(reference(text));
  });
});

/** A safetensors file of `small` 8-byte F32 tensors, with 64 KiB tensors at the given positions. */
function manyTensors(small: number, bigAt: number[], dtypeOf: (i: number) => string = () => 'F32'): Buffer {
  const tensors = [];
  for (let i = 0, s = 0; s < small; i++) {
    if (bigAt.includes(i)) tensors.push({ name: `big.${i}`, dtype: 'F32', shape: [128, 128] });
    else {
      const dtype = dtypeOf(s++);
      tensors.push({ name: `t.${i}`, dtype, shape: dtype === 'F32' ? [2] : [4] });
    }
  }
  return writeSafetensors(tensors);
}

describe('packing the small tensors of a file with very many', () => {
  it('at or under the limit, every tensor is listed, as before', async () => {
    const file = manyTensors(10, [3]);
    const layout = validateLayout(
      (await parseSafetensorsWith({ maxListed: 11, packBelow: 64 })(bufferSource(file)))!,
      file.length,
    )!;
    expect(layout.tensors).toHaveLength(11);
    expect(layout.packed).toBeUndefined();
    expect(await parseSafetensors(bufferSource(file))).toEqual(
      await parseSafetensorsWith({ maxListed: 11, packBelow: 64 })(bufferSource(file)),
    );
  });

  it('past the limit, large tensors stay listed and the small ones become runs between them', async () => {
    const file = manyTensors(30, [5, 20]);
    const layout = validateLayout(
      (await parseSafetensorsWith({ maxListed: 10, packBelow: 64 })(bufferSource(file)))!,
      file.length,
    )!;
    expect(layout.tensors.map((t) => t.name)).toEqual(['big.5', 'big.20']);
    expect(layout.packed!.map((r) => r.count)).toEqual([5, 14, 11]);
    expect(layout.packed!.every((r) => r.dtype === 'f32')).toBe(true);
    // the runs cover the small tensors exactly, around the large ones
    expect(layout.packed![0]!.end).toBe(layout.tensors[0]!.start);
    expect(layout.packed![1]!.start).toBe(layout.tensors[0]!.end);
    expect(layout.packed![2]!.end).toBe(file.length);
  });

  it('a run of mixed dtypes has none; the chunk plan cuts runs like tensors', async () => {
    const file = manyTensors(12, [6], (i) => (i === 2 ? 'I16' : 'F32'));
    const layout = validateLayout(
      (await parseSafetensorsWith({ maxListed: 4, packBelow: 64 })(bufferSource(file)))!,
      file.length,
    )!;
    expect(layout.packed!.map((r) => [r.count, r.dtype])).toEqual([
      [6, null],
      [6, 'f32'],
    ]);
    const spans = planChunks(file.length, 16, layout.tensors, layout.packed);
    // contiguous, covering the file, restarting at each run and tensor
    expect(spans[0]!.start).toBe(0);
    spans.slice(1).forEach((s, i) => expect(s.start).toBe(spans[i]!.end));
    expect(spans.at(-1)!.end).toBe(file.length);
    for (const [r, run] of layout.packed!.entries()) expect(spans.find((s) => s.start === run.start)?.run).toBe(r);
    expect(spans.find((s) => s.start === layout.tensors[0]!.start)?.tensor).toBe(0);
  });

  it('a name given twice is not a valid header', async () => {
    const header =
      '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}';
    expect(await parseSafetensors(bufferSource(safetensorsFromHeader(header, Buffer.from([1, 2]))))).toBeNull();
  });

  it('overlapping small tensors past the limit make the file unrecognised', async () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 6; i++) header[`t${i}`] = { dtype: 'U8', shape: [2], data_offsets: [i, i + 2] };
    const file = safetensorsFromHeader(header, Buffer.alloc(8));
    expect(await parseSafetensorsWith({ maxListed: 2, packBelow: 64 })(bufferSource(file))).toBeNull();
  });
});
