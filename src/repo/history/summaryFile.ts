import { appendFileSync, closeSync, fstatSync, readFileSync, statSync } from 'node:fs';
import { openForReading, readFully } from '../../storage/readFully.js';
import { blake3Hex } from '../../storage/hash.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/atomic.js';
import { mergeInto } from '../../core/values.js';
import { MAX_METADATA_SIZE } from '../../core/limits.js';
import { isCount, isRecord, isScalar } from '../../core/schema.js';
import type { Scalar } from '../../core/objects.js';
import type { Repository } from '../repository/index.js';
import { isSummary, SummaryFileDamaged, type StoredSummary } from './summary.js';
import { removeColumns, SCAN_COLUMNS, SummaryColumns, writeColumns } from './summaryColumns.js';
import { columnTable, type SummaryTable, tableOf } from './summaryTable.js';

/**
 * The summary file, `.mvm/summaries`: the summary of every numbered version, as JSON lines, so that `log`, `best`
 * and `--where` answer by reading one file, not every manifest. It is derived data, the only store of summaries:
 * written only under its own lock (see summaryStore.ts), and trusted only while the logs it was built from hold.
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
/**
 * A reader of every summary writes the columns (summaryColumns.ts) when the file is at least `after` bytes long with
 * none, or more than `after` bytes lie past them (tests lower it): 256 KiB of lines (600 versions) parse in a few
 * ms, and writing the columns (tens of ms for 10,000 versions) is paid once per 256 KiB of appends or rewrite.
 */
export const columnsPolicy = { after: 256 * 1024 };

/**
 * What a log file was when summaries were taken from it: an append changes the
 * size (and ctime), an atomic rewrite the inode and ctime; `blake3`, of its
 * bytes then, tells a later reader whether the log was only appended to since.
 */
export interface FileMark {
  size: number;
  ino: string;
  ctimeNs: string;
  blake3: string;
}

/** What a summary file covers: entries of the number and annotation logs, and the logs' marks when it was written. */
export interface SummaryState {
  numbers: number;
  annotations: number;
  /** Entries of `logs/gc` (versions gc removed leave the file). */
  gc: number;
  numbersFile: FileMark;
  annotationsFile: FileMark;
  gcFile: FileMark;
  /** Appends since the file was last written whole (each leaves a state line behind; see MAX_APPENDS). */
  appends?: number;
}

/** After this many appends the file is written whole again, so old state lines do not pile up. */
export const MAX_APPENDS = 256;

/** A log file's size, inode and ctime now (zeros when it does not exist); no hash: a stat, for the freshness check. */
function statMark(path: string): Omit<FileMark, 'blake3'> {
  try {
    const st = statSync(path, { bigint: true });
    return { size: Number(st.size), ino: String(st.ino), ctimeNs: String(st.ctimeNs) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, ino: '0', ctimeNs: '0' };
    throw e;
  }
}

/**
 * The BLAKE3 of the first `size` bytes of a file (null when it is shorter or gone); logs are read whole anyway. Not
 * node:crypto, which costs a short command about 7 ms to load (`log --where`, 2026-12-07); BLAKE3 is loaded.
 */
function prefixHash(path: string, size: number): string | null {
  try {
    const bytes = size ? readFileSync(path) : Buffer.alloc(0);
    return bytes.length >= size ? blake3Hex(bytes.subarray(0, size)) : null;
  } catch {
    return null;
  }
}

/** A log's full mark: its stat now and the hash of its bytes (taken after the stat; see LogMarks). */
function fullMark(path: string): FileMark {
  const st = statMark(path);
  return { ...st, blake3: prefixHash(path, st.size) ?? '' };
}

/** Whether a file is the same, unchanged file as when `m` was taken (a stat: size, inode, ctime). */
function unchanged(m: FileMark, now: Omit<FileMark, 'blake3'>): boolean {
  return m.size === now.size && m.ino === now.ino && m.ctimeNs === now.ctimeNs;
}

/** Whether the file at `path` still begins with the bytes `m` was taken of: it was only appended to since. */
export function onlyAppended(path: string, m: FileMark): boolean {
  return statMark(path).size >= m.size && prefixHash(path, m.size) === m.blake3;
}

/** The paths of the three logs summaries are taken from. */
export function logPaths(repo: Repository): { numbers: string; annotations: string; gc: string } {
  const logs = join(repo.dir, 'logs');
  return { numbers: repo.numbers.path, annotations: join(logs, 'annotations'), gc: join(logs, 'gc') };
}

/** The marks of the three logs summaries depend on, with the hashes of their bytes, read now. */
export function logMarks(repo: Repository): Pick<SummaryState, 'numbersFile' | 'annotationsFile' | 'gcFile'> {
  const p = logPaths(repo);
  return { numbersFile: fullMark(p.numbers), annotationsFile: fullMark(p.annotations), gcFile: fullMark(p.gc) };
}

/** Whether the logs are as `state` saw them (a stat each, no read): the file is current. */
export function isCurrent(repo: Repository, state: SummaryState): boolean {
  const p = logPaths(repo);
  return (
    unchanged(state.numbersFile, statMark(p.numbers)) &&
    unchanged(state.annotationsFile, statMark(p.annotations)) &&
    unchanged(state.gcFile, statMark(p.gc))
  );
}

type Line = { s: StoredSummary } | { a: number; m: Record<string, Scalar> } | { state: SummaryState };

function isMark(v: unknown): v is FileMark {
  return (
    isRecord(v) &&
    isCount(v.size) &&
    typeof v.ino === 'string' &&
    typeof v.ctimeNs === 'string' &&
    typeof v.blake3 === 'string'
  );
}

function isState(v: unknown): v is SummaryState {
  return (
    isRecord(v) &&
    isCount(v.numbers) &&
    isCount(v.annotations) &&
    isCount(v.gc) &&
    isMark(v.numbersFile) &&
    isMark(v.annotationsFile) &&
    isMark(v.gcFile) &&
    (v.appends === undefined || isCount(v.appends))
  );
}

/** The one shape check of a line read from the file (which may have been edited by anyone). */
function isLine(v: unknown): v is Line {
  if (!isRecord(v)) return false;
  if ('s' in v) return isSummary(v.s);
  if ('a' in v) return isCount(v.a) && isRecord(v.m) && Object.values(v.m).every(isScalar);
  return 'state' in v && isState(v.state);
}

/**
 * Reads a summary file from its end: the last line is the state, and
 * summaries are parsed only as far back as a caller asks, so `log -n 10`
 * reads the newest block and no more.
 */
export class SummaryReader {
  private readonly byId = new Map<string, StoredSummary>();
  /** Annotation metrics met (reading backwards) before their version's line, by number, newest first. */
  private readonly pending = new Map<number, Record<string, Scalar>[]>();
  private pos: number;
  private block = BLOCK;
  /**
   * The start of the oldest line read so far, whose beginning lies further back (bytes, so a character split between
   * blocks stays whole).
   */
  private carry: Buffer = Buffer.alloc(0);
  /** What all() returned (callers may ask again, and the lines are read by then). */
  private every: Map<string, StoredSummary> | null = null;
  /** Where line reading stops: 0, or where the columns all() uses take over (a line boundary). */
  private floor = 0;
  readonly state: SummaryState | null;
  /** The state line as it is in the file (without its newline). */
  private readonly stateText: string | null;

  private constructor(
    private readonly repo: Repository,
    private readonly fd: number,
    private readonly size: number,
  ) {
    this.pos = size;
    const s = stateAt(fd, size);
    this.state = s?.state ?? null;
    this.stateText = s?.text ?? null;
  }

  /**
   * Opens the summary file; null when it is missing or torn, or (unless `stale` is set, for bringing it up to date)
   * no longer matches the logs.
   */
  static open(repo: Repository, opts: { stale?: boolean } = {}): SummaryReader | null {
    const fd = openForReading(join(repo.dir, NAME));
    if (fd === null) return null;
    const reader = new SummaryReader(repo, fd, fstatSync(fd).size);
    const s = reader.state;
    if (!s || (!opts.stale && !isCurrent(repo, s))) {
      reader.close();
      return null;
    }
    return reader;
  }

  /** The summary of `id`, reading further back as needed; undefined when the file has none. */
  get(id: string): StoredSummary | undefined {
    while (!this.byId.has(id) && this.pos > 0) for (const l of this.step()) this.take(l);
    return this.byId.get(id);
  }

  /**
   * Every summary, in number order: the lines past what the columns cover (all of them when there are no current
   * columns, or when get() has read past them), then the columns. Writes the columns when that saves later readers
   * enough lines (columnsPolicy). The same map on every call: a caller that changes it copies it first.
   */
  all(): Map<string, StoredSummary> {
    if (this.every) return this.every;
    // every line is wanted: the largest reads from here on (fewer reads, and fewer bytes carried between them)
    this.block = MAX_BLOCK;
    const columns = this.pos > 0 && this.state ? SummaryColumns.load(this.repo, this.fd, this.pos) : null;
    if (columns) {
      this.floor = columns.bytes;
      while (this.pos > this.floor) for (const l of this.step()) this.take(l);
      this.floor = 0;
      this.takeColumns(columns.columns);
    }
    while (this.pos > 0) for (const l of this.step()) this.take(l);
    // a few runs in order (the lines read newest first, then the columns): cheap for the sort's merges
    const sorted = [...this.byId.values()].sort((a, b) => a.number - b.number);
    const past = this.size - (columns?.bytes ?? 0);
    if (this.stateText && (columns ? past > columnsPolicy.after : this.size >= columnsPolicy.after))
      writeColumns(this.repo, sorted, { bytes: this.size, last: this.stateText });
    this.every = new Map();
    for (const s of sorted) this.every.set(s.id, s);
    return this.every;
  }

  /**
   * Every summary as a table (summaryTable.ts), for a scan: the current columns (checked in the columns a scan
   * reads, no summary built per version) and the lines past them; else all(), as when new columns are due.
   */
  table(): SummaryTable {
    const columns =
      this.every || !this.pos || !this.state ? null : SummaryColumns.load(this.repo, this.fd, this.pos, SCAN_COLUMNS);
    if (columns && !(this.stateText && this.size - columns.bytes > columnsPolicy.after)) {
      [this.block, this.floor] = [MAX_BLOCK, columns.bytes];
      while (this.pos > this.floor) for (const l of this.step()) this.take(l);
      this.floor = 0;
      const lines = [...this.byId.values()].sort((a, b) => a.number - b.number);
      const c = columns.columns;
      // unless lines repeat what the columns hold (a hand edit): all() takes the lines' summaries, in number order
      if (!lines.length || !c.size || lines[0]!.number > c.numberAt(c.size - 1))
        return columnTable(c, lines, this.pending);
    }
    return tableOf([...this.all().values()]);
  }

  close(): void {
    closeSync(this.fd);
    this.pos = 0;
    this.carry = Buffer.alloc(0);
  }

  /** The summaries of the columns that no line read has given, with the annotations read since. */
  private takeColumns(c: SummaryColumns): void {
    // lines read give the newer summaries (none, unless versions were appended since the columns were written)
    const some = this.byId.size > 0;
    for (let i = 0; i < c.size; i++) {
      if (some && this.byId.has(c.idAt(i))) continue;
      const s = c.summary(i);
      const later = this.pending.get(s.number);
      if (later) {
        s.metrics = { ...s.metrics };
        for (const m of later.reverse()) mergeInto(s.metrics, m);
        s.annotations += later.length;
        this.pending.delete(s.number);
      }
      this.byId.set(s.id, s);
    }
    this.pos = 0;
  }

  /** The complete lines of the next block back, newest first. Throws SummaryFileDamaged on a line that is not JSON. */
  private step(): Line[] {
    if (this.pos === this.floor) return [];
    const from = Math.max(this.floor, this.pos - this.block);
    this.block = Math.min(MAX_BLOCK, this.block * 2);
    const buf = Buffer.allocUnsafe(this.pos - from);
    if (readFully(this.fd, buf, from) < buf.length) throw new Error('summary file shrank');
    this.pos = from;
    let joined = Buffer.concat([buf, this.carry]);
    this.carry = Buffer.alloc(0);
    if (from > this.floor) {
      const nl = joined.indexOf(0x0a);
      if (nl < 0) {
        // no line is longer than the manifest it summarises may be
        if (joined.length > MAX_METADATA_SIZE) throw new SummaryFileDamaged('the summary file has an overlong line');
        this.carry = joined;
        return [];
      }
      this.carry = joined.subarray(0, nl);
      joined = joined.subarray(nl + 1);
    }
    const parts = joined.toString('utf8').split('\n');
    const lines: Line[] = [];
    for (let i = parts.length - 1; i >= 0; i--) {
      if (!parts[i]) continue;
      let line: unknown;
      try {
        line = JSON.parse(parts[i]!);
      } catch {
        throw new SummaryFileDamaged('the summary file has a line that is not JSON');
      }
      if (!isLine(line)) throw new SummaryFileDamaged('the summary file has a line of another shape');
      lines.push(line);
    }
    return lines;
  }

  private take(l: Line): void {
    if ('s' in l) {
      // maps stay as JSON.parse made them (an own `__proto__` key is a name; readers look keys up with hasOwn or
      // take only numbers): null-prototype copies of three maps a summary cost `log --where` over 10,000
      // versions about 20 ms of garbage collection
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
  const fd = openForReading(join(repo.dir, NAME));
  if (fd === null) return null;
  try {
    return stateAt(fd, fstatSync(fd).size)?.state ?? null;
  } finally {
    closeSync(fd);
  }
}

/** The last line of a summary file open as `fd`, when it is a whole state line (and its text); null otherwise. */
function stateAt(fd: number, size: number): { state: SummaryState; text: string } | null {
  try {
    // a state line is a few hundred bytes: the file's tail holds it whole
    const buf = Buffer.allocUnsafe(Math.min(size, 4096));
    const text = buf.subarray(0, readFully(fd, buf, size - buf.length)).toString('utf8');
    if (!text.endsWith('\n')) return null;
    const last = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1);
    const line: unknown = JSON.parse(last);
    return isRecord(line) && 'state' in line && isState(line.state) ? { state: line.state, text: last } : null;
  } catch {
    return null;
  }
}

const lineOf = (l: Line) => JSON.stringify(l) + '\n';

/** Appends new summaries and annotation metrics, then the new state (the file's state must be the one they follow). */
export function appendSummaryFile(
  repo: Repository,
  summaries: StoredSummary[],
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
export function writeSummaryFile(repo: Repository, summaries: Iterable<StoredSummary>, state: SummaryState): void {
  const parts: string[] = [];
  for (const s of summaries) parts.push(lineOf({ s }));
  parts.push(lineOf({ state }));
  // columns of the file being replaced would not match the new one; gone first, so none can be taken for it
  removeColumns(repo);
  writeFileAtomic(join(repo.dir, NAME), parts.join(''), { tmpDir: repo.tmpDir, faults: false });
}
