/**
 * Model files whose parsers once made far more names than the file holds:
 * many tensors sharing one long name (TFLite's shared strings, an ONNX
 * node's output name), keys sharing one long prefix (a bundle index).
 */
import { onnxTensor, pbBytes, pbVarint, varint, writeOnnx } from './modelWriters.js';

/**
 * A TFLite FlatBuffer of `count` tensors that all name one string of
 * `nameLength` bytes, each with a 4-byte f32 buffer of its own (36 bytes a
 * tensor): tables share their vtables, as FlatBuffers builders do.
 */
export function tfliteNameBomb(nameLength: number, count: number): Buffer {
  const b = Buffer.alloc(128 + nameLength + 8 + 36 * count + 24);
  const ref = (at: number, target: number) => b.writeUInt32LE(target - at, at);
  const vtable = (at: number, tableSize: number, offsets: number[]) => {
    b.writeUInt16LE(4 + 2 * offsets.length, at);
    b.writeUInt16LE(tableSize, at + 2);
    offsets.forEach((o, i) => b.writeUInt16LE(o, at + 4 + 2 * i));
  };
  b.write('TFL3', 4, 'latin1');
  // model: vtable at 8 (slots 0-4: subgraphs at +4, buffers at +8), table at 24
  vtable(8, 12, [0, 0, 4, 0, 8]);
  const model = 24;
  ref(0, model);
  b.writeInt32LE(model - 8, model);
  // subgraph: vtable at 36 (slot 0: tensors at +4); vector of one at 44; table at 52
  vtable(36, 8, [4]);
  b.writeUInt32LE(1, 44);
  const subgraph = 52;
  ref(48, subgraph);
  ref(model + 4, 44);
  b.writeInt32LE(subgraph - 36, subgraph);
  // tensor vtable at 60 (slots 0-3: buffer at +4, name at +8); buffer vtable at 72 (slot 0: data at +4)
  vtable(60, 12, [0, 0, 4, 8]);
  vtable(72, 8, [4]);
  // the one name every tensor shares comes last (offsets point forward only)
  let pos = 80;
  const nameAt = 80 + 4 + 4 * count + 12 * count + 4 + 4 * (count + 1) + 16 * count;
  const tensorsVector = pos;
  b.writeUInt32LE(count, pos);
  ref(subgraph + 4, tensorsVector);
  pos += 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const t = pos + 12 * i;
    ref(tensorsVector + 4 + 4 * i, t);
    b.writeInt32LE(t - 60, t);
    b.writeUInt32LE(i + 1, t + 4);
    ref(t + 8, nameAt);
  }
  pos += 12 * count;
  // buffers: entry 0 (the empty sentinel) and entry i share buffer tables of 16 bytes: table, then its 4-byte data
  // vector
  const buffersVector = pos;
  b.writeUInt32LE(count + 1, pos);
  ref(model + 8, buffersVector);
  pos += 4 + 4 * (count + 1);
  for (let i = 0; i <= count; i++) {
    const t = pos + 16 * Math.max(0, i - 1);
    ref(buffersVector + 4 + 4 * i, t);
    if (i === 0) continue;
    b.writeInt32LE(t - 72, t);
    ref(t + 4, t + 8);
    b.writeUInt32LE(4, t + 8);
    b.writeFloatLE(i, t + 12);
  }
  pos += 16 * count;
  b.writeUInt32LE(nameLength, pos);
  b.fill(0x6e, pos + 4, pos + 4 + nameLength);
  return b.subarray(0, pos + 4 + nameLength + 1);
}

/**
 * A bundle `.index` of `count` f32 scalars whose names all share one prefix
 * of `prefixLength` bytes (one restart point, so each entry holds only its
 * 4 last bytes), placed one after another in a data file of 4 x count bytes.
 */
export function bundlePrefixBomb(prefixLength: number, count: number): Buffer {
  const restarts = (n: number) => {
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(n, 4);
    return tail;
  };
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const suffix = Buffer.from(i.toString(36).padStart(4, '0'));
    const value = Buffer.concat([pbVarint(1, 1), pbBytes(2, Buffer.alloc(0)), pbVarint(4, 4 * i), pbVarint(5, 4)]);
    const key = i === 0 ? Buffer.concat([Buffer.alloc(prefixLength, 0x70), suffix]) : suffix;
    entries.push(varint(i === 0 ? 0 : prefixLength), varint(key.length), varint(value.length), key, value);
  }
  const data = Buffer.concat([...entries, restarts(1)]);
  const handle = (offset: number, size: number) => Buffer.concat([varint(offset), varint(size)]);
  const dataHandle = handle(0, data.length);
  const index = Buffer.concat([
    varint(0),
    varint(1),
    varint(dataHandle.length),
    Buffer.from('z'),
    dataHandle,
    restarts(1),
  ]);
  const meta = restarts(0).subarray(4);
  const trailer = Buffer.alloc(5);
  const metaAt = data.length + 5;
  const indexAt = metaAt + meta.length + 5;
  const footer = Buffer.alloc(48);
  Buffer.concat([handle(metaAt, meta.length), handle(indexAt, index.length)]).copy(footer);
  footer.writeBigUInt64LE(0xdb4775248b80fb57n, 40);
  return Buffer.concat([data, trailer, meta, trailer, index, trailer, footer]);
}

/** An ONNX model with one node whose output name of `nameLength` bytes its `count` unnamed constants all take. */
export function onnxNameBomb(nameLength: number, count: number): Buffer {
  const attrs = Array.from({ length: count }, (_, i) => {
    const raw = Buffer.alloc(4);
    raw.writeFloatLE(i);
    return pbBytes(
      5,
      Buffer.concat([
        pbBytes(1, Buffer.from('value')),
        pbBytes(5, onnxTensor({ name: '', dataType: 1, dims: [1], raw }, false, false)),
        pbVarint(20, 4),
      ]),
    );
  });
  const node = Buffer.concat([
    pbBytes(2, Buffer.alloc(nameLength, 0x6f)),
    pbBytes(4, Buffer.from('Constant')),
    ...attrs,
  ]);
  return writeOnnx([], { nodes: [node] });
}
