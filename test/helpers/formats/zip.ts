/** Writers for ZIP archives and PyTorch zip checkpoints. */
import zlib from 'node:zlib';
import { u16, u32, u64 } from './bytes.js';

/** One storage for writeTorchZip: written as `<archive>/data/<key>`. */
export interface TorchStorage {
  key: string;
  data: Buffer;
}

/** Options for writeTorchZip. */
export interface TorchZipOptions {
  /** Archive folder name (torch uses the file stem or "archive"). */
  archive?: string;
  /** Deflate the data entries (torch never does; mvm must then refuse the layout). */
  compress?: boolean;
  /** Write ZIP64 central directory extras and end records, as torch does for large files. */
  zip64?: boolean;
  /** Align each entry's data to this many bytes with an "FB" padding extra field, like torch (default 64). */
  align?: number;
  /** Omit data.pkl (then it is not a torch checkpoint). */
  omitPickle?: boolean;
  /** The data.pkl to write (default: an empty dict, which names no storage); see test/helpers/torch.ts. */
  pickle?: Buffer;
}

/**
 * A real ZIP laid out like torch.save output: data.pkl, byteorder, data/<key>..., version, all STORED with correct
 * CRCs.
 */
export function writeTorchZip(storages: TorchStorage[], opts: TorchZipOptions = {}): Buffer {
  const archive = opts.archive ?? 'archive';
  const files: ZipFile[] = [];
  if (!opts.omitPickle)
    files.push({
      name: `${archive}/data.pkl`,
      data: opts.pickle ?? Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]),
      compress: false,
    });
  files.push({ name: `${archive}/byteorder`, data: Buffer.from('little'), compress: false });
  for (const s of storages)
    files.push({ name: `${archive}/data/${s.key}`, data: s.data, compress: opts.compress === true });
  files.push({ name: `${archive}/version`, data: Buffer.from('3\n'), compress: false });

  return writeZip(files, { zip64: opts.zip64, align: opts.align ?? 64 });
}

/** One file of writeZip. */
export interface ZipFile {
  name: string;
  data: Buffer;
  /** Deflate it (method 8) instead of storing it. */
  compress: boolean;
}

/**
 * A ZIP of `files`, STORED unless asked to deflate, with correct CRCs; `align` pads each entry's data start with an
 * "FB" extra field.
 */
export function writeZip(files: ZipFile[], opts: { zip64?: boolean; align?: number } = {}): Buffer {
  const align = opts.align ?? 1;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const deflate = f.compress;
    const body = deflate ? zlib.deflateRawSync(f.data) : f.data;
    const base = offset + 30 + name.length + 4;
    const padLen = (align - (base % align)) % align;
    const extra = Buffer.alloc(4 + padLen, 'Z');
    extra.writeUInt16LE(0x4246, 0); // "FB"
    extra.writeUInt16LE(padLen, 2);
    const crc = crc32(f.data);
    const version = opts.zip64 ? 45 : 20;
    const method = deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    entryFields(local, 4, [version, method, crc, body.length, f.data.length, name.length, extra.length]);
    parts.push(local, name, extra, body);

    const z64 = opts.zip64
      ? Buffer.concat([u16(1), u16(24), u64(f.data.length), u64(body.length), u64(offset)])
      : Buffer.alloc(0);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(version, 4);
    const [compressed, size] = opts.zip64 ? [0xffffffff, 0xffffffff] : [body.length, f.data.length];
    entryFields(cen, 6, [version, method, crc, compressed, size, name.length, z64.length]);
    cen.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 42);
    central.push(cen, name, z64);
    offset += 30 + name.length + extra.length + body.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (opts.zip64) {
    const z64Pos = cdOffset + cd.length;
    tail.push(
      Buffer.concat([
        u32(0x06064b50),
        u64(44),
        u16(45),
        u16(45),
        u32(0),
        u32(0),
        u64(files.length),
        u64(files.length),
        u64(cd.length),
        u64(cdOffset),
      ]),
      Buffer.concat([u32(0x07064b50), u32(0), u64(z64Pos), u32(1)]),
    );
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : files.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : files.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cdOffset, 16);
  return Buffer.concat([...parts, cd, ...tail, eocd]);
}

/** Version needed, method, CRC, compressed and uncompressed size, name and extra field lengths of a ZIP entry. */
type EntryFields = [number, number, number, number, number, number, number];

/**
 * Writes at `at` the fields a local header and a central directory entry share: version needed, flags (0), method,
 * time (0), date (0x21), CRC, compressed and uncompressed size, name and extra field lengths.
 */
function entryFields(
  b: Buffer,
  at: number,
  [version, method, crc, compressed, size, nameLength, extraLength]: EntryFields,
): void {
  b.writeUInt16LE(version, at);
  b.writeUInt16LE(0, at + 2);
  b.writeUInt16LE(method, at + 4);
  b.writeUInt16LE(0, at + 6);
  b.writeUInt16LE(0x21, at + 8);
  b.writeUInt32LE(crc, at + 10);
  b.writeUInt32LE(compressed, at + 14);
  b.writeUInt32LE(size, at + 18);
  b.writeUInt16LE(nameLength, at + 22);
  b.writeUInt16LE(extraLength, at + 24);
}

/** CRC-32 (IEEE), via node:zlib when available (Node >= 20.15) and a table otherwise. */
export function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  if (typeof native === 'function') return native(data) >>> 0;
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
