/** An ObjectId is the 64-hex-digit BLAKE3 hash naming an object by its uncompressed content. */
export type ObjectId = string;

const ID_RE = /^[0-9a-f]{64}$/;
const PREFIX_RE = /^[0-9a-f]{4,64}$/;

/** True when `s` is a full object id. */
export function isObjectId(s: string): s is ObjectId {
  return ID_RE.test(s);
}

/** True when `s` could be an abbreviated object id (4 to 64 lowercase hex digits). */
export function isIdPrefix(s: string): boolean {
  return PREFIX_RE.test(s);
}

/** The short form of an id shown to users (12 hex digits). */
export function shortId(id: ObjectId): string {
  return id.slice(0, 12);
}
