import { readFully } from '../../storage/readFully.js';
import type { ByteSource } from '../../core/formats/types.js';

/**
 * A ByteSource over an open file descriptor, for the format parsers (they read headers and tables, never whole
 * weights).
 */
export function fdSource(fd: number, size: number): ByteSource {
  return {
    size,
    async read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(len);
      const got = readFully(fd, buf, offset);
      return got === len ? buf : buf.subarray(0, got);
    },
  };
}
