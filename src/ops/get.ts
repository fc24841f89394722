import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { assertSafeVersion } from '../core/versionCheck.js';
import { ensureVersionFiles, type Repository, withPool } from '../repo/repository/index.js';
import { resolveRevision, numberOf } from '../repo/history/index.js';
import { restoreFile } from '../repo/workspace/index.js';

/** What `mvm get` wrote. */
export interface GetResult {
  id: string;
  number: number | null;
  path: string;
  output: string;
  size: number;
}

/**
 * Writes one file of a version to `output` (a file path, or an existing
 * folder to put it in under its own name; default: its name in the current
 * folder), verified chunk by chunk and renamed into place. The workspace and
 * HEAD are not touched.
 */
export async function get(repo: Repository, rev: string, path: string, output?: string): Promise<GetResult> {
  const id = resolveRevision(repo, rev);
  const version = repo.version(id);
  assertSafeVersion(version, id);
  await ensureVersionFiles(repo, [id]);
  const rel = path.replace(/^\.\//, '');
  const entry = Object.hasOwn(version.files, rel) ? version.files[rel]! : undefined;
  if (!entry) {
    const under = Object.keys(version.files).filter((p) => p.startsWith(rel.replace(/\/?$/, '/')));
    throw new MvmError(
      'PATH_NOT_FOUND',
      `version ${id.slice(0, 12)} has no file ` +
        `${rel}${under.length ? ` (it is a folder of ${under.length} file(s); name one)` : ''}`,
      { id, path: rel },
    );
  }
  let dest = resolve(output ?? basename(rel));
  // `-o dir/` names a folder, existing or not
  if (output && /[\\/]$/.test(output)) dest = join(dest, basename(rel));
  else {
    try {
      if (statSync(dest).isDirectory()) dest = join(dest, basename(rel));
    } catch {
      /* a new file */
    }
  }
  try {
    mkdirSync(dirname(dest), { recursive: true });
  } catch (e) {
    throw fromSystemError(e, dirname(dest), 'writing');
  }
  await withPool((pool) =>
    restoreFile(repo, pool, repo.file(entry.file), dest, entry.mode, { tmpDir: dirname(dest), path: rel }),
  );
  return { id, number: numberOf(repo, id), path: rel, output: dest, size: entry.size };
}
