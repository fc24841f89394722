import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { faultPoint } from './faults.js';

const LINE = 65; // 64 hex digits + newline
const ID_RE = /^[0-9a-f]{64}$/;

/**
 * NumberLog is the file `.mvm/numbers` that gives versions their short
 * numbers: line N holds the id of vN. It is primary data, appended to by
 * commits; the only rewrite is a fetch renumbering versions not yet pushed so
 * that the remote's registry keeps its numbers (see docs/FORMAT.md).
 * A line torn by a crash is padded with '-' on the next append and its number
 * is never handed out again; readAll reports it as null.
 */
export class NumberLog {
  /** `.mvm/registry.json`: how many leading lines a shared registry numbered (see confirmed()). */
  readonly registryPath: string;

  constructor(readonly path: string) {
    this.registryPath = join(dirname(path), 'registry.json');
  }

  /**
   * How many leading lines are registry numbers: all of them (null) in a
   * repository that never shared a registry (it is its own); else the count
   * the last fetch or push confirmed. Lines after it are versions made here
   * that no registry has numbered yet: they have no number to show. A file
   * that is not what mvm writes confirms nothing (fsck reports it).
   */
  confirmed(): number | null {
    const state = this.registryState();
    return state === undefined ? null : (state?.numbered ?? 0);
  }

  /** What `registry.json` says: undefined when it does not exist, null when it is not what mvm writes. */
  registryState(): { remote: string; numbered: number } | null | undefined {
    return readRegistryState(this.registryPath);
  }

  /** Records that `remote`'s registry numbers the first `numbered` lines (after the lines are written). */
  setConfirmed(numbered: number, remote: string, tmpDir: string): void {
    const text = `${JSON.stringify({ format: 1, remote, numbered })}\n`;
    writeFileAtomic(this.registryPath, text, { tmpDir, fsync: true });
  }

  /** The log's length in bytes (0 when it does not exist yet): an append needs no more than this. */
  private size(): number {
    try {
      return statSync(this.path).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw fromSystemError(e, this.path, 'reading');
    }
  }

  /** The log's bytes (none when it does not exist yet). */
  private bytes(): Buffer {
    try {
      return readFileSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
      throw fromSystemError(e, this.path, 'reading');
    }
  }

  /** Every number's id, index 0 holding v1; null for a burned (torn) line. */
  readAll(): (string | null)[] {
    return parseNumberLog(this.bytes());
  }

  /** The number of `id`, or null when no line holds it: a search of the bytes, without parsing the log. */
  numberOf(id: string): number | null {
    if (!ID_RE.test(id)) return null;
    const buf = this.bytes();
    const needle = Buffer.from(id + '\n', 'latin1');
    for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + 1))
      if (at % LINE === 0) return at / LINE + 1;
    return null;
  }

  /** Numbers whose line is garbled (read as burned); fsck reports them. */
  garbled(): number[] {
    return garbledNumberLines(this.bytes());
  }

  /**
   * Replaces the whole log (atomically): only when a fetch renumbers the
   * versions made here to follow a remote's registry. Call with the lock held.
   */
  replace(ids: (string | null)[], tmpDir: string): void {
    writeFileAtomic(this.path, formatNumberLog(ids), { tmpDir, fsync: true });
  }

  /** Burns the next number (no version will ever get it), to keep step with a registry that burned it. */
  burn(): void {
    this.append('-'.repeat(64));
  }

  /** Appends an id and returns its number. Call with the repository lock held. */
  append(id: string): number {
    return this.appendAll([id]);
  }

  /**
   * Appends ids in order (null: a burned number) in one write, and returns the
   * number of the first. Call with the repository lock held.
   */
  appendAll(ids: (string | null)[]): number {
    const len = this.size();
    const torn = len % LINE;
    const pad = torn === 0 ? '' : '-'.repeat(LINE - 1 - torn) + '\n';
    try {
      faultPoint('append', this.path);
      appendFileSync(this.path, pad + ids.map((id) => `${id ?? '-'.repeat(64)}\n`).join(''), 'latin1');
    } catch (e) {
      throw fromSystemError(e, this.path, 'writing');
    }
    return (len + pad.length) / LINE + 1;
  }
}

/** The ids of a number log's bytes, index 0 holding v1; null for a torn or garbled line. */
export function parseNumberLog(buf: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  const full = Math.floor(buf.length / LINE);
  for (let i = 0; i < full; i++) {
    const at = i * LINE;
    // each id is its own string (not a slice of the file's text, which V8 would keep alive)
    out.push(buf[at + 64] === 0x0a && isLowerHex(buf, at, at + 64) ? buf.toString('latin1', at, at + 64) : null);
  }
  return out;
}

/** Whether bytes [from, to) are all 0-9 or a-f (a byte loop: a regex per line is the slow part of a long log). */
function isLowerHex(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Line numbers (1-based, = version numbers) of a number log's lines that are neither an id nor a burned number. */
export function garbledNumberLines(buf: Buffer): number[] {
  const out: number[] = [];
  const full = Math.floor(buf.length / LINE);
  for (let i = 0; i < full; i++) {
    const line = buf.toString('latin1', i * LINE, i * LINE + 64);
    if (buf[i * LINE + 64] !== 0x0a || (!ID_RE.test(line) && line !== '-'.repeat(64))) out.push(i + 1);
  }
  return out;
}

/** The bytes of a number log holding `ids` in order (null: a burned number). */
export function formatNumberLog(ids: (string | null)[]): Buffer {
  return Buffer.from(ids.map((id) => `${id ?? '-'.repeat(64)}\n`).join(''), 'latin1');
}

/**
 * Parses a remote's number registry strictly, in one pass: whole lines only,
 * each an id or a burned number; anything else is REMOTE_CORRUPT (a registry
 * is written whole, so nothing in it is torn).
 */
export function parseRegistry(buf: Buffer, url: string): (string | null)[] {
  const bad = (why: string) =>
    new MvmError('REMOTE_CORRUPT', `the number registry on ${url} is malformed: ${why}`, {
      url,
      hint: 'nothing was adopted; remove or repair the registry file (numbers) on the remote',
    });
  if (buf.length % LINE !== 0) throw bad(`${buf.length} bytes is not a whole number of lines`);
  const out = parseNumberLog(buf);
  const burned = '-'.repeat(64);
  for (let i = 0; i < out.length; i++)
    if (out[i] === null && (buf[i * LINE + 64] !== 0x0a || buf.toString('latin1', i * LINE, i * LINE + 64) !== burned))
      throw bad(`line ${i + 1} is neither a version id nor a burned number`);
  return out;
}

/** What `.mvm/registry.json` says: undefined when it does not exist, null when it is not what mvm writes. */
function readRegistryState(path: string): { remote: string; numbered: number } | null | undefined {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > 4096) return null;
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromSystemError(e, path, 'reading');
  }
  try {
    const v = JSON.parse(text) as { format?: unknown; remote?: unknown; numbered?: unknown };
    if (
      v &&
      v.format === 1 &&
      typeof v.remote === 'string' &&
      Number.isSafeInteger(v.numbered) &&
      (v.numbered as number) >= 0
    )
      return { remote: v.remote, numbered: v.numbered as number };
  } catch {
    // not JSON: reported as damaged below
  }
  return null;
}
