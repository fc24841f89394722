/** A writer for safetensors fixtures. */
import { seededBytes } from '../data.js';
import { need } from './bytes.js';

/** Bytes per element of the safetensors dtypes the writer can size on its own. */
const ST_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** One tensor for writeSafetensors; `data` defaults to seeded bytes of the right size. */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  data?: Buffer;
}

/** A valid safetensors file holding `tensors` in order, with an optional `__metadata__`. */
export function writeSafetensors(tensors: SafetensorsTensor[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Buffer[] = [];
  let offset = 0;
  tensors.forEach((t, i) => {
    const data = t.data ?? seededBytes(t.shape.reduce((a, b) => a * b, 1) * need(ST_BYTES[t.dtype], t.dtype), 100 + i);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  });
  return safetensorsFromHeader(header, Buffer.concat(parts));
}

/**
 * A safetensors file with an arbitrary header (object or raw JSON text, space-padded to 8 bytes) followed by `data`.
 */
export function safetensorsFromHeader(header: unknown, data: Buffer): Buffer {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (Buffer.byteLength(json) % 8 !== 0) json += ' ';
  const h = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}
