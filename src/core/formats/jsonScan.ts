/**
 * Reads a JSON object one top-level entry at a time from a ByteSource, so a
 * header of tens of megabytes (a safetensors file with a million tensors) is
 * never decoded or parsed whole. The scanner only finds where each key and
 * value begins and ends; each is then parsed by JSON.parse, so every entry is
 * held to the full JSON grammar, and bytes outside strings must be structural.
 */
import type { ByteSource } from './types.js';

/** Bytes read from the source at a time. */
const WINDOW = 1 << 20;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Where one entry lies in the window: key and value ranges, the next position, and whether it closed the object. */
interface Entry {
  key: [number, number];
  value: [number, number];
  next: number;
  last: boolean;
}

/** End (exclusive) of the string whose opening quote is at `i`, or -1 when the window ends first, -2 when malformed. */
function stringEnd(b: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, j);
    if (q < 0) return -1;
    // a control character inside a string is not JSON
    for (let k = j; k < q; k++) if (b[k]! < 0x20) return -2;
    // the quote is escaped when an odd number of backslashes precede it
    let n = 0;
    while (q - 1 - n >= j && b[q - 1 - n] === BACKSLASH) n++;
    if (n % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** End (exclusive) of the value starting at `i`, -1 when the window ends first, -2 when malformed. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c === QUOTE) return stringEnd(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let j = i;
    while (j < b.length) {
      const d = b[j]!;
      if (d === QUOTE) {
        const e = stringEnd(b, j);
        if (e < 0) return e;
        j = e;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return -1;
  }
  // a number or a literal: up to the next structural character or space
  let j = i;
  while (j < b.length) {
    const d = b[j]!;
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) return j;
    j++;
  }
  return -1;
}

/** The entry starting at `i` (after `{` or `,`), -1 when the window ends first, -2 when malformed. */
function entryAt(b: Buffer, i: number): Entry | -1 | -2 {
  const skip = (k: number) => {
    while (k < b.length && isSpace(b[k]!)) k++;
    return k;
  };
  let k = skip(i);
  if (k >= b.length) return -1;
  if (b[k] !== QUOTE) return -2;
  const keyEnd = stringEnd(b, k);
  if (keyEnd < 0) return keyEnd as -1 | -2;
  const key: [number, number] = [k, keyEnd];
  k = skip(keyEnd);
  if (k >= b.length) return -1;
  if (b[k] !== 0x3a /* : */) return -2;
  k = skip(k + 1);
  if (k >= b.length) return -1;
  const vEnd = valueEnd(b, k);
  if (vEnd < 0) return vEnd as -1 | -2;
  const value: [number, number] = [k, vEnd];
  k = skip(vEnd);
  if (k >= b.length) return -1;
  if (b[k] === 0x2c) return { key, value, next: k + 1, last: false };
  if (b[k] === 0x7d) return { key, value, next: k + 1, last: true };
  return -2;
}

/**
 * Calls `onEntry` with each key and parsed value of the JSON object held in
 * `length` bytes at `offset` (trailing whitespace allowed), in file order.
 * Returns false when the bytes are not one JSON object, or when `onEntry`
 * returns false. Memory is one window (`window` bytes) plus the largest entry.
 */
export async function scanObjectEntries(
  src: ByteSource,
  offset: number,
  length: number,
  onEntry: (key: string, value: unknown) => boolean,
  window = WINDOW,
): Promise<boolean> {
  const end = offset + length;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let buf = Buffer.alloc(0);
  let base = offset;
  /** Reads the next window, keeping the bytes from absolute `keep` on; false at the end. */
  const more = async (keep: number): Promise<boolean> => {
    const have = base + buf.length;
    if (have >= end) return false;
    const next = await src.read(have, Math.min(window, end - have));
    if (next.length === 0) return false;
    buf = Buffer.concat([buf.subarray(keep - base), next]);
    base = keep;
    return true;
  };
  const parse = (range: [number, number]): unknown => JSON.parse(utf8.decode(buf.subarray(range[0], range[1])));

  if (!(await more(offset))) return false;
  let pos = offset;
  // leading whitespace, across windows
  for (;;) {
    while (pos - base < buf.length && isSpace(buf[pos - base]!)) pos++;
    if (pos - base < buf.length) break;
    if (!(await more(pos))) return false;
  }
  if (buf[pos - base] !== 0x7b) return false;
  pos++;
  // the empty object
  for (;;) {
    let k = pos - base;
    while (k < buf.length && isSpace(buf[k]!)) k++;
    if (k < buf.length) {
      if (buf[k] === 0x7d) return trailingSpace(k + 1);
      break;
    }
    if (!(await more(pos))) return false;
  }
  for (;;) {
    const e = entryAt(buf, pos - base);
    if (e === -2) return false;
    if (e === -1) {
      if (!(await more(pos))) return false;
      continue;
    }
    let key: unknown;
    let value: unknown;
    try {
      key = parse(e.key);
      value = parse(e.value);
    } catch {
      return false;
    }
    if (typeof key !== 'string' || !onEntry(key, value)) return false;
    pos = base + e.next;
    if (e.last) return trailingSpace(e.next);
  }

  /** True when everything after the object's closing brace (from window index `k`) is whitespace. */
  async function trailingSpace(k: number): Promise<boolean> {
    for (;;) {
      for (; k < buf.length; k++) if (!isSpace(buf[k]!)) return false;
      const at = base + buf.length;
      if (!(await more(at))) return at >= end;
      k = 0;
    }
  }
}
