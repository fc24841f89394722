/**
 * Largest file of each kind read whole from a remote, checked before a byte
 * is read (a folder's size from stat, an S3 object's from its Content-Length),
 * so a huge or sparse file is refused as REMOTE_CORRUPT instead of read.
 */
export const REMOTE_LIMITS = {
  /** A ref: one version id and a newline (65 bytes); room for a little more. */
  ref: 1024,
  /** `mvm-remote.json`. */
  config: 64 << 10,
  /** The number registry: 65 bytes a version, so about a million versions. */
  registry: 64 << 20,
  /** A pack index: about 90 bytes an object. */
  packIndex: 128 << 20,
  /** Anything else read whole. */
  other: 128 << 20,
} as const;

/** Largest pack a pack index may describe (its objects' last byte): packs are cut at tens of MiB. */
export const MAX_PACK_BYTES = 2 ** 32;

/** One remote file of `size` bytes is more than `max`: REMOTE_CORRUPT naming it. */
export function tooLargeMessage(key: string, url: string, size: number, max: number): string {
  return `remote file ${key} on ${url} is ${size} bytes, more than the ${max} a file of its kind may have`;
}
