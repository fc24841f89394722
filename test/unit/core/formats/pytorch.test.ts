import { describe, it, expect } from 'vitest';
import { randomBf16, seededBytes, writeTorchZip, expectWellFormed } from '../../../helpers/modelWriters.js';
import { detect, expectTruncationsNull, fuzzMutations } from './layoutChecks.js';

describe('pytorch zip', () => {
  const storages = [
    { key: '0', data: randomBf16(50, 0.02, 3) },
    { key: '1', data: Buffer.alloc(0) },
    { key: '10', data: seededBytes(1000, 4) },
    { key: '2', data: seededBytes(7, 5) },
  ];

  for (const zip64 of [false, true]) {
    it(`round-trips storages to their exact data ranges${zip64 ? ' (ZIP64)' : ''}`, async () => {
      const buf = writeTorchZip(storages, { zip64 });
      const layout = await detect(buf);
      expect(layout?.format).toBe('pytorch');
      expect(layout!.tensors.map((t) => t.name)).toEqual(['data/0', 'data/1', 'data/10', 'data/2']);
      for (const t of layout!.tensors) {
        expect(t).toMatchObject({ dtype: 'unknown', shape: [] });
        expect(t.start % 64).toBe(0);
        const s = storages.find((x) => `data/${x.key}` === t.name)!;
        expect(buf.subarray(t.start, t.end).equals(s.data)).toBe(true);
      }
      expectWellFormed(layout!, buf.length);
    });
  }

  it('reads data offsets from the local header, whatever the archive name and alignment', async () => {
    const buf = writeTorchZip(storages, { archive: 'pytorch_model', align: 1 });
    const layout = await detect(buf);
    expect(layout?.tensors.map((t) => t.name)).toEqual(['data/0', 'data/1', 'data/10', 'data/2']);
    for (const t of layout!.tensors) {
      const s = storages.find((x) => `data/${x.key}` === t.name)!;
      expect(buf.subarray(t.start, t.end).equals(s.data)).toBe(true);
    }
  });

  it('accepts an archive comment and an empty state dict', async () => {
    const base = writeTorchZip(storages);
    const withComment = Buffer.concat([base, Buffer.from('hello')]);
    withComment.writeUInt16LE(5, base.length - 2);
    expect((await detect(withComment))?.tensors).toHaveLength(4);
    expect((await detect(writeTorchZip([])))?.tensors).toEqual([]);
  });

  it('rejects compressed storages, non-torch zips and broken directories', async () => {
    const base = writeTorchZip(storages);
    const eocd = base.length - 22;
    const patch = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(base);
      f(b);
      return b;
    };
    const bad: [string, Buffer][] = [
      ['compressed data entry', writeTorchZip(storages, { compress: true })],
      ['no data.pkl', writeTorchZip(storages, { omitPickle: true })],
      ['central directory offset past EOCD', patch((b) => b.writeUInt32LE(eocd, eocd + 16))],
      ['central directory offset wrong', patch((b) => b.writeUInt32LE(b.readUInt32LE(eocd + 16) + 1, eocd + 16))],
      ['entry count too high', patch((b) => b.writeUInt16LE(200, eocd + 10))],
      ['comment length wrong', patch((b) => b.writeUInt16LE(3, eocd + 20))],
      [
        'local header offset wrong',
        patch((b) => {
          const cd = b.readUInt32LE(eocd + 16);
          for (let p = cd; p < eocd; p += 46 + b.readUInt16LE(p + 28) + b.readUInt16LE(p + 30)) {
            if (b.toString('utf8', p + 46, p + 46 + b.readUInt16LE(p + 28)) === 'archive/data/10')
              b.writeUInt32LE(b.readUInt32LE(p + 42) + 2, p + 42);
          }
        }),
      ],
    ];
    for (const [what, buf] of bad) expect(await detect(buf), what).toBeNull();
  });

  it('rejects every truncation and survives random corruption', async () => {
    const buf = writeTorchZip(storages);
    await expectTruncationsNull(buf);
    await fuzzMutations(buf, 13);
    await fuzzMutations(writeTorchZip(storages, { zip64: true }), 14);
  });
});
