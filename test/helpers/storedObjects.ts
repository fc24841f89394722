/**
 * The stored objects of a local store (`.mvm/objects`), loose or packed (docs/FORMAT.md, Packs), for tests that
 * read, list, damage, replace or delete them behind mvm's back. Every function takes the objects directory
 * (`<repo>/.mvm/objects`) and sees what readers see: an object is in a pack, or in its loose file
 * `<2 hex>/<62 hex>`, and readers look in the packs first.
 *
 * Packs are read with src's PackIndex (so a pack that readers refuse is skipped here too). Removing an object
 * from a pack writes the pack again without it through this thread's PackSet of that directory (packSetOf), the
 * one stores opened in this process use, so an in-process store sees the change at once.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { isPackName, PackIndex } from '../../src/storage/pack.js';
import { packSetOf } from '../../src/storage/packSet.js';

/** Where a copy of an object is: its loose file, or an entry of a pack. */
export type Location =
  | { kind: 'loose'; path: string }
  | { kind: 'packed'; path: string; offset: number; length: number };

/** The loose file path of object `id` (whether or not it exists). */
export function loosePath(objectsDir: string, id: string): string {
  return join(objectsDir, id.slice(0, 2), id.slice(2));
}

/** The pack files of the store, by path, in the order of the folder's listing (what readers search). */
export function packFiles(objectsDir: string): string[] {
  const dir = join(objectsDir, 'pack');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(isPackName)
    .map((n) => join(dir, n));
}

/** The checked indexes of the packs readers can use (a damaged pack is skipped, as readers skip it). */
function indexes(objectsDir: string): PackIndex[] {
  const out: PackIndex[] = [];
  for (const p of packFiles(objectsDir)) {
    try {
      out.push(PackIndex.load(p));
    } catch {
      /* not usable: readers ignore it too */
    }
  }
  return out;
}

/** The ids of the loose objects. */
export function looseIds(objectsDir: string): string[] {
  const out: string[] = [];
  if (!existsSync(objectsDir)) return out;
  for (const fan of readdirSync(objectsDir)) {
    if (!/^[0-9a-f]{2}$/.test(fan)) continue;
    for (const rest of readdirSync(join(objectsDir, fan))) if (/^[0-9a-f]{62}$/.test(rest)) out.push(fan + rest);
  }
  return out;
}

/** Every copy of object `id`, packed ones first (in listing order), then its loose file. */
export function locations(objectsDir: string, id: string): Location[] {
  const out: Location[] = [];
  const raw = Buffer.from(id, 'hex');
  for (const idx of indexes(objectsDir)) {
    const i = idx.find(raw);
    if (i >= 0) out.push({ kind: 'packed', path: idx.path, ...idx.entry(i) });
  }
  const loose = loosePath(objectsDir, id);
  if (existsSync(loose)) out.push({ kind: 'loose', path: loose });
  return out;
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, offset + got);
      if (n === 0) throw new Error(`${path} ends before ${offset + length}`);
      got += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function bytesAt(loc: Location): Buffer {
  return loc.kind === 'loose' ? readFileSync(loc.path) : readAt(loc.path, loc.offset, loc.length);
}

/** True when object `id` is stored (packed or loose). */
export function isStored(objectsDir: string, id: string): boolean {
  return locations(objectsDir, id).length > 0;
}

/** True when readers find object `id` in a pack. */
export function isPacked(objectsDir: string, id: string): boolean {
  return locations(objectsDir, id)[0]?.kind === 'packed';
}

/** Object `id`'s stored bytes as readers find them (a pack's copy first, else the loose file); throws if absent. */
export function storedBytes(objectsDir: string, id: string): Buffer {
  const loc = locations(objectsDir, id)[0];
  if (!loc) throw new Error(`object ${id} is not stored in ${objectsDir}`);
  return bytesAt(loc);
}

/** Every stored object: id -> its stored bytes as readers find them (packed first, then loose). */
export function allStored(objectsDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const idx of indexes(objectsDir)) {
    const whole = readFileSync(idx.path);
    for (let i = 0; i < idx.count; i++) {
      const e = idx.entry(i);
      if (!out.has(e.id)) out.set(e.id, Buffer.from(whole.subarray(e.offset, e.offset + e.length)));
    }
  }
  for (const id of looseIds(objectsDir)) if (!out.has(id)) out.set(id, readFileSync(loosePath(objectsDir, id)));
  return out;
}

/** Every stored object's id -> its stored size (packed or loose), without reading the bytes. */
export function storedSizes(objectsDir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const idx of indexes(objectsDir))
    for (let i = 0; i < idx.count; i++) {
      const e = idx.entry(i);
      if (!out.has(e.id)) out.set(e.id, e.length);
    }
  for (const id of looseIds(objectsDir)) if (!out.has(id)) out.set(id, statSync(loosePath(objectsDir, id)).size);
  return out;
}

/** The bytes the store takes on disk: its loose object files and its pack files (indexes included). */
export function diskBytes(objectsDir: string): number {
  let n = 0;
  for (const p of packFiles(objectsDir)) n += statSync(p).size;
  for (const id of looseIds(objectsDir)) n += statSync(loosePath(objectsDir, id)).size;
  return n;
}

/** Every stored object's id. */
export function storedIds(objectsDir: string): Set<string> {
  return new Set(storedSizes(objectsDir).keys());
}

/** Writes `bytes` at `offset` of a (read-only) file in place. */
function patchFile(path: string, offset: number, bytes: Uint8Array): void {
  const mode = statSync(path).mode & 0o777;
  chmodSync(path, 0o644);
  const fd = openSync(path, 'r+');
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, offset + at);
  } finally {
    closeSync(fd);
    chmodSync(path, mode);
  }
}

/** Writes object `id`'s loose file (0444, as the store writes it), over any there. */
function writeLoose(objectsDir: string, id: string, bytes: Uint8Array): void {
  const p = loosePath(objectsDir, id);
  mkdirSync(dirname(p), { recursive: true });
  if (existsSync(p)) chmodSync(p, 0o644);
  writeFileSync(p, bytes);
  chmodSync(p, 0o444);
}

/** The temporary folder a repack writes its pack in: the repository's `.mvm/tmp` when there is one. */
function tmpOf(objectsDir: string): string {
  const tmp = join(dirname(objectsDir), 'tmp');
  return existsSync(tmp) ? tmp : objectsDir;
}

/** Writes every pack that holds one of `ids` again without them (the packs' other objects stay packed). */
function dropFromPacks(objectsDir: string, ids: string[]): void {
  const drop = new Set(ids.filter((id) => locations(objectsDir, id).some((l) => l.kind === 'packed')));
  if (drop.size) packSetOf(objectsDir).repack(tmpOf(objectsDir), { drop });
}

/**
 * Makes object `id` read as `bytes`. Every copy of the same length is patched in place (a pack's entry at its
 * offset, the index untouched); otherwise the object leaves its packs and is written as a loose file. An object
 * that is not stored is written loose (restoring one that fsck moved aside).
 */
export function replaceStored(objectsDir: string, id: string, bytes: Uint8Array): void {
  const locs = locations(objectsDir, id);
  if (locs.length && locs.every((l) => l.kind === 'loose' || l.length === bytes.length)) {
    for (const l of locs) {
      if (l.kind === 'packed') patchFile(l.path, l.offset, bytes);
      else writeLoose(objectsDir, id, bytes);
    }
    return;
  }
  dropFromPacks(objectsDir, [id]);
  writeLoose(objectsDir, id, bytes);
}

/** Flips one byte in the middle of object `id`'s stored bytes (every copy); returns the original bytes. */
export function corruptStored(objectsDir: string, id: string): Buffer {
  const orig = storedBytes(objectsDir, id);
  const bad = Buffer.from(orig);
  bad[bad.length >> 1] ^= 0x5a;
  replaceStored(objectsDir, id, bad);
  return orig;
}

/** Removes object `id` from the store: its packs are written again without it, its loose file goes. */
export function removeStored(objectsDir: string, id: string): void {
  removeAllStored(objectsDir, [id]);
}

/** removeStored of many objects (each pack holding some is written again once). */
export function removeAllStored(objectsDir: string, ids: string[]): void {
  dropFromPacks(objectsDir, ids);
  for (const id of ids) {
    const p = loosePath(objectsDir, id);
    if (existsSync(p)) unlinkSync(p);
  }
}

/** Sets the times of every stored object (loose files and pack files) to `time` (seconds since the epoch). */
export function touchStored(objectsDir: string, time: number): void {
  for (const p of packFiles(objectsDir)) utimesSync(p, time, time);
  for (const id of looseIds(objectsDir)) utimesSync(loosePath(objectsDir, id), time, time);
}
