import type { Repository } from './repository.js';
import { withIndex, withPool, type Progress } from './session.js';
import { compareWithVersion, identifyFiles, scanTracked, type IdentifiedFile, type StatusEntry } from './workspace.js';
import { numberOf } from './resolve.js';
import { checkDataDeps, type DataDrift } from './dataDeps.js';

/** Options of `mvm status`. */
export interface StatusOptions {
  progress?: Progress;
}

/** The state of the workspace against HEAD. */
export interface StatusResult {
  branch: string | null;
  head: string | null;
  headNumber: number | null;
  tracked: string[];
  changes: StatusEntry[];
  clean: boolean;
  /** Datasets recorded by HEAD (by path) whose content no longer matches. */
  dataDrift: DataDrift[];
}

/** Finds the workspace's files and their content ids (stat cache first), refreshing the cache. */
export async function identifyWorkspace(repo: Repository, progress?: Progress): Promise<Map<string, IdentifiedFile>> {
  const files = scanTracked(repo);
  return withIndex(repo, async (index) => {
    const cache = await index.statGet([...files.keys()]);
    const res = await withPool((pool) =>
      identifyFiles(repo, pool, files, cache, { store: false, progress, label: 'status' }),
    );
    await index.statPut(res.updates);
    return res.files;
  });
}

/** Which tracked files differ from HEAD: modified, added, deleted, or only their mode. */
export async function status(repo: Repository, opts: StatusOptions = {}): Promise<StatusResult> {
  const head = repo.headId();
  const version = head ? repo.version(head) : null;
  const files = await identifyWorkspace(repo, opts.progress);
  const changes = compareWithVersion(files, version);
  const dataDrift = version ? await checkDataDeps(repo, version) : [];
  return {
    branch: repo.currentBranch(),
    head,
    headNumber: head ? numberOf(repo, head) : null,
    tracked: repo.tracked(),
    changes,
    clean: changes.length === 0,
    dataDrift,
  };
}
