import { lstatSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../../errors.js';
import { blake3Hex } from '../../storage/hash.js';
import { canonicalJson } from '../../core/canonical.js';
import type { DataDep, Version } from '../../core/objects.js';
import { type Repository, withPool } from '../repository/index.js';
import { chunkFile } from './chunkFile.js';
import { scanTracked } from './workspace.js';
import { nameMap } from '../../core/schema.js';

/** A dataset whose recorded id no longer matches its content on disk. */
export interface DataDrift {
  path: string;
  recorded: string;
  current: string | null;
}

/**
 * Hashes a dataset in place with the same chunked BLAKE3 as model files: a
 * file's id is its file-object id; a folder's is the hash of the sorted list of
 * its files' paths and ids. Nothing is stored.
 */
export async function hashData(repo: Repository, path: string): Promise<string> {
  const abs = isAbsolute(path) ? path : resolve(repo.root, path);
  let st;
  try {
    st = lstatSync(abs);
  } catch (e) {
    throw fromSystemError(
      e,
      abs,
      'reading',
      new MvmError('PATH_NOT_FOUND', `data path '${path}' does not exist`, {
        path,
        hint: 'give an existing file or folder, or name=ID for data tracked elsewhere',
      }),
    );
  }
  return withPool(async (pool) => {
    if (st.isFile()) return (await chunkFile(repo, pool, abs, { store: false })).id;
    const rel = repo.relPath(abs);
    const files = scanTracked(repo, [rel], 'follow');
    const listing = nameMap<string>();
    for (const [p, f] of files)
      listing[p.slice(rel.length + 1)] = (await chunkFile(repo, pool, f.abs, { store: false })).id;
    return blake3Hex(Buffer.from(canonicalJson({ type: 'tree', files: listing })));
  });
}

/** Resolves `--data` arguments: `name=ID` is recorded as given, anything else is a path hashed in place. */
export async function resolveDataDeps(repo: Repository, specs: string[]): Promise<DataDep[]> {
  const out: DataDep[] = [];
  for (const s of specs) {
    const eq = s.indexOf('=');
    if (eq > 0) {
      const name = s.slice(0, eq);
      const id = s.slice(eq + 1).trim();
      if (!id) throw new MvmError('BAD_VALUE', `--data '${s}': the id after '=' is empty`, { value: s });
      out.push({ name, id });
    } else {
      const path = repo.relPath(s);
      out.push({ path, id: await hashData(repo, path) });
    }
  }
  return out;
}

/** Re-hashes the datasets a version recorded by path and reports those whose content changed or vanished. */
export async function checkDataDeps(repo: Repository, v: Version): Promise<DataDrift[]> {
  const out: DataDrift[] = [];
  for (const d of v.deps.data ?? []) {
    if (!d.path) continue;
    let current: string | null = null;
    try {
      current = await hashData(repo, d.path);
    } catch {
      current = null;
    }
    if (current !== d.id) out.push({ path: d.path, recorded: d.id, current });
  }
  return out;
}
