import { closeSync, fstatSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/atomic.js';
import { openForReading, readFully } from '../../storage/readFully.js';
import type { Scalar } from '../../core/objects.js';
import { isCount, isId, isRecord } from '../../core/schema.js';
import type { Repository } from '../repository/index.js';
import { isSummary, SummaryFileDamaged, type StoredSummary } from './summary.js';

/**
 * The summary columns, `.mvm/summaries.columns`: every summary of the summary
 * file's first bytes (up to and with one of its state lines), annotations
 * merged, stored field by field, so that a reader of every summary (`log
 * --where`, `best`) parses a JSON array per field instead of a line per
 * version, and builds the summaries it uses from them; a scan (`best`) parses
 * only the fields it reads. Derived from the summary file alone, written best
 * effort (temp then rename) by a reader that read the whole file, and trusted
 * only while the summary file still holds, at the length covered, the state
 * line it was built from (a small read); anything else (missing, torn, of
 * another shape, over its size cap, stale, of format 1) is ignored, and the
 * summary file is read line by line as before.
 *
 * A header line, then the fields' JSON texts one after another (no separator):
 *   {"columns":2,"bytes":B,"last":STATE_LINE,"n":N,"body":LENGTH,"lengths":[L_ids,L_number,...]}
 *   "ID1ID2..."[n1,n2,...][[P,...],...]["author",...]...
 * `lengths` gives each text's bytes, `ids` first, then the fields in COLUMNS
 * order. `ids` is the N versions' ids one after another (64 hex digits each);
 * every other field is an array of N values, in the same order: a summary's
 * field, except that `parents` and `base` name a version of the file by its
 * index (a number) and any other by its id (a string).
 */
const NAME = 'summaries.columns';
const FORMAT = 2;
/** The header line is small: the state line it quotes is a few hundred bytes. */
const HEADER_MAX = 8192;

/** Which bytes of the summary file the columns hold: its first `bytes`, ending with the state line `last`. */
export interface ColumnsCover {
  bytes: number;
  last: string;
}

interface Header extends ColumnsCover {
  columns: number;
  n: number;
  body: number;
  /** Bytes of each field's JSON text: `ids`, then COLUMNS in order. */
  lengths: number[];
}

interface Body {
  ids: string;
  number: number[];
  /** A version's one parent of the file as its index; otherwise its parents as refs. */
  parents: (number | (number | string)[])[];
  author: string[];
  time: string[];
  message: string[];
  meta: Record<string, Scalar>[];
  params: Record<string, Scalar>[];
  metrics: Record<string, Scalar>[];
  base: (number | string | null)[];
  data: string[][];
  files: number[];
  size: number[];
  annotations: number[];
}

const COLUMNS = [
  'number',
  'parents',
  'author',
  'time',
  'message',
  'meta',
  'params',
  'metrics',
  'base',
  'data',
  'files',
  'size',
  'annotations',
] as const;

/*
 * The checks below run once per value of every column before any code is optimised, where a function call costs
 * more than the check it makes: each is a loop over one column with its tests written out (measured on 10,000
 * versions, a loaded 2-core machine: 3-12 ms, where the same tests as a call per value took 20-60 ms).
 */

/** Every value a whole number from 0 up to 2^53 - 1. */
function allCounts(c: unknown[]): boolean {
  for (let i = 0; i < c.length; i++) {
    const x = c[i];
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) return false;
  }
  return true;
}

function allStrings(c: unknown[]): boolean {
  for (let i = 0; i < c.length; i++) if (typeof c[i] !== 'string') return false;
  return true;
}

/** Every value a map of scalars (a string, a finite number or a boolean). */
function allScalarMaps(c: unknown[]): boolean {
  for (let i = 0; i < c.length; i++) {
    const m = c[i];
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
    for (const k in m) {
      const x = (m as Record<string, unknown>)[k];
      if (typeof x !== 'string' && typeof x !== 'boolean' && (typeof x !== 'number' || !Number.isFinite(x)))
        return false;
    }
  }
  return true;
}

/** A reference to a version: its index among the n of the body, or an id. */
const isRef = (v: unknown, n: number) => (typeof v === 'number' ? Number.isInteger(v) && v >= 0 && v < n : isId(v));

/** Every value a reference, or an array of them (`list`), or null (`nullable`). */
function allRefs(c: unknown[], n: number, list: boolean, nullable: boolean): boolean {
  for (let i = 0; i < c.length; i++) {
    const x = c[i];
    if (typeof x === 'number') {
      if (!Number.isInteger(x) || x < 0 || x >= n) return false;
    } else if (x === null) {
      if (!nullable) return false;
    } else if (list && Array.isArray(x)) {
      for (let j = 0; j < x.length; j++) if (!isRef(x[j], n)) return false;
    } else if (list || !isId(x)) return false;
  }
  return true;
}

/** Every value an array of strings. */
function allStringLists(c: unknown[]): boolean {
  for (let i = 0; i < c.length; i++) {
    const x = c[i];
    if (!Array.isArray(x)) return false;
    for (let j = 0; j < x.length; j++) if (typeof x[j] !== 'string') return false;
  }
  return true;
}

type Column = (typeof COLUMNS)[number];

/** Each column's check, over all its values (n: how many versions the body holds). */
const CHECKS: Record<Column, (c: unknown[], n: number) => boolean> = {
  number: allCounts,
  files: allCounts,
  size: allCounts,
  annotations: allCounts,
  author: allStrings,
  time: allStrings,
  message: allStrings,
  meta: allScalarMaps,
  params: allScalarMaps,
  metrics: allScalarMaps,
  parents: (c, n) => allRefs(c, n, true, false),
  base: (c, n) => allRefs(c, n, false, true),
  data: allStringLists,
};

/** The ids text parsed: N ids of 64 hex digits one after another, or null. */
function parseIds(text: string, n: number): string | null {
  const ids: unknown = JSON.parse(text);
  return typeof ids === 'string' && ids.length === 64 * n && /^[0-9a-f]*$/.test(ids) ? ids : null;
}

/** A field's text parsed and checked (an array of n values of its type), or null. */
function parseColumn(k: Column, text: string, n: number): unknown[] | null {
  const c: unknown = JSON.parse(text);
  return Array.isArray(c) && c.length === n && CHECKS[k](c, n) ? c : null;
}

/** The columns a scan of every version reads (SummaryTable): checked when the columns load. */
export const SCAN_COLUMNS: readonly Column[] = ['number', 'parents', 'metrics'];

function isHeader(v: unknown): v is Header {
  return (
    isRecord(v) &&
    v.columns === FORMAT &&
    isCount(v.bytes) &&
    typeof v.last === 'string' &&
    isCount(v.n) &&
    isCount(v.body) &&
    Array.isArray(v.lengths) &&
    v.lengths.length === COLUMNS.length + 1 &&
    v.lengths.every(isCount) &&
    (v.lengths as number[]).reduce((a, x) => a + x, 0) === v.body
  );
}

/** The columns of a summary file: summaries built one at a time, by index or id. */
export class SummaryColumns {
  /** The ids sliced out of the ids text so far (a scan reads few). */
  private readonly id: string[];
  /** The fields parsed so far (those checked at load, then any a summary() needed). */
  private readonly b: Partial<Body> = {};

  private constructor(
    private readonly ids: string,
    parsed: Partial<Body>,
    /** The body, and where each field's text starts in it (COLUMNS order), for the fields parsed on use. */
    private readonly body: Buffer,
    private readonly starts: number[],
    private readonly lengths: number[],
    /** Whether every field was checked when loaded; otherwise summary() checks the summary it builds. */
    private readonly checked: boolean,
  ) {
    Object.assign(this.b, parsed);
    this.id = new Array<string>(ids.length / 64);
  }

  /** Field `k`, parsed on first use: SummaryFileDamaged when it is not an array of one value a version. */
  private col<K extends Column>(k: K): Body[K] {
    const have = this.b[k];
    if (have) return have as Body[K];
    const at = COLUMNS.indexOf(k);
    let c: unknown;
    try {
      c = JSON.parse(this.body.toString('utf8', this.starts[at], this.starts[at]! + this.lengths[at]!));
    } catch {
      c = null;
    }
    if (!Array.isArray(c) || c.length !== this.id.length)
      throw new SummaryFileDamaged(`the summary columns' ${k} is not an array of one value a version`);
    this.b[k] = c as Body[K];
    return c as Body[K];
  }

  /** The number at index `i`. */
  numberAt(i: number): number {
    return this.col('number')[i]!;
  }

  /** The parents' ids at index `i`. */
  parentsAt(i: number): string[] {
    const ps = this.col('parents')[i]!;
    return typeof ps === 'number' ? [this.idAt(ps)] : ps.map((r) => (typeof r === 'number' ? this.idAt(r) : r));
  }

  /** The parents at index `i` as stored: an index among these columns, or an id (a version they do not hold). */
  parentRefsAt(i: number): number | (number | string)[] {
    return this.col('parents')[i]!;
  }

  /** The metrics at index `i`, as recorded in the columns (the map is the columns'). */
  metricsAt(i: number): Record<string, Scalar> {
    return this.col('metrics')[i]!;
  }

  get size(): number {
    return this.id.length;
  }

  idAt(i: number): string {
    return (this.id[i] ??= this.ids.slice(64 * i, 64 * i + 64));
  }

  /**
   * The summary at index `i`: a new object (its maps are the columns' own). Columns not checked at load are
   * checked here, in the summary built: SummaryFileDamaged when it is not one.
   */
  summary(i: number): StoredSummary {
    const ref = (r: number | string) => (typeof r === 'number' ? this.idAt(r) : r);
    const base = this.col('base')[i]!;
    const s: StoredSummary = {
      id: this.idAt(i),
      number: this.numberAt(i),
      parents: this.parentsAt(i),
      author: this.col('author')[i]!,
      time: this.col('time')[i]!,
      message: this.col('message')[i]!,
      meta: this.col('meta')[i]!,
      params: this.col('params')[i]!,
      metrics: this.metricsAt(i),
      base: base === null ? null : ref(base),
      data: this.col('data')[i]!,
      files: this.col('files')[i]!,
      size: this.col('size')[i]!,
      annotations: this.col('annotations')[i]!,
    };
    if (!this.checked && !isSummary(s)) throw new SummaryFileDamaged('the summary columns hold a value of a bad shape');
    return s;
  }

  /**
   * The current columns of the summary file open as `summaryFd`, when they cover no more than its first `upTo` bytes
   * (where a reader's lines begin), with the bytes they cover; null when there are none to use.
   */
  static load(
    repo: Repository,
    summaryFd: number,
    upTo: number,
    check: readonly Column[] = COLUMNS,
  ): { bytes: number; columns: SummaryColumns } | null {
    const fd = openForReading(join(repo.dir, NAME));
    if (fd === null) return null;
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.allocUnsafe(Math.min(size, HEADER_MAX));
      const nl = head.subarray(0, readFully(fd, head, 0)).indexOf(0x0a);
      if (nl < 0) return null;
      const h: unknown = JSON.parse(head.subarray(0, nl).toString('utf8'));
      // the body is about half the summary file it covers: anything far larger is not one
      if (!isHeader(h) || h.bytes > upTo || size !== nl + 1 + h.body || h.body > 2 * h.bytes + 4096) return null;
      if (!coversPrefix(summaryFd, h)) return null;
      const buf = Buffer.allocUnsafe(h.body);
      if (readFully(fd, buf, nl + 1) < h.body) return null;
      const [idsLength, ...lengths] = h.lengths;
      const ids = parseIds(buf.toString('utf8', 0, idsLength), h.n);
      if (ids === null) return null;
      const starts: number[] = [];
      for (let at = idsLength!, k = 0; k < lengths.length; at += lengths[k++]!) starts.push(at);
      // the fields asked for are parsed and checked now, the others when a summary needs them
      const checked: Partial<Record<Column, unknown[]>> = {};
      for (const k of check) {
        const at = COLUMNS.indexOf(k);
        const c = parseColumn(k, buf.toString('utf8', starts[at], starts[at]! + lengths[at]!), h.n);
        if (!c) return null;
        checked[k] = c;
      }
      const all = check.length === COLUMNS.length;
      return { bytes: h.bytes, columns: new SummaryColumns(ids, checked as Partial<Body>, buf, starts, lengths, all) };
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }
}

/** Whether the summary file (open as `fd`) has the state line `h.last` ending at byte `h.bytes`. */
function coversPrefix(fd: number, h: ColumnsCover): boolean {
  const want = Buffer.from(h.last + '\n');
  if (want.length > h.bytes) return false;
  const got = Buffer.allocUnsafe(want.length);
  return readSync(fd, got, 0, got.length, h.bytes - got.length) === got.length && got.equals(want);
}

/**
 * Writes the columns of `summaries` (the merged summaries of the summary file's
 * first `cover.bytes`, in the file's order), best effort: derived data that is
 * not written (a full disk, read-only storage, a writer clearing `.mvm/tmp`) is written next time.
 */
export function writeColumns(repo: Repository, summaries: StoredSummary[], cover: ColumnsCover): void {
  const index = new Map(summaries.map((s, i) => [s.id, i]));
  const ref = (id: string) => index.get(id) ?? id;
  const body = {
    ids: summaries.map((s) => s.id).join(''),
    number: summaries.map((s) => s.number),
    parents: summaries.map((s) => {
      const one = s.parents.length === 1 ? index.get(s.parents[0]!) : undefined;
      return one ?? s.parents.map(ref);
    }),
    author: summaries.map((s) => s.author),
    time: summaries.map((s) => s.time),
    message: summaries.map((s) => s.message),
    meta: summaries.map((s) => s.meta),
    params: summaries.map((s) => s.params),
    metrics: summaries.map((s) => s.metrics),
    base: summaries.map((s) => (s.base === null ? null : ref(s.base))),
    data: summaries.map((s) => s.data),
    files: summaries.map((s) => s.files),
    size: summaries.map((s) => s.size),
    annotations: summaries.map((s) => s.annotations),
  } satisfies Body;
  const texts = [body.ids, ...COLUMNS.map((k) => body[k])].map((v) => Buffer.from(JSON.stringify(v)));
  const text = Buffer.concat(texts);
  const header: Header = {
    columns: FORMAT,
    bytes: cover.bytes,
    last: cover.last,
    n: summaries.length,
    body: text.length,
    lengths: texts.map((t) => t.length),
  };
  try {
    writeFileAtomic(join(repo.dir, NAME), Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), text]), {
      tmpDir: repo.tmpDir,
      faults: false,
    });
  } catch {
    // derived data: written again by the next reader of every summary
  }
}

/** Removes the columns file (before the summary file is written whole: columns of the old one would not match). */
export function removeColumns(repo: Repository): void {
  try {
    unlinkSync(join(repo.dir, NAME));
  } catch {
    // none
  }
}
