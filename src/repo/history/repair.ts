import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from '../repository/index.js';
import { rebuildSummaries } from './summaryStore.js';

/** One problem as fsck reports it (the fields repair needs). */
export interface RepairableProblem {
  kind: string;
  id?: string;
  ref?: string;
}

/**
 * Repairs what can be rebuilt or set aside without losing data, under the
 * writer lock: the summary file (always rebuilt from the manifests), log
 * lines readers skip (moved to `logs/<name>.rejected`), garbled number lines
 * (burned), an unreadable `tracked.json` (rebuilt from HEAD's paths), and
 * corrupt objects (moved to `.mvm/lost/`, so a good copy can be stored again;
 * the caller then drops the stat cache, so the next commit re-reads every
 * tracked file and stores the chunks it lacks). Returns what it did.
 */
export async function repairRepository(repo: Repository, problems: RepairableProblem[]): Promise<string[]> {
  const done: string[] = [];
  for (const name of new Set(
    problems.filter((p) => p.kind === 'bad-log' && p.ref?.startsWith('logs/')).map((p) => p.ref!.slice(5)),
  )) {
    const n = repo.refs.dropBadLogLines(name);
    if (n) done.push(`moved ${n} bad line(s) of logs/${name} to logs/${name}.rejected`);
  }
  if (problems.some((p) => p.kind === 'bad-file' && p.ref === 'numbers')) {
    repo.numbers.replace(repo.numbers.readAll(), repo.tmpDir);
    done.push('rewrote the garbled lines of numbers as burned numbers');
  }
  if (problems.some((p) => p.kind === 'bad-file' && p.ref === 'registry.json')) {
    // every line kept as a number: a number once shown never names another version (a later fetch reports any
    // the registry gives to another version)
    const lines = repo.numbers.readAll().length;
    const state = repo.numbers.registryState();
    repo.numbers.setConfirmed(Math.min(state?.numbered ?? lines, lines), state?.remote ?? 'origin', repo.tmpDir);
    done.push('rewrote registry.json');
  }
  if (problems.some((p) => p.kind === 'bad-file' && p.ref === 'tracked.json')) {
    const head = repo.headId();
    const paths = head && repo.objects.has(head) ? Object.keys(repo.version(head).files) : [];
    repo.setTracked(paths);
    done.push(`rebuilt tracked.json from the ${paths.length} file(s) of HEAD`);
  }
  const lost = join(repo.dir, 'lost');
  for (const p of problems) {
    // a damaged pack goes aside whole; objects it held that a remote has come back with the fetch repair runs
    if (
      p.kind === 'bad-file' &&
      p.ref?.startsWith('objects/pack/') &&
      repo.objects.quarantinePack(join(repo.dir, p.ref), lost)
    )
      done.push(`moved damaged pack ${p.ref} to .mvm/lost/`);
    if (p.kind === 'corrupt' && p.id && repo.objects.quarantine(p.id, lost))
      done.push(`moved corrupt object ${p.id} to .mvm/lost/`);
  }
  await rebuildSummaries(repo);
  done.push('rebuilt the summary file from the manifests');
  // the LevelDB index of mvm before the summary file and the stat cache: derived data nothing reads any more
  const oldIndex = join(repo.dir, 'index');
  if (existsSync(oldIndex)) {
    rmSync(oldIndex, { recursive: true, force: true });
    done.push('removed .mvm/index, the version index of an older mvm (no longer read)');
  }
  return done;
}
