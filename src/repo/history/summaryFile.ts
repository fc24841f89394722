import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { readFully } from '../../storage/readFully.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/atomic.js';
import { mergeInto } from '../../core/values.js';
import type { Scalar } from '../../core/objects.js';
import type { Repository } from '../repository/index.js';
import type { VersionSummary } from './summary.js';

/**
 * The summary file, `.mvm/summaries`: every version summary the index holds,
 * as JSON lines, so that `log`, `best` and `--where` answer by reading one
 * file, without opening LevelDB (or loading it). Like the index it is derived
 * data: written only by a process that has the on-disk index open (which
 * LevelDB's lock makes one at a time), and trusted only while the logs it was
 * built from are unchanged.
 *
 * Lines, oldest first:
 *   {"s":SUMMARY}                  a version's summary (its number inside)
 *   {"a":N,"m":{METRICS}}          an annotation's metrics for vN, applied in order
 *   {"state":STATE}                what the lines above cover; always the last line
 * A commit or annotation appends lines and a new state line; anything else
 * (a renumbering, a rebuilt index, a torn append) rewrites the file whole.
 */
const NAME = 'summaries';
/** How much of the file the first backward read takes; each further read takes twice the last, up to MAX_BLOCK. */
const BLOCK = 64 * 1024;
const MAX_BLOCK = 8 * 1024 * 1024;

/** Size and inode of a log file: an append changes the size, an atomic rewrite the inode. */
export interface FileMark {
  size: number;
  ino: string;
}

/** What a summary file covers: entries of the number and annotation logs, and the logs' marks when it was written. */
export interface SummaryState {
  /** The index generation it was written from: a rebuilt index (fsck --repair, a lost index) makes it stale. */
  generation: string | null;
  numbers: number;
  annotations: number;
  numbersFile: FileMark;
  annotationsFile: FileMark;
  /** Appends since the file was last written whole (each leaves a state line behind; see MAX_APPENDS). */
  appends?: number;
}

/** After this many appends the file is written whole again, so old state lines do not pile up. */
export const MAX_APPENDS = 256;

function mark(path: string): FileMark {
  try {
    const st = statSync(path, { bigint: true });
    return { size: Number(st.size), ino: String(st.ino) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, ino: '0' };
    throw e;
  }
}

/** Whether two marks are of the same, unchanged file. */
const sameMark = (a: FileMark, b: FileMark): boolean => a.size === b.size && a.ino === b.ino;

/** Whether two states are the same: same generation, counts, and unchanged logs (the append count aside). */
export function sameState(a: SummaryState, b: SummaryState): boolean {
  return (
    a.generation === b.generation &&
    a.numbers === b.numbers &&
    a.annotations === b.annotations &&
    sameMark(a.numbersFile, b.numbersFile) &&
    sameMark(a.annotationsFile, b.annotationsFile)
  );
}

/** The marks of the two logs a summary depends on, read now. */
export function logMarks(repo: Repository): { numbersFile: FileMark; annotationsFile: FileMark } {
  return { numbersFile: mark(repo.numbers.path), annotationsFile: mark(join(repo.dir, 'logs', 'annotations')) };
}

/** A summary file whose lines do not parse (only a damaged disk does that: appends are checked, rewrites atomic). */
export class SummaryFileDamaged extends Error {}

/** The name in `index/active` (see storage/indexStore.ts, read here without loading LevelDB), or null. */
function activeGeneration(repo: Repository): string | null {
  try {
    return readFileSync(join(repo.dir, 'index', 'active'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

type Line = { s: VersionSummary } | { a: number; m: Record<string, Scalar> } | { state: SummaryState };

/**
 * Reads a summary file from its end: the last line is the state, and
 * summaries are parsed only as far back as a caller asks, so `log -n 10`
 * reads the newest block and no more.
 */
export class SummaryReader {
  private readonly byId = new Map<string, VersionSummary>();
  /** Annotation metrics met (reading backwards) before their version's line, by number, newest first. */
  private readonly pending = new Map<number, Record<string, Scalar>[]>();
  private pos: number;
  private block = BLOCK;
  /**
   * The start of the oldest line read so far, whose beginning lies further back (bytes, so a character split between
   * blocks stays whole).
   */
  private carry: Buffer = Buffer.alloc(0);
  readonly state: SummaryState | null;

  private constructor(
    private readonly fd: number,
    size: number,
  ) {
    this.pos = size;
    this.state = stateAt(fd, size);
  }

  /** Opens the summary file; null when it is missing, torn or no longer matches the logs. */
  static open(repo: Repository): SummaryReader | null {
    let fd: number;
    try {
      fd = openSync(join(repo.dir, NAME), 'r');
    } catch {
      return null;
    }
    const reader = new SummaryReader(fd, fstatSync(fd).size);
    const s = reader.state;
    const now = logMarks(repo);
    if (
      !s ||
      s.generation !== activeGeneration(repo) ||
      !sameMark(s.numbersFile, now.numbersFile) ||
      !sameMark(s.annotationsFile, now.annotationsFile)
    ) {
      reader.close();
      return null;
    }
    return reader;
  }

  /** The summary of `id`, reading further back as needed; undefined when the file has none. */
  get(id: string): VersionSummary | undefined {
    while (!this.byId.has(id) && this.pos > 0) for (const l of this.step()) this.take(l);
    return this.byId.get(id);
  }

  /** Every summary, in number order. */
  all(): Map<string, VersionSummary> {
    while (this.pos > 0) for (const l of this.step()) this.take(l);
    return new Map([...this.byId.values()].sort((a, b) => a.number - b.number).map((s) => [s.id, s]));
  }

  close(): void {
    closeSync(this.fd);
    this.pos = 0;
    this.carry = Buffer.alloc(0);
  }

  /** The complete lines of the next block back, newest first. Throws SummaryFileDamaged on a line that is not JSON. */
  private step(): Line[] {
    if (this.pos === 0) return [];
    const from = Math.max(0, this.pos - this.block);
    this.block = Math.min(MAX_BLOCK, this.block * 2);
    const buf = Buffer.allocUnsafe(this.pos - from);
    if (readFully(this.fd, buf, from) < buf.length) throw new Error('summary file shrank');
    this.pos = from;
    let joined = Buffer.concat([buf, this.carry]);
    this.carry = Buffer.alloc(0);
    if (from > 0) {
      const nl = joined.indexOf(0x0a);
      if (nl < 0) {
        this.carry = joined;
        return [];
      }
      this.carry = joined.subarray(0, nl);
      joined = joined.subarray(nl + 1);
    }
    const parts = joined.toString('utf8').split('\n');
    const lines: Line[] = [];
    try {
      for (let i = parts.length - 1; i >= 0; i--) if (parts[i]) lines.push(JSON.parse(parts[i]!) as Line);
    } catch {
      throw new SummaryFileDamaged('the summary file has a line that is not JSON');
    }
    return lines;
  }

  private take(l: Line): void {
    if ('s' in l) {
      const s = l.s;
      // annotations were met newest first; apply them oldest first, as the index did
      for (const m of (this.pending.get(s.number) ?? []).reverse()) {
        mergeInto(s.metrics, m);
        s.annotations++;
      }
      this.pending.delete(s.number);
      this.byId.set(s.id, s);
    } else if ('a' in l) {
      const list = this.pending.get(l.a);
      if (list) list.push(l.m);
      else this.pending.set(l.a, [l.m]);
    }
    // state lines (the last, and those older appends left) say nothing about versions
  }
}

/** The state line of the summary file as it is, or null (missing, torn). */
export function summaryFileState(repo: Repository): SummaryState | null {
  let fd: number;
  try {
    fd = openSync(join(repo.dir, NAME), 'r');
  } catch {
    return null;
  }
  try {
    return stateAt(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/** The last line of a summary file open as `fd`, when it is a whole state line; null otherwise. */
function stateAt(fd: number, size: number): SummaryState | null {
  try {
    // a state line is a few hundred bytes: the file's tail holds it whole
    const buf = Buffer.allocUnsafe(Math.min(size, 4096));
    const text = buf.subarray(0, readFully(fd, buf, size - buf.length)).toString('utf8');
    if (!text.endsWith('\n')) return null;
    const line = JSON.parse(text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1)) as Line;
    return 'state' in line ? line.state : null;
  } catch {
    return null;
  }
}

const lineOf = (l: Line) => JSON.stringify(l) + '\n';

/** Appends new summaries and annotation metrics, then the new state (the file's state must be the one they follow). */
export function appendSummaryFile(
  repo: Repository,
  summaries: VersionSummary[],
  annotations: { n: number; metrics: Record<string, Scalar> }[],
  state: SummaryState,
): void {
  const text =
    summaries.map((s) => lineOf({ s })).join('') +
    annotations.map((a) => lineOf({ a: a.n, m: a.metrics })).join('') +
    lineOf({ state });
  appendFileSync(join(repo.dir, NAME), text);
}

/** Writes the summary file afresh (atomically) from every summary. */
export function writeSummaryFile(repo: Repository, summaries: Iterable<VersionSummary>, state: SummaryState): void {
  const parts: string[] = [];
  for (const s of summaries) parts.push(lineOf({ s }));
  parts.push(lineOf({ state }));
  writeFileAtomic(join(repo.dir, NAME), parts.join(''), { tmpDir: repo.tmpDir, faults: false });
}
