import type { Repository } from '../repository/index.js';

/** A line of the append-only log `logs/gc`: the numbered versions one gc removed. */
export interface GcLogEntry {
  time: string;
  versions: string[];
}

/** Every version gc has removed, with when (so fsck and revisions can tell removed from lost). */
export function removedVersions(repo: Repository): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of repo.refs.readLog<GcLogEntry>('gc')) {
    if (!e || typeof e.time !== 'string' || !Array.isArray(e.versions)) continue;
    for (const id of e.versions) if (typeof id === 'string') out.set(id, e.time);
  }
  return out;
}
