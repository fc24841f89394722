import { MvmError } from '../errors.js';
import { type Repository, withLock } from '../repo/repository/index.js';
import { resolveRevision, numberOf } from '../repo/history/index.js';
import {
  servedNumbers,
  type ServingLayout,
  exportVersion,
  pruneServing,
  type ExportResult,
  modelFolder,
  numberedFolders,
} from '../repo/deploy/index.js';

/** Options of `mvm export`. */
export interface ExportOptions {
  layout: ServingLayout;
  name: string;
  keep?: number;
  /** Only the files under this path of the version, relative to it. */
  path?: string;
  force?: boolean;
  /** Leave the numbered folders above this version (a server that serves the highest number keeps serving them). */
  keepNewer?: boolean;
}

/**
 * Writes a version into a serving layout, `DIR/NAME/<version number>/`, built
 * beside its destination and renamed into place. Then removes the numbered
 * folders mvm wrote above it (unless `keepNewer`), so that a server that serves
 * the highest number serves this version, and with `keep` older ones; never
 * one an env of this repository points at (`above` lists those left above it).
 */
export async function exportServing(
  repo: Repository,
  rev: string,
  dir: string,
  opts: ExportOptions,
): Promise<ExportResult & { above: number[] }> {
  if (opts.keep !== undefined && !(Number.isSafeInteger(opts.keep) && opts.keep >= 1))
    throw new MvmError('BAD_VALUE', `--keep must be a whole number >= 1`, { keep: opts.keep });
  return withLock(repo, 'export', async () => {
    const id = resolveRevision(repo, rev);
    const number = numberOf(repo, id);
    if (!number)
      throw new MvmError(
        'UNKNOWN_REVISION',
        `version ${id.slice(0, 12)} has no number here, so it cannot name a serving folder`,
        { id, hint: "a version made here is numbered by the shared registry when pushed: 'mvm push' first" },
      );
    const target = { dir, layout: opts.layout, name: opts.name, keep: opts.keep, path: opts.path };
    const r = await exportVersion(repo, id, number, target, { force: opts.force });
    const protect = servedNumbers(repo);
    protect.add(number);
    if (opts.keep || !opts.keepNewer)
      r.removed = pruneServing(target, { protect, ...(opts.keepNewer ? {} : { newerThan: number }) });
    return { ...r, above: numberedFolders(modelFolder(target)).filter((n) => n > number) };
  });
}
