/** A writer for TFLite fixtures. */

/** One tensor of a TFLite model written by writeTflite: `data` makes it a constant (its own buffer). */
export interface TfliteTensor {
  name: string;
  /** TFLite TensorType: 0 FLOAT32, 1 FLOAT16, 2 INT32, 3 UINT8, 9 INT8, 15 UINT32, 16 UINT16, 17 INT4, 18 BFLOAT16 */
  type: number;
  shape: number[];
  data?: Buffer;
}

/** Buffers of a TFLite model that no tensor uses. */
export interface TfliteExtras {
  /** `Model.metadata` entries, each with a buffer of its own (as the converter writes `min_runtime_version`). */
  metadata?: { name: string; data: Buffer }[];
  /** Buffers nothing points to. */
  unused?: Buffer[];
}

/**
 * A TFLite FlatBuffer (identifier TFL3) with one subgraph holding `tensors`;
 * each tensor with data gets a buffer (data vectors aligned to 16, as the
 * converter writes them), buffer 0 being the empty sentinel; the buffers of
 * `extras` follow those of the tensors, metadata first.
 */
export function writeTflite(tensors: TfliteTensor[], extras: TfliteExtras = {}): Buffer {
  const metadata = extras.metadata ?? [];
  const extraData = [...metadata.map((m) => m.data), ...(extras.unused ?? [])];
  const extraBytes = [...extraData, ...metadata.map((m) => Buffer.from(m.name))].reduce((s, d) => s + d.length + 96, 0);
  const b = Buffer.alloc(
    4096 + extraBytes + tensors.reduce((s, t) => s + (t.data?.length ?? 0) + 256 + t.name.length, 0),
  );
  let pos = 0;
  const align = (n: number) => {
    while (pos % n) pos++;
  };
  const u32 = (v: number) => {
    b.writeUInt32LE(v, pos);
    pos += 4;
  };
  /** Points the uoffset at `at` to the current position. */
  const patch = (at: number) => b.writeUInt32LE(pos - at, at);
  /** Writes a vtable and its table; fields are [slot, bytes, value]; returns where each field landed. */
  const table = (slots: number, fields: [slot: number, bytes: 1 | 4, value: number][]) => {
    align(2);
    const vt = pos;
    // every field takes 4 bytes (a u8 in the low byte), which the schema allows
    const size = 4 + 4 * fields.length;
    b.writeUInt16LE(4 + 2 * slots, pos);
    b.writeUInt16LE(size, pos + 2);
    let off = 4;
    const at = new Map<number, number>();
    for (const [slot] of fields) {
      b.writeUInt16LE(off, vt + 4 + 2 * slot);
      off += 4;
    }
    pos = vt + 4 + 2 * slots;
    align(4);
    const t = pos;
    b.writeInt32LE(t - vt, pos);
    pos += 4;
    fields.forEach(([slot, bytes, value]) => {
      at.set(slot, pos);
      if (bytes === 1) b.writeUInt8(value, pos);
      else b.writeUInt32LE(value, pos);
      pos += 4;
    });
    return { table: t, at };
  };
  /** Points the uoffset at `at` to `target`. */
  const ref = (at: number, target: number) => b.writeUInt32LE(target - at, at);
  u32(0); // root offset, patched below
  b.write('TFL3', 4, 'latin1');
  pos = 8;
  const { table: modelTable, at: model } = table(metadata.length ? 7 : 5, [
    [0, 4, 3],
    [2, 4, 0],
    [4, 4, 0],
    ...(metadata.length ? [[6, 4, 0] as [number, 4, number]] : []),
  ]);
  ref(0, modelTable);
  // subgraphs: [one subgraph]
  align(4);
  patch(model.get(2)!);
  u32(1);
  const sgRef = pos;
  u32(0);
  const { table: sgTable, at: sg } = table(1, [[0, 4, 0]]);
  ref(sgRef, sgTable);
  align(4);
  patch(sg.get(0)!);
  u32(tensors.length);
  const tensorRefs = tensors.map(() => {
    const p = pos;
    u32(0);
    return p;
  });
  let nextBuffer = 1;
  const bufferOf = tensors.map((t) => (t.data ? nextBuffer++ : 0));
  const firstExtra = nextBuffer;
  nextBuffer += extraData.length;
  tensors.forEach((t, i) => {
    const { table: tt, at: f } = table(4, [
      [0, 4, 0],
      [1, 1, t.type],
      [2, 4, bufferOf[i]!],
      [3, 4, 0],
    ]);
    ref(tensorRefs[i]!, tt);
    align(4);
    patch(f.get(0)!);
    u32(t.shape.length);
    for (const d of t.shape) {
      b.writeInt32LE(d, pos);
      pos += 4;
    }
    patch(f.get(3)!);
    u32(Buffer.byteLength(t.name));
    pos += b.write(t.name, pos);
    b[pos++] = 0;
  });
  // buffers: the empty sentinel, then one per constant tensor
  align(4);
  patch(model.get(4)!);
  u32(nextBuffer);
  const bufferRefs = Array.from({ length: nextBuffer }, () => {
    const p = pos;
    u32(0);
    return p;
  });
  ref(bufferRefs[0]!, table(3, []).table);
  /** Writes a buffer table with `data` as buffer `index`. */
  const buffer = (index: number, data: Buffer) => {
    const { table: bt, at: f } = table(3, [[0, 4, 0]]);
    ref(bufferRefs[index]!, bt);
    // the data vector's bytes start on a 16-byte boundary
    while ((pos + 4) % 16) pos++;
    patch(f.get(0)!);
    u32(data.length);
    data.copy(b, pos);
    pos += data.length;
  };
  tensors.forEach((t, i) => {
    if (t.data) buffer(bufferOf[i]!, t.data);
  });
  extraData.forEach((d, i) => buffer(firstExtra + i, d));
  if (metadata.length) {
    align(4);
    patch(model.get(6)!);
    u32(metadata.length);
    const entryRefs = metadata.map(() => {
      const p = pos;
      u32(0);
      return p;
    });
    metadata.forEach((m, i) => {
      const { table: mt, at: f } = table(2, [
        [0, 4, 0],
        [1, 4, firstExtra + i],
      ]);
      ref(entryRefs[i]!, mt);
      align(4);
      patch(f.get(0)!);
      u32(Buffer.byteLength(m.name));
      pos += b.write(m.name, pos);
      b[pos++] = 0;
    });
  }
  return b.subarray(0, pos);
}
