/** Little-endian integers and protobuf fields, the building blocks of the fixture writers. */

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

export function pad(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`modelWriters: cannot size ${what}; pass data`);
  return v;
}

/** A protobuf varint (non-negative integers up to 2^53). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A protobuf varint field. */
export function pbVarint(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** A protobuf length-delimited field. */
export function pbBytes(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}
