import type { Repository } from '../repo/repository.js';
import type { Progress } from '../repo/session.js';
import { compareWithVersion, identifyWorkspace, type StatusEntry } from '../repo/workspace.js';
import { numberOf } from '../repo/revisions.js';
import { checkDataDeps, type DataDrift } from '../repo/dataDeps.js';

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

/** Which tracked files differ from HEAD: modified, added, deleted, or only their mode. */
export async function status(repo: Repository, opts: StatusOptions = {}): Promise<StatusResult> {
  const head = repo.headId();
  const version = head ? repo.version(head) : null;
  const { files } = await identifyWorkspace(repo, { store: false, record: true, progress: opts.progress, label: 'status' });
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
