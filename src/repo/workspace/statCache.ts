import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/atomic.js';
import { MAX_STAT_CACHE } from '../../core/limits.js';
import { isCount, isId } from '../../core/schema.js';
import type { Repository } from '../repository/index.js';

/**
 * The stat cache, `.mvm/stat-cache`: what each workspace file looked like when
 * its content id was last worked out, so `status` and `commit` skip the files
 * that have not changed (see cachedId in workspace.ts). It belongs to this
 * workspace alone and is derived data: a missing, oversized or unreadable
 * file is an empty cache, a line of another shape is skipped, and losing it
 * costs one read of the workspace. Its first line is `mvm-stat-cache 1`; each
 * further line is a JSON array `[path, size, mtimeNs, ctimeNs, ino, file, at]`.
 *
 * Writers read, merge and replace it whole (temp file, then rename) without a
 * lock: two at once may lose one's updates, which only costs a rehash, never
 * a wrong answer, as every entry is checked against the file's stat.
 */
const NAME = 'stat-cache';
const HEADER = 'mvm-stat-cache 1';
const NS = /^\d{1,30}$/;

/** A stat-cache entry: what a workspace file looked like when its content id was last computed. */
export interface StatEntry {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  file: string;
  /** When the entry was written (ns); an mtime at or after it is treated as racy and rehashed. */
  at: string;
}

/** One line's entry, or null when it is not of the cache's shape. */
function parseLine(line: string): [string, StatEntry] | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 7) return null;
  const [path, size, mtimeNs, ctimeNs, ino, file, at] = v as unknown[];
  if (typeof path !== 'string' || !isCount(size) || !isId(file)) return null;
  for (const ns of [mtimeNs, ctimeNs, ino, at]) if (typeof ns !== 'string' || !NS.test(ns)) return null;
  return [path, { size, mtimeNs, ctimeNs, ino, file, at } as StatEntry];
}

/** Every entry of the cache (empty when it is missing, too large or not a stat cache). */
function readAll(repo: Repository): Map<string, StatEntry> {
  const out = new Map<string, StatEntry>();
  const path = join(repo.dir, NAME);
  let text: string;
  try {
    if (statSync(path).size > MAX_STAT_CACHE) return out;
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  const lines = text.split('\n');
  if (lines[0] !== HEADER) return out;
  for (let i = 1; i < lines.length; i++) {
    const e = lines[i] ? parseLine(lines[i]!) : null;
    if (e) out.set(e[0], e[1]);
  }
  return out;
}

/** The stat-cache entries of the given paths (those it has). */
export function readStatCache(repo: Repository, paths: Iterable<string>): Map<string, StatEntry> {
  const all = readAll(repo);
  const out = new Map<string, StatEntry>();
  for (const p of paths) {
    const e = all.get(p);
    if (e) out.set(p, e);
  }
  return out;
}

/** Records stat-cache entries (null drops one) after a command has worked out or written the files they describe. */
export function recordStats(repo: Repository, updates: Map<string, StatEntry | null>): void {
  if (!updates.size) return;
  const all = readAll(repo);
  for (const [p, e] of updates) {
    if (e) all.set(p, e);
    else all.delete(p);
  }
  const lines = [HEADER];
  for (const [p, e] of all) lines.push(JSON.stringify([p, e.size, e.mtimeNs, e.ctimeNs, e.ino, e.file, e.at]));
  try {
    writeFileAtomic(join(repo.dir, NAME), lines.join('\n') + '\n', { tmpDir: repo.tmpDir, faults: false });
  } catch {
    // derived data: a cache that cannot be written (read-only storage, a full disk) costs a rehash next time
  }
}

/** Forgets the whole cache, so the next command reads every file again (fsck --repair after moving objects aside). */
export function dropStatCache(repo: Repository): void {
  rmSync(join(repo.dir, NAME), { force: true });
}
