import { envIndexSegment } from '../../settings.js';
import { mergeInto } from '../../core/values.js';
import { join } from 'node:path';
import { MemoryKv, type KvStore, type KvOp } from '../../storage/kv.js';
import { IndexStore } from '../../storage/indexStore.js';
import { MvmError, isMvmError } from '../../errors.js';
import type { Repository } from '../repository/index.js';
import type { AnnotationLogEntry, Scalar } from '../../core/objects.js';
import { summarize, type VersionSummary } from './summary.js';
import {
  appendSummaryFile,
  logMarks,
  MAX_APPENDS,
  sameState,
  summaryFileState,
  writeSummaryFile,
  type SummaryState,
} from './summaryFile.js';

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

const pad = (n: number) => String(n).padStart(10, '0');

/**
 * Summaries are kept in segments of this many versions (`seg:<k>` holds the
 * JSON array for numbers k*size+1 ...): a log over 10,000 versions reads
 * ten values instead of ten thousand, and a commit rewrites one segment.
 * MVM_INDEX_SEGMENT (or the `segmentSize` option) shrinks it, so tests reach
 * segment edges with a handful of versions.
 */
export const DEFAULT_SEGMENT_SIZE = 1000;

/** The layout of the index; an index in another layout (or segment size) is rebuilt. */
const INDEX_FORMAT = '2';

/** Options of VersionIndex.open. */
export interface IndexOptions {
  /** How long to wait for another process to let go of the on-disk index before building one in memory (ms). */
  waitMs?: number;
  /** Versions per summary segment. */
  segmentSize?: number;
}

function segmentSizeFrom(opts: IndexOptions): number {
  const n = opts.segmentSize ?? envIndexSegment() ?? DEFAULT_SEGMENT_SIZE;
  return Math.max(1, n);
}

/**
 * VersionIndex is the LevelDB index: numbers <-> ids, version summaries (in segments) and
 * the stat cache. It is derived data: opened, checked against the number log
 * and the annotation log, and brought up to date (or rebuilt) on every open.
 */
export class VersionIndex {
  /** `generation`: the on-disk generation's name (null in memory), which the summary file records. */
  private constructor(
    private readonly kv: KvStore,
    private readonly repo: Repository,
    readonly generation: string | null,
    readonly segmentSize: number,
  ) {}

  /** Whether the index is on disk (else built in memory for this process alone). */
  get persistent(): boolean {
    return this.generation !== null;
  }

  /**
   * Opens the on-disk index and brings it up to date. An index that is
   * missing, corrupt or in another layout is never cleared or deleted in
   * place: a new one is built beside it under the writer lock and swapped in
   * (see IndexStore). When the lock is taken, or another process holds the
   * index past `waitMs`, an in-memory index is built instead, so read
   * commands keep working during a long commit.
   */
  static async open(repo: Repository, opts: IndexOptions = {}): Promise<VersionIndex> {
    const store = new IndexStore(join(repo.dir, 'index'));
    const waitMs = opts.waitMs ?? 2000;
    const size = segmentSizeFrom(opts);
    const layout = size === DEFAULT_SEGMENT_SIZE ? INDEX_FORMAT : `${INDEX_FORMAT}/${size}`;
    const inMemory = async () => {
      const index = new VersionIndex(new MemoryKv(), repo, null, size);
      await index.sync();
      return index;
    };
    // the active generation can be swapped between reading its name and opening it: then look again
    for (let attempt = 0; attempt < 3; attempt++) {
      const opened = await store.openActive(waitMs);
      if (opened === 'missing') continue;
      if (opened === 'locked') return inMemory();
      if (opened === 'none' || opened === 'corrupt') break;
      const index = new VersionIndex(opened.kv, repo, opened.name, size);
      try {
        if ((await opened.kv.get('state:format')) === layout) {
          await index.sync();
          return index;
        }
      } catch {
        // unreadable entries: rebuilt below (a damaged repository file fails the same way there, and is thrown)
      }
      await opened.kv.close().catch(() => undefined);
      break;
    }
    return (await VersionIndex.build(repo, store, layout, size)) ?? inMemory();
  }

  /**
   * Builds a new generation of the index from the logs and makes it the
   * active one, under the writer lock (taken here when it is free, without
   * waiting). Null when another process is writing: the caller works in memory.
   */
  private static async build(
    repo: Repository,
    store: IndexStore,
    layout: string,
    size: number,
  ): Promise<VersionIndex | null> {
    const lock = repo.holdsLock ? null : await repo.tryLock('index');
    if (!repo.holdsLock && !lock) return null;
    try {
      const fresh = await store.create();
      if (!fresh) return null;
      const index = new VersionIndex(fresh.kv, repo, fresh.name, size);
      try {
        await fresh.kv.batch([{ type: 'put', key: 'state:format', value: layout }]);
        await index.sync();
      } catch (e) {
        await fresh.kv.close().catch(() => undefined);
        store.discard(fresh.name);
        throw e;
      }
      store.activate(fresh.name, repo.tmpDir);
      await store.retireOthers(fresh.name);
      return index;
    } finally {
      lock?.release();
    }
  }

  /**
   * Builds the index again from the logs, the stat cache included, into a new
   * generation (fsck --repair; the caller holds the writer lock): the next
   * commit re-reads every file.
   */
  static async rebuild(repo: Repository, opts: IndexOptions = {}): Promise<void> {
    const size = segmentSizeFrom(opts);
    const layout = size === DEFAULT_SEGMENT_SIZE ? INDEX_FORMAT : `${INDEX_FORMAT}/${size}`;
    const index = await VersionIndex.build(repo, new IndexStore(join(repo.dir, 'index')), layout, size);
    if (!index)
      throw new MvmError('LOCKED', 'the index can only be rebuilt under the writer lock', {
        hint: 'wait for the other mvm command to finish',
      });
    await index.close();
  }

  /**
   * Forgets every number and summary (the stat cache stays) and indexes the
   * number log again: for when the log was rewritten, not appended to.
   */
  async renumber(): Promise<void> {
    const ops: KvOp[] = [];
    for (const prefix of ['n:', 'id:', 'seg:'])
      for await (const [k] of this.kv.entries(prefix)) ops.push({ type: 'del', key: k });
    ops.push({ type: 'del', key: 'state:numbers' }, { type: 'del', key: 'state:annotations' });
    await this.kv.batch(ops);
    await this.sync();
  }

  /**
   * Brings the index up to date with the number log and the annotation log,
   * and then the summary file (an on-disk index only: LevelDB's lock makes
   * this process its only writer).
   */
  async sync(): Promise<void> {
    const before = logMarks(this.repo);
    const [countText, annText] = await this.kv.getMany(['state:numbers', 'state:annotations']);
    const count = countText ? Number(countText) : 0;
    const annCount = annText ? Number(annText) : 0;
    // a current summary file vouches that the logs hold what the index has indexed: no need to read them
    const file = this.persistent ? summaryFileState(this.repo) : null;
    if (file && sameState(file, { generation: this.generation, numbers: count, annotations: annCount, ...before }))
      return;
    const ids = this.repo.numbers.readAll();
    const anns = this.repo.refs.readLog<AnnotationLogEntry>('annotations');
    const after = logMarks(this.repo);
    const annStart = annCount > anns.length ? 0 : annCount;
    const added: VersionSummary[] = [];
    const annotated: { n: number; metrics: Record<string, Scalar> }[] = [];
    if (count !== ids.length || annCount !== anns.length)
      await this.apply(ids, anns, count, annStart, added, annotated);
    // the logs moved while they were read: the next reader writes the summary file
    if (
      !this.persistent ||
      before.numbersFile.size !== after.numbersFile.size ||
      before.annotationsFile.size !== after.annotationsFile.size
    )
      return;
    try {
      await this.writeSummaries(
        file,
        { generation: this.generation, numbers: ids.length, annotations: anns.length, ...after },
        { numbers: count, annotations: annStart },
        added,
        annotated,
      );
    } catch {
      // derived data: a summary file that cannot be written (read-only storage) is rebuilt next time
    }
  }

  /** Indexes numbers from `count` and annotations from `annStart`, noting what changed for the summary file. */
  private async apply(
    ids: (string | null)[],
    anns: AnnotationLogEntry[],
    count: number,
    annStart: number,
    added: VersionSummary[],
    annotated: { n: number; metrics: Record<string, Scalar> }[],
  ): Promise<void> {
    const ops: KvOp[] = [];
    const segments = new Map<number, (VersionSummary | null)[]>();
    const segment = async (k: number) => {
      let seg = segments.get(k);
      if (!seg) {
        const text = await this.kv.get(`seg:${pad(k)}`);
        seg = text ? (JSON.parse(text) as (VersionSummary | null)[]) : [];
        segments.set(k, seg);
      }
      return seg;
    };
    for (let i = count; i < ids.length; i++) {
      const id = ids[i];
      const seg = await segment(Math.floor(i / this.segmentSize));
      // a version whose manifest cannot be read (fsck reports it) is left out, not fatal to the index
      let summary: VersionSummary | null = null;
      try {
        summary = id ? summarize(id, i + 1, this.repo.version(id)) : null;
      } catch (e) {
        if (!isMvmError(e, 'OBJECT_MISSING') && !isMvmError(e, 'OBJECT_CORRUPT')) throw e;
      }
      seg[i % this.segmentSize] = summary;
      if (summary) added.push(structuredClone(summary));
      if (id)
        ops.push(
          { type: 'put', key: `n:${pad(i + 1)}`, value: id },
          { type: 'put', key: `id:${id}`, value: String(i + 1) },
        );
    }
    const numberOf = new Map<string, number>();
    ids.forEach((id, i) => {
      if (id) numberOf.set(id, i + 1);
    });
    for (let i = annStart; i < anns.length; i++) {
      const e = anns[i]!;
      const n = numberOf.get(e.target);
      if (!n) continue;
      const s = (await segment(Math.floor((n - 1) / this.segmentSize)))[(n - 1) % this.segmentSize];
      if (!s) continue;
      // a missing or damaged annotation object (fsck reports it) leaves the summary as recorded
      let metrics;
      try {
        metrics = this.repo.annotation(e.annotation).metrics;
      } catch (err) {
        if (!isMvmError(err, 'OBJECT_MISSING') && !isMvmError(err, 'OBJECT_CORRUPT')) throw err;
        continue;
      }
      mergeInto(s.metrics, metrics);
      s.annotations++;
      annotated.push({ n, metrics });
    }
    for (const [k, seg] of segments) ops.push({ type: 'put', key: `seg:${pad(k)}`, value: JSON.stringify(seg) });
    ops.push(
      { type: 'put', key: 'state:numbers', value: String(ids.length) },
      { type: 'put', key: 'state:annotations', value: String(anns.length) },
    );
    await this.kv.batch(ops);
  }

  /**
   * Brings the summary file from `file` (its state when this sync began:
   * nobody else writes it while this process holds the index) to `state`:
   * appends what this sync added when the file ends where the index stood
   * before it (`from`), leaves a file that is already current, and otherwise
   * (or every MAX_APPENDS appends, so old state lines do not pile up) writes
   * it afresh from the index.
   */
  private async writeSummaries(
    file: SummaryState | null,
    state: SummaryState,
    from: { numbers: number; annotations: number },
    added: VersionSummary[],
    annotated: { n: number; metrics: Record<string, Scalar> }[],
  ): Promise<void> {
    if (file && sameState(file, state)) return;
    // appending is right only when the file ends where this sync began and both logs were only appended to
    const appendable =
      file &&
      file.generation === state.generation &&
      file.numbers === from.numbers &&
      file.annotations === from.annotations &&
      file.numbersFile.ino === state.numbersFile.ino &&
      file.annotationsFile.ino === state.annotationsFile.ino;
    const appends = (file?.appends ?? 0) + 1;
    if (appendable && appends < MAX_APPENDS) appendSummaryFile(this.repo, added, annotated, { ...state, appends });
    else writeSummaryFile(this.repo, await this.summaries(), state);
  }

  /** The summary of one version, or undefined when it has no number here. */
  async summary(id: string): Promise<VersionSummary | undefined> {
    const n = await this.numberOf(id);
    if (!n) return undefined;
    const text = await this.kv.get(`seg:${pad(Math.floor((n - 1) / this.segmentSize))}`);
    return text
      ? ((JSON.parse(text) as (VersionSummary | null)[])[(n - 1) % this.segmentSize] ?? undefined)
      : undefined;
  }

  /** Every version summary in number order. */
  async summaries(): Promise<VersionSummary[]> {
    const out: VersionSummary[] = [];
    for await (const [, v] of this.kv.entries('seg:')) {
      for (const s of JSON.parse(v) as (VersionSummary | null)[]) if (s) out.push(s);
    }
    return out;
  }

  /** The number of a version id, or undefined. */
  async numberOf(id: string): Promise<number | undefined> {
    const n = await this.kv.get(`id:${id}`);
    return n ? Number(n) : undefined;
  }

  /** Ids whose hex starts with `prefix` (for abbreviated hashes). */
  async idsWithPrefix(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const [k] of this.kv.entries(`id:${prefix}`)) out.push(k.slice(3));
    return out;
  }

  /** Stat-cache entries for the given paths. */
  async statGet(paths: string[]): Promise<Map<string, StatEntry>> {
    const vals = await this.kv.getMany(paths.map((p) => `stat:${p}`));
    const out = new Map<string, StatEntry>();
    vals.forEach((v, i) => {
      if (v) out.set(paths[i]!, JSON.parse(v) as StatEntry);
    });
    return out;
  }

  /** Writes (or with null, drops) stat-cache entries. */
  async statPut(entries: Map<string, StatEntry | null>): Promise<void> {
    const ops: KvOp[] = [];
    for (const [p, e] of entries)
      ops.push(e ? { type: 'put', key: `stat:${p}`, value: JSON.stringify(e) } : { type: 'del', key: `stat:${p}` });
    if (ops.length) await this.kv.batch(ops);
  }

  /** Releases the LevelDB lock. */
  async close(): Promise<void> {
    await this.kv.close();
  }
}

/** Runs `fn` with the index open, and closes it straight after so other processes can open it. */
export async function withIndex<T>(repo: Repository, fn: (index: VersionIndex) => Promise<T>): Promise<T> {
  const index = await VersionIndex.open(repo);
  try {
    return await fn(index);
  } finally {
    await index.close();
  }
}
