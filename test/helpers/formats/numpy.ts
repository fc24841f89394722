/** Writers for NumPy `.npy` and `.npz` fixtures. */
import { writeZip } from './zip.js';

/** A `.npy` file: magic, version, the header dict padded to 64 bytes, then `data`. */
export function writeNpy(
  descr: string,
  shape: number[],
  data: Buffer,
  opts: { version?: 1 | 2 | 3; fortran?: boolean } = {},
): Buffer {
  const v = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const descrText = descr.startsWith('[') ? descr : `'${descr}'`;
  const dict = `{'descr': ${descrText}, 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = v === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - pre - 1, ' ') + '\n';
  const head = Buffer.alloc(pre);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = v;
  if (v === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

/** A `.npz` file as np.savez writes it (STORED entries), or as savez_compressed does (`compress`). */
export function writeNpz(arrays: { name: string; npy: Buffer }[], opts: { compress?: boolean } = {}): Buffer {
  return writeZip(arrays.map((a) => ({ name: `${a.name}.npy`, data: a.npy, compress: opts.compress === true })));
}
