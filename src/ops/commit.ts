import { readFileSync } from 'node:fs';
import { MvmError, fromSystemError } from '../errors.js';
import { OBJECT_FORMAT, type DataDep, type FileEntry, type Scalar, type Version } from '../core/objects.js';
import { flattenMetrics, parsePairs } from '../core/values.js';
import type { Repository } from './repository.js';
import { withIndex, withLock, withPool, type Progress } from './session.js';
import { compareWithVersion, identifyFiles, scanTracked, type StatusEntry } from './workspace.js';
import type { StatEntry } from './versionIndex.js';
import { resolveRevision } from './resolve.js';
import { resolveDataDeps } from './dataDeps.js';
import { defaultAuthor, gitInfo } from './gitInfo.js';

/** Options of `mvm commit`. */
export interface CommitOptions {
  message: string;
  author?: string;
  /** `key=value` strings, typed on parsing; or already-typed records from the library API. */
  meta?: string[] | Record<string, Scalar>;
  params?: string[] | Record<string, Scalar>;
  metrics?: string[] | Record<string, Scalar>;
  /** JSON files of metrics; nested keys are flattened as `eval.f1`. */
  metricsFiles?: string[];
  /** The version this one was fine-tuned from. */
  base?: string;
  /** Datasets: a path (hashed in place) or `name=ID`. */
  data?: string[];
  /** Make a version even when no tracked file changed. */
  allowEmpty?: boolean;
  /** Fixed time (ISO-8601), for reproducible histories; defaults to now. */
  time?: string;
  progress?: Progress;
}

/** What `mvm commit` did. */
export interface CommitResult {
  created: boolean;
  id: string;
  number: number | null;
  branch: string | null;
  changes: StatusEntry[];
  files: number;
  /** Bytes of tracked files in the version. */
  logicalBytes: number;
  /** Bytes read and chunked now (files the stat cache could not vouch for). */
  bytesRead: number;
  /** New chunks written, their raw and stored size. */
  newChunks: number;
  newBytes: number;
  storedBytes: number;
}

function pairs(v: string[] | Record<string, Scalar> | undefined, flag: string, numeric = false): Record<string, Scalar> {
  if (!v) return {};
  return Array.isArray(v) ? parsePairs(v, flag, numeric) : { ...v };
}

/** Reads and validates everything the user passed before any write happens. */
async function prepare(repo: Repository, opts: CommitOptions) {
  if (!opts.message?.trim()) throw new MvmError('BAD_ARGUMENT', 'a commit needs a message', { hint: 'use -m "what changed"' });
  const meta = pairs(opts.meta, 'meta');
  const params = pairs(opts.params, 'param');
  const metrics: Record<string, Scalar> = {};
  for (const f of opts.metricsFiles ?? []) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      if (e instanceof SyntaxError) throw new MvmError('BAD_VALUE', `--metrics-file ${f} is not valid JSON`, { path: f });
      throw fromSystemError(e, f, 'reading');
    }
    Object.assign(metrics, flattenMetrics(parsed, f));
  }
  Object.assign(metrics, pairs(opts.metrics, 'metric', true));
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new MvmError('BAD_VALUE', `metric ${k} is not a number`, { key: k });
  }
  let time = new Date().toISOString();
  if (opts.time) {
    const t = new Date(opts.time);
    if (Number.isNaN(t.getTime())) throw new MvmError('BAD_VALUE', `--date '${opts.time}' is not a date`, { value: opts.time });
    time = t.toISOString();
  }
  const base = opts.base ? resolveRevision(repo, opts.base) : undefined;
  const data: DataDep[] = opts.data?.length ? await resolveDataDeps(repo, opts.data) : [];
  return { meta, params, metrics, time, base, data, author: defaultAuthor(repo.root, opts.author) };
}

/**
 * Records the tracked files as a new version: chunks and stores what the
 * stat cache cannot vouch for, writes file objects and the manifest, gives it
 * the next number, and moves the branch (or detached HEAD) last.
 */
export async function commit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  const input = await prepare(repo, opts);
  return withLock(repo, 'commit', async () => {
    const head = repo.headId();
    const parent = head ? repo.version(head) : null;
    const files = scanTracked(repo);
    // read the stat cache, then let go of the index so readers can use it during the long part
    const cache = await withIndex(repo, (index) => index.statGet([...files.keys()]));
    const identified = await withPool((pool) => identifyFiles(repo, pool, files, cache, { store: true, progress: opts.progress, label: 'commit' }));
    const bytesRead = identified.bytesRead;
    const changes = compareWithVersion(identified.files, parent);
    let newChunks = 0;
    let newBytes = 0;
    let storedBytes = 0;
    const entries: Record<string, FileEntry> = {};
    for (const [path, f] of identified.files) {
      entries[path] = { file: f.id, mode: f.mode, size: Number(f.stat.size) };
      if (f.chunked) {
        newChunks += f.chunked.newChunks;
        newBytes += f.chunked.newBytes;
        storedBytes += f.chunked.storedBytes;
      }
    }
    const logicalBytes = Object.values(entries).reduce((s, e) => s + e.size, 0);
    const branch = repo.currentBranch();
    const base = { changes, files: identified.files.size, logicalBytes, bytesRead, newChunks, newBytes, storedBytes, branch };
    if (head && changes.length === 0 && !opts.allowEmpty) {
      await withIndex(repo, (index) => index.statPut(identified.updates));
      return { ...base, created: false, id: head, number: repo.numbers.readAll().indexOf(head) + 1 || null };
    }
    const version: Version = {
      type: 'version',
      format: OBJECT_FORMAT,
      parents: head ? [head] : [],
      author: input.author,
      time: input.time,
      message: opts.message.trim(),
      files: entries,
      meta: input.meta,
      params: input.params,
      metrics: input.metrics,
      deps: { ...(input.base ? { base: input.base } : {}), ...(input.data.length ? { data: input.data } : {}) },
    };
    const git = gitInfo(repo.root);
    if (git) version.git = git;
    const id = repo.putObject(version);
    const number = repo.numbers.append(id);
    // the ref moves last: until here a crash leaves only unreferenced objects
    const h = repo.head();
    if (h.kind === 'branch') repo.refs.write(h.ref, id);
    else repo.refs.writeHead({ kind: 'detached', id });
    await withIndex(repo, async (index) => {
      await index.statPut(identified.updates as Map<string, StatEntry | null>);
    });
    return { ...base, created: true, id, number };
  });
}
