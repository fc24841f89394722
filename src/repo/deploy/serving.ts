import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { MvmError, fromSystemError } from '../../errors.js';
import { assertSafeVersion } from '../../core/versionCheck.js';
import { fsyncDir } from '../../storage/atomic.js';
import { assembleFile } from '../workspace/index.js';
import { safeDestination } from './safeDest.js';
import { servedFiles, tritonConfig } from './servingFiles.js';
import { ensureVersionFiles, withPool, type Repository } from '../repository/index.js';
import { SERVING_NAME, type ExportTarget } from './envConfig.js';
import { alive } from '../../storage/lock.js';

/** The file mvm writes into every exported version folder: which version it holds. */
export const EXPORT_MARKER = '.mvm-export.json';

/** What an export did. */
export interface ExportResult {
  /** The numbered version folder. */
  path: string;
  id: string;
  number: number;
  files: number;
  bytes: number;
  /** False when the folder already held this version. */
  written: boolean;
  /** Numbered folders removed (`keep`, or newer than the env's version). */
  removed: number[];
  /** Triton: the `config.pbtxt` written because the model folder had none. */
  config?: string | null;
}

/** Checks a model name for the serving folder: one path component. */
export function validateServingName(name: string): string {
  if (!SERVING_NAME.test(name)) {
    throw new MvmError('BAD_VALUE', `'${name}' is not a valid model name for a serving folder`, {
      name,
      hint: 'use letters, digits, ., _ and -',
    });
  }
  return name;
}

/** The prefix of the folder an export builds a version in, beside its numbered folder. */
const STAGING_PREFIX = '.mvm-tmp-';

/** This host, as a staging folder's name carries it: 8 hex digits of its name's hash. */
function hostTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/**
 * A staging folder's name: `.mvm-tmp-<number>-<host tag>-<pid>-<random>`, so anyone can tell whether its export still
 * runs.
 */
function stagingName(number: number): string {
  return `${STAGING_PREFIX}${number}-${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * A staging folder whose export cannot be asked (another host's, or named before names carried it) is stale after this
 * long.
 */
const FOREIGN_STAGING_STALE_MS = 24 * 3600_000;

/**
 * True when a staging folder is left by an export that ended without
 * finishing (killed, or the machine went down): its owner is a process of
 * this host that is gone; one owned elsewhere or not at all counts only once
 * it is a day old. A folder a live export is building is never stale, even
 * one of another repository exporting into the same serving folder.
 */
function isStaleStaging(folder: string): boolean {
  const m = /^\.mvm-tmp-\d+-([0-9a-f]{8})-(\d+)-[0-9a-f]+$/.exec(basename(folder));
  if (m && m[1] === hostTag()) return !alive(Number(m[2]));
  try {
    return Date.now() - statSync(folder).mtimeMs > FOREIGN_STAGING_STALE_MS;
  } catch {
    return false;
  }
}

/** The names in a folder; none when it cannot be read (a serving folder not made yet). */
function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The staging folders in a model's serving folder that interrupted exports left (absolute paths). */
export function staleStaging(modelDir: string): string[] {
  return namesIn(modelDir)
    .filter((n) => n.startsWith(STAGING_PREFIX))
    .map((n) => join(modelDir, n))
    .filter(isStaleStaging)
    .sort();
}

/** The serving folder of a model (`DIR/NAME`). */
export function modelFolder(target: Pick<ExportTarget, 'dir' | 'name'>): string {
  return resolve(join(target.dir, validateServingName(target.name)));
}

/** The version id a numbered folder holds, from its marker, or null when it has none (not written by mvm). */
export function markerId(folder: string): string | null {
  try {
    const v = JSON.parse(readFileSync(join(folder, EXPORT_MARKER), 'utf8')) as { id?: unknown };
    return typeof v.id === 'string' ? v.id : null;
  } catch {
    return null;
  }
}

/** The numbered version folders in a model's serving folder, ascending. */
export function numberedFolders(modelDir: string): number[] {
  return namesIn(modelDir)
    .filter((n) => /^[1-9]\d{0,15}$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Removes a folder by renaming it aside first, so a poller never sees it half deleted. */
function removeFolder(modelDir: string, n: number): void {
  const aside = join(modelDir, `.mvm-old-${n}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(join(modelDir, String(n)), aside);
  } catch (e) {
    throw fromSystemError(e, join(modelDir, String(n)), 'removing');
  }
  rmSync(aside, { recursive: true, force: true });
}

/** Removes the numbered folder an export wrote for a move that then did not happen, unless an env serves it. */
export function withdrawExport(target: ExportTarget, number: number, protect: Set<number>): void {
  const modelDir = resolve(join(target.dir, validateServingName(target.name)));
  if (!protect.has(number) && markerId(join(modelDir, String(number)))) removeFolder(modelDir, number);
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes version `id` (number `number`) into `target.dir/target.name/<number>/`.
 * The folder is built beside its destination (same filesystem), every file
 * and folder fsynced, then renamed into place: a server polling the model
 * folder sees the version complete or not at all. A folder that already
 * holds this version is left as it is; one holding anything else is
 * EXPORT_CONFLICT unless `force` (then it is renamed aside and replaced).
 * Files already in the model folder (a Triton `config.pbtxt`) are never touched.
 */
export async function exportVersion(
  repo: Repository,
  id: string,
  number: number,
  target: ExportTarget,
  opts: { force?: boolean } = {},
): Promise<ExportResult> {
  const modelDir = modelFolder(target);
  const dest = join(modelDir, String(number));
  const version = repo.version(id);
  assertSafeVersion(version, id);
  const files = servedFiles(version.files, target, id);
  const bytes = files.reduce((s, f) => s + f.entry.size, 0);
  const base: ExportResult = { path: dest, id, number, files: files.length, bytes, written: false, removed: [] };
  if (existsSync(dest)) {
    const held = markerId(dest);
    if (held === id) return base;
    if (!opts.force) {
      throw new MvmError(
        'EXPORT_CONFLICT',
        `${dest} already exists and holds ${held ? `version ${held.slice(0, 12)}` : 'files mvm did not write'}`,
        {
          path: dest,
          held,
          hint: '--force replaces it',
        },
      );
    }
  }
  try {
    mkdirSync(modelDir, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, modelDir, 'writing');
  }
  if (lstatSync(modelDir).isSymbolicLink())
    throw new MvmError('SYMLINK_IN_PATH', `${modelDir} is a symlink; mvm does not export through it`, {
      paths: [modelDir],
    });
  // what interrupted exports left here goes first (a server only loads numbered folders, so it never saw them)
  for (const stale of staleStaging(modelDir)) {
    try {
      rmSync(stale, { recursive: true, force: true });
    } catch {
      /* left for fsck to report */
    }
  }
  const staging = join(modelDir, stagingName(number));
  try {
    mkdirSync(staging);
    const dirs = new Set<string>([staging]);
    // a partial store fetches the file objects, then the chunks of every file, in one batch each first
    await ensureVersionFiles(repo, [id]);
    await repo.chunks.ensure(files.flatMap((f) => repo.file(f.entry.file).chunks));
    await withPool(async (pool) => {
      for (const { path, rel, entry } of files) {
        const out = safeDestination(staging, rel);
        for (let d = dirname(out); d.length > staging.length; d = dirname(d)) dirs.add(d);
        const tmp = await assembleFile(repo, pool, repo.file(entry.file), entry.mode, { tmpDir: staging, path });
        renameSync(tmp, out);
        fsyncFile(out);
      }
    });
    writeFileSync(join(staging, EXPORT_MARKER), JSON.stringify({ id, number, files: files.map((f) => f.rel) }) + '\n');
    fsyncFile(join(staging, EXPORT_MARKER));
    for (const d of dirs) fsyncDir(d);
    if (existsSync(dest)) removeFolder(modelDir, number);
    renameSync(staging, dest);
    fsyncDir(modelDir);
    if (target.layout === 'triton') base.config = tritonConfig(modelDir, target.name, files);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e instanceof MvmError ? e : fromSystemError(e, dest, 'writing');
  }
  return { ...base, written: true };
}

/**
 * Tidies a model's serving folder after an export: with `newerThan`, removes
 * every numbered folder above it (so a server that serves the highest number
 * serves that version: a rollback); with `keep`, keeps only the newest `keep`
 * folders at or below it. Folders whose numbers are in `protect` (what an env
 * points at) are never removed. Returns the numbers removed.
 */
export function pruneServing(target: ExportTarget, opts: { newerThan?: number; protect: Set<number> }): number[] {
  const modelDir = resolve(join(target.dir, validateServingName(target.name)));
  const removed: number[] = [];
  let numbers = numberedFolders(modelDir);
  if (opts.newerThan !== undefined) {
    for (const n of numbers) {
      if (n > opts.newerThan && !opts.protect.has(n) && markerId(join(modelDir, String(n)))) {
        removeFolder(modelDir, n);
        removed.push(n);
      }
    }
    numbers = numbers.filter((n) => !removed.includes(n));
  }
  if (target.keep) {
    const older = numbers.slice(0, Math.max(0, numbers.length - target.keep));
    for (const n of older) {
      // only folders mvm wrote; never one an env serves
      if (opts.protect.has(n) || !markerId(join(modelDir, String(n)))) continue;
      removeFolder(modelDir, n);
      removed.push(n);
    }
  }
  return removed.sort((a, b) => a - b);
}
