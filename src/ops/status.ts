import type { Repository, Progress } from '../repo/repository/index.js';
import {
  compareWithVersion,
  identifyWorkspace,
  visibleFiles,
  type StatusEntry,
  checkDataDeps,
  type DataDrift,
} from '../repo/workspace/index.js';
import { numberOf, readLock } from '../repo/history/index.js';

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
  /** What mvm.lock names, when there is one, and whether HEAD and the workspace agree with it. */
  lock: { version: string; number: number | null; matchesHead: boolean; matchesWorkspace: boolean } | null;
}

/** Which tracked files differ from HEAD: modified, added, deleted, or only their mode. */
export async function status(repo: Repository, opts: StatusOptions = {}): Promise<StatusResult> {
  const head = repo.headId();
  const version = head ? repo.version(head) : null;
  const { files } = await identifyWorkspace(repo, {
    store: false,
    record: true,
    progress: opts.progress,
    label: 'status',
  });
  const sparse = repo.sparse();
  const changes = compareWithVersion(files, version && { files: visibleFiles(version.files, sparse) });
  const dataDrift = version ? await checkDataDeps(repo, version) : [];
  const locked = readLock(repo.root);
  const lock = locked && {
    version: locked.version,
    number: numberOf(repo, locked.version),
    matchesHead: locked.version === head,
    matchesWorkspace: compareWithVersion(files, { files: visibleFiles(locked.files, sparse) }).length === 0,
  };
  return {
    branch: repo.currentBranch(),
    head,
    headNumber: head ? numberOf(repo, head) : null,
    tracked: repo.tracked(),
    changes,
    clean: changes.length === 0,
    dataDrift,
    lock,
  };
}
