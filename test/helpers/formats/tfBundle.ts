/** A writer for TensorFlow tensor bundle index fixtures. */
import { pbBytes, pbVarint, varint } from './bytes.js';

/**
 * One variable of a TensorFlow tensor bundle index (dtype is the TensorFlow DataType enum: 1 float, 14 bfloat16, 7
 * string...).
 */
export interface BundleVar {
  name: string;
  dtype: number;
  shape: number[];
  shard?: number;
  offset: number;
  size: number;
  /** A sliced variable's whole: no bytes of its own. */
  sliced?: boolean;
}

/**
 * A `<prefix>.index` file as TensorFlow's BundleWriter writes it: a LevelDB
 * table, uncompressed, keys sorted, restart points every `restartEvery`
 * entries, `perBlock` entries per data block; the header entry under "".
 */
export function writeBundleIndex(vars: BundleVar[], opts: { restartEvery?: number; perBlock?: number } = {}): Buffer {
  const restartEvery = opts.restartEvery ?? 16;
  const perBlock = opts.perBlock ?? 1000;
  const entryProto = (v: BundleVar) =>
    Buffer.concat([
      pbVarint(1, v.dtype),
      pbBytes(2, Buffer.concat(v.shape.map((d) => pbBytes(2, pbVarint(1, d))))),
      ...(v.shard ? [pbVarint(3, v.shard)] : []),
      pbVarint(4, v.offset),
      pbVarint(5, v.size),
      Buffer.from([0x35, 1, 2, 3, 4]), // crc32c, fixed32: skipped by readers that do not check it
      ...(v.sliced ? [pbBytes(7, Buffer.alloc(0))] : []),
    ]);
  const sorted: [Buffer, Buffer][] = [
    [Buffer.alloc(0), Buffer.concat([pbVarint(1, 1), pbVarint(2, 0)])],
    ...[...vars]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((v): [Buffer, Buffer] => [Buffer.from(v.name), entryProto(v)]),
  ];
  const blockOf = (items: [Buffer, Buffer][]) => {
    const parts: Buffer[] = [];
    const restarts: number[] = [];
    let size = 0;
    let prev = Buffer.alloc(0);
    items.forEach(([k, v], i) => {
      let shared = 0;
      if (i % restartEvery === 0) restarts.push(size);
      else while (shared < prev.length && shared < k.length && prev[shared] === k[shared]) shared++;
      const e = Buffer.concat([varint(shared), varint(k.length - shared), varint(v.length), k.subarray(shared), v]);
      parts.push(e);
      size += e.length;
      prev = k;
    });
    if (!restarts.length) restarts.push(0);
    const tail = Buffer.alloc(restarts.length * 4 + 4);
    restarts.forEach((r, i) => tail.writeUInt32LE(r, i * 4));
    tail.writeUInt32LE(restarts.length, restarts.length * 4);
    return Buffer.concat([...parts, tail]);
  };
  const out: Buffer[] = [];
  let pos = 0;
  const put = (b: Buffer) => {
    const handle = Buffer.concat([varint(pos), varint(b.length)]);
    out.push(b, Buffer.from([0, 0, 0, 0, 0])); // type 0 (none) and a CRC readers may skip
    pos += b.length + 5;
    return handle;
  };
  const index: [Buffer, Buffer][] = [];
  for (let i = 0; i < sorted.length; i += perBlock) {
    const items = sorted.slice(i, i + perBlock);
    index.push([items[items.length - 1]![0], put(blockOf(items))]);
  }
  const meta = put(blockOf([]));
  const idx = put(blockOf(index));
  const footer = Buffer.alloc(48);
  Buffer.concat([meta, idx]).copy(footer);
  footer.writeBigUInt64LE(0xdb4775248b80fb57n, 40);
  return Buffer.concat([...out, footer]);
}
