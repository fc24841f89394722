/**
 * The limits on tensor names every parser applies, so what a parser gives is
 * bounded by the file it read: a format that lets many tensors share one
 * long name or prefix (TFLite's shared strings, a bundle index's shared key
 * prefixes, HDF5 paths, pickle paths) cannot turn a small file into
 * gigabytes of names. A name over a limit gives way to a placeholder (or the
 * tensor goes unnamed); the file itself is stored all the same.
 */

import { MAX_NAME_BYTES, MAX_NAME_CHARS, MAX_TENSOR_NAME } from '../limits.js';

/** One file's allowance of name characters: each name is held to MAX_TENSOR_NAME and counted against MAX_NAME_CHARS. */
export class NameBudget {
  private left: number;

  constructor(total = MAX_NAME_CHARS) {
    this.left = total;
  }

  /** `name` when it is at most MAX_TENSOR_NAME characters and fits what is left (which it then uses), else null. */
  take(name: string | null | undefined): string | null {
    if (name === null || name === undefined || name.length > MAX_TENSOR_NAME || name.length > this.left) return null;
    this.left -= name.length;
    return name;
  }

  /** take() of UTF-8 bytes, decoded only when they can make a name that fits. */
  takeBytes(bytes: Uint8Array): string | null {
    if (bytes.length > MAX_NAME_BYTES || bytes.length > 4 * this.left) return null;
    return this.take(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  }
}
