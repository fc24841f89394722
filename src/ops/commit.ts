import { readFileSync } from 'node:fs';
import { MvmError, fromSystemError } from '../errors.js';
import type { DataDep, FileEntry, GitInfo, Scalar, Version } from '../core/objects.js';
import { OBJECT_FORMAT } from '../core/objects.js';
import { assertSafeVersion } from '../core/versionCheck.js';
import { checkMetrics, flattenMetrics, mergeInto, parsePairs } from '../core/values.js';
import { isScalar, nameMap, toNameMap } from '../core/schema.js';
import {
  type Repository,
  withLock,
  type Progress,
  defaultAuthorAsync,
  gitInfo,
  gitInfoAsync,
} from '../repo/repository/index.js';
import {
  compareWithVersion,
  identifyWorkspace,
  isCovered,
  recordStats,
  visibleFiles,
  type StatusEntry,
  resolveDataDeps,
} from '../repo/workspace/index.js';
import { numberOf, refreshSummaries, resolveRevision, writeLock } from '../repo/history/index.js';
import { recordSignature, signByDefault, signVersion, signingKey } from '../repo/signing/index.js';

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
  /** Sign the version with an SSH key (default: signing.sign in the user config; a signKey alone also signs). */
  sign?: boolean;
  /** The SSH key to sign with (default: signing.key in the user config, else git's user.signingkey). */
  signKey?: string;
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
  /** The signature object's id, when the version was signed. */
  signature?: string;
}

function pairs(v: string[] | Record<string, Scalar> | undefined, flag: string, metric = false): Record<string, Scalar> {
  if (!v) return nameMap();
  if (Array.isArray(v)) return toNameMap(parsePairs(v, flag, metric));
  if (metric) return toNameMap(checkMetrics(v, `--${flag}`));
  // the library API: a value a manifest cannot hold is refused here, not written for every reader to refuse
  for (const [k, x] of Object.entries(v))
    if (!isScalar(x))
      throw new MvmError(
        'BAD_VALUE',
        `--${flag} ${k}: ${JSON.stringify(x) ?? String(x)} is not a number, string or boolean`,
        { flag, key: k },
      );
  return toNameMap(v);
}

/** Reads and validates everything the user passed before any write happens. */
async function prepare(repo: Repository, opts: CommitOptions) {
  if (!opts.message?.trim())
    throw new MvmError('BAD_ARGUMENT', 'a commit needs a message', { hint: 'use -m "what changed"' });
  if (!opts.allowEmpty && repo.tracked().length === 0 && !repo.headId()) {
    throw new MvmError('NOTHING_TRACKED', 'nothing is tracked, so there is nothing to commit', {
      hint: 'track model files first: mvm add models/',
    });
  }
  const meta = pairs(opts.meta, 'meta');
  const params = pairs(opts.params, 'param');
  const metrics = nameMap<Scalar>();
  for (const f of opts.metricsFiles ?? []) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      if (e instanceof SyntaxError)
        throw new MvmError('BAD_VALUE', `--metrics-file ${f} is not valid JSON`, { path: f });
      throw fromSystemError(e, f, 'reading');
    }
    mergeInto(metrics, flattenMetrics(parsed, f));
  }
  mergeInto(metrics, pairs(opts.metrics, 'metric', true));
  let time = new Date().toISOString();
  if (opts.time) {
    const t = new Date(opts.time);
    if (Number.isNaN(t.getTime()))
      throw new MvmError('BAD_VALUE', `--date '${opts.time}' is not a date`, { value: opts.time });
    time = t.toISOString();
  }
  const base = opts.base ? resolveRevision(repo, opts.base) : undefined;
  const data: DataDep[] = opts.data?.length ? await resolveDataDeps(repo, opts.data) : [];
  // asked of git while the workspace is read; awaited when the version is written (the promise never rejects)
  const author = defaultAuthorAsync(repo.root, opts.author);
  return { meta, params, metrics, time, base, data, author };
}

/** `a`, `a and b`, `a, b and c`. */
const words = (w: string[]) => (w.length < 2 ? w.join('') : `${w.slice(0, -1).join(', ')} and ${w.at(-1)}`);

/** A word the shell reads as itself, else single-quoted. */
const shellWord = (w: string) => (/^[\w.,:=+@%/-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * Refuses a commit that makes no version but was given what a version records (metrics, params, meta, a base,
 * data) that the current version does not already hold: dropping them silently loses them. Metrics alone can
 * go on the current version as an annotation instead.
 */
function assertNothingDropped(input: Awaited<ReturnType<typeof prepare>>, parent: Version, head: string): void {
  // what the current version already records the same way is not lost (a script run twice)
  const differs = (given: Record<string, Scalar>, has: Record<string, Scalar>) =>
    Object.entries(given).some(([k, v]) => !Object.hasOwn(has, k) || has[k] !== v);
  const dataIds = (d: DataDep[] | undefined) => (d ?? []).map((x) => x.id).join(' ');
  const given = [
    ...(differs(input.metrics, parent.metrics) ? ['metrics'] : []),
    ...(differs(input.params, parent.params) ? ['params'] : []),
    ...(differs(input.meta, parent.meta) ? ['meta'] : []),
    ...(input.base && input.base !== parent.deps.base ? ['base'] : []),
    ...(input.data.length && dataIds(input.data) !== dataIds(parent.deps.data) ? ['data'] : []),
  ];
  if (!given.length) return;
  const annotate = `mvm annotate HEAD ${Object.entries(input.metrics)
    .map(([k, v]) => `--metric ${shellWord(`${k}=${String(v)}`)}`)
    .join(' ')}`;
  const metricsOnly = given.length === 1 && given[0] === 'metrics';
  throw new MvmError(
    'NOTHING_TO_COMMIT',
    `nothing to commit, the workspace matches ${head}: the ${words(given)} given would be dropped`,
    {
      head,
      dropped: given,
      ...(metricsOnly ? { command: annotate } : {}),
      hint: metricsOnly
        ? `to record the metrics on ${head}: ${annotate}; or 'mvm commit --allow-empty' makes a new version`
        : `'mvm commit --allow-empty' makes a new version with them${
            given.includes('metrics') ? `, or record only the metrics on ${head}: ${annotate}` : ''
          }`,
    },
  );
}

/**
 * Runs one step of a commit that leaves something behind if it fails: the
 * error keeps its code and cause, and says what was left and what to do.
 */
function leftBehind<T>(step: () => T, what: string, hint: string, data: Record<string, unknown>): T {
  try {
    return step();
  } catch (e) {
    const cause = e instanceof MvmError ? e : fromSystemError(e, 'the repository', 'writing');
    throw new MvmError(cause.code, `${what}: ${cause.message}`, { ...cause.data, ...data, hint });
  }
}

/**
 * Records the tracked files as a new version: chunks and stores what the
 * stat cache cannot vouch for, writes file objects and the manifest, gives it
 * the next number, and moves the branch (or detached HEAD) last.
 */
export async function commit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  const input = await prepare(repo, opts);
  const key = (opts.sign ?? (opts.signKey !== undefined || signByDefault())) ? signingKey(repo, opts.signKey) : null;
  return withLock(repo, 'commit', async () => {
    const head = repo.headId();
    const parent = head ? repo.version(head) : null;
    // git's state is asked while the workspace is read (`git status` reads git's own index and files), not after
    let git: Promise<GitInfo | undefined> | undefined;
    const identified = await identifyWorkspace(repo, {
      store: true,
      progress: opts.progress,
      label: 'commit',
      onRead: () => {
        git = gitInfoAsync(repo.root);
      },
    });
    const bytesRead = identified.bytesRead;
    const sparse = repo.sparse();
    const changes = compareWithVersion(identified.files, parent && { files: visibleFiles(parent.files, sparse) });
    let newChunks = 0;
    let newBytes = 0;
    let storedBytes = 0;
    // paths are names like any other: `__proto__` must be a key, not the map's prototype
    const entries = nameMap<FileEntry>();
    for (const [path, f] of identified.files) {
      entries[path] = { file: f.id, mode: f.mode, size: Number(f.stat.size) };
      if (f.chunked) {
        newChunks += f.chunked.newChunks;
        newBytes += f.chunked.newBytes;
        storedBytes += f.chunked.storedBytes;
      }
    }
    // a partial workspace: what it does not hold stays as the parent had it
    if (sparse && parent)
      for (const [path, e] of Object.entries(parent.files)) if (!isCovered(path, sparse)) entries[path] = e;
    const logicalBytes = Object.values(entries).reduce((s, e) => s + e.size, 0);
    const branch = repo.currentBranch();
    const base = {
      changes,
      files: identified.files.size,
      logicalBytes,
      bytesRead,
      newChunks,
      newBytes,
      storedBytes,
      branch,
    };
    if (head && changes.length === 0 && !opts.allowEmpty) {
      recordStats(repo, identified.updates);
      const number = numberOf(repo, head);
      if (parent) assertNothingDropped(input, parent, number ? `v${number}` : head.slice(0, 12));
      return { ...base, created: false, id: head, number };
    }
    const version: Version = {
      type: 'version',
      format: OBJECT_FORMAT,
      parents: head ? [head] : [],
      author: await input.author,
      time: input.time,
      message: opts.message.trim(),
      files: entries,
      meta: input.meta,
      params: input.params,
      metrics: input.metrics,
      deps: { ...(input.base ? { base: input.base } : {}), ...(input.data.length ? { data: input.data } : {}) },
    };
    const gitState = git ? await git : gitInfo(repo.root);
    if (gitState) version.git = gitState;
    // never make a version that checkout would refuse (the workspace scan already keeps .git and .mvm out)
    assertSafeVersion(version, 'new version', 'any');
    const id = repo.putObject(version);
    // signed before it is numbered: a key that fails leaves no version behind, as in git
    const signature = key ? recordSignature(repo, signVersion(id, key)) : undefined;
    const line = leftBehind(
      () => repo.numbers.append(id),
      `version ${id.slice(0, 12)} was stored but could not be numbered, so it is not committed`,
      "the history and HEAD are unchanged; its objects stay until 'mvm gc' removes them; " +
        'commit again once the disk is fixed',
      { id },
    );
    // a version made in a clone of a shared registry has no number until a push gets it one
    const confirmed = repo.numbers.confirmed();
    const number = confirmed === null || line <= confirmed ? line : null;
    const name = number ? `v${number}` : id.slice(0, 12);
    // the ref moves last: until here a crash leaves only unreferenced objects
    const h = repo.head();
    const where = h.kind === 'branch' ? h.ref.replace(/^refs\/heads\//, '') : 'HEAD';
    leftBehind(
      () => (h.kind === 'branch' ? repo.refs.write(h.ref, id) : repo.refs.writeHead({ kind: 'detached', id })),
      `${number ? `v${number} ` : ''}${id.slice(0, 12)} was stored and numbered, but ${where} could not be moved to it`,
      h.kind === 'branch'
        ? `${where} still names the previous version; once the disk is fixed, 'mvm branch ${where} ${name} ` +
            `--force' takes the new one (or commit again)`
        : `HEAD still names the previous version; 'mvm checkout ${name}' takes the new one once the disk is fixed`,
      { id, number },
    );
    writeLock(repo, id, version);
    recordStats(repo, identified.updates);
    // derived data, one manifest's summary appended: the commit is made whatever happens here
    await refreshSummaries(repo).catch(() => undefined);
    return { ...base, created: true, id, number, ...(signature ? { signature } : {}) };
  });
}
