import { defaultThreads, WorkerPool } from '../../../storage/workerPool.js';
import { chunkError } from '../../../storage/chunkPool.js';
import { combineStats, supportsStats, type DiffPartial, type TensorDiffStats } from '../../../core/tensorStats.js';
import type { FileObject, TensorEntry } from '../../../core/objects.js';
import type { FileDiff } from '../../../core/diff.js';
import { type Repository, type Progress, bounded } from '../../repository/index.js';
import { runStatsTask, type StatsTask, type StatsResult } from './statsTasks.js';

/** Why a changed tensor has no statistics. */
export type StatsSkip = 'dtype' | 'layout';

/** Statistics for a changed tensor, or why there are none. */
export type TensorStatsEntry = { name: string; stats: TensorDiffStats } | { name: string; skipped: StatsSkip };

/** The threads of diff --stats: one per core, since the work only reads and computes. */
export type StatsPool = WorkerPool<StatsTask, StatsResult>;

/** A pool for tensorStats; `warm()` it to start its threads while other work runs. */
export function statsPool(): StatsPool {
  return new WorkerPool<StatsTask, StatsResult>(
    new URL('./statsWorker.js', import.meta.url),
    runStatsTask,
    chunkError,
    defaultThreads(false),
  );
}

/**
 * Streams the chunks of every tensor whose values changed (same dtype and
 * shape) in both versions, on worker threads, and returns per-tensor
 * difference statistics. Memory stays bounded: at most a few chunks per
 * thread are decoded at once, whatever the model size. Runs on `pool`,
 * which the caller starts (statsPool) and closes. A file `workspaceFile`
 * names is read on the new side from that workspace file, chunk by chunk at
 * its offsets (each chunk checked against its hash), not from the store.
 */
export async function tensorStats(
  repo: Repository,
  files: FileDiff[],
  lookupOld: (path: string) => FileObject | null,
  lookupNew: (path: string) => FileObject | null,
  pool: StatsPool,
  progress?: Progress,
  workspaceFile: (path: string) => string | null = () => null,
): Promise<{ stats: Map<string, TensorStatsEntry[]>; bytes: number }> {
  const out = new Map<string, TensorStatsEntry[]>();
  let bytes = 0;
  // a pair: old chunk, new chunk, their size, and where the new one starts in its file
  type Job = {
    path: string;
    name: string;
    dtype: string;
    file: string | null;
    pairs: [string, string, number, number][];
  };
  const jobs: Job[] = [];
  const skipped: { path: string; name: string; why: StatsSkip }[] = [];
  for (const f of files) {
    if (!f.tensors) continue;
    const a = lookupOld(f.path);
    const b = lookupNew(f.path);
    if (!a?.layout || !b?.layout) continue;
    const file = workspaceFile(f.path);
    const offsets: number[] = [];
    if (file) {
      let at = 0;
      for (const ch of b.chunks) {
        offsets.push(at);
        at += ch.size;
      }
    }
    const ta = new Map<string, TensorEntry>(a.layout.tensors.map((t) => [t.name, t]));
    const tb = new Map<string, TensorEntry>(b.layout.tensors.map((t) => [t.name, t]));
    for (const c of f.tensors.changes) {
      if (c.status !== 'values') continue;
      const x = ta.get(c.name)!;
      const y = tb.get(c.name)!;
      if (!supportsStats(y.dtype)) {
        skipped.push({ path: f.path, name: c.name, why: 'dtype' });
        continue;
      }
      const ca = a.chunks.slice(x.chunkStart, x.chunkEnd);
      const cb = b.chunks.slice(y.chunkStart, y.chunkEnd);
      if (ca.length !== cb.length || ca.some((ch, i) => ch.size !== cb[i]!.size)) {
        skipped.push({ path: f.path, name: c.name, why: 'layout' });
        continue;
      }
      const pairs = ca.map((ch, i): [string, string, number, number] => [
        ch.id,
        cb[i]!.id,
        ch.size,
        offsets[y.chunkStart + i] ?? 0,
      ]);
      jobs.push({ path: f.path, name: c.name, dtype: y.dtype, file, pairs });
    }
  }
  // a partial store fetches the chunks of both sides first, each decoded within the size its file object declares
  await repo.chunks.ensure(
    jobs.flatMap((j) => j.pairs.flatMap(([a, b, size]) => [{ id: a, size }, ...(j.file ? [] : [{ id: b, size }])])),
    progress,
  );
  const total = jobs.reduce((s, j) => s + j.pairs.length, 0);
  progress?.start?.('diff --stats', total);
  const parts = jobs.map(() => [] as DiffPartial[]);
  const tasks = jobs.flatMap((j, ji) =>
    j.pairs.map(([a, b, size, offset]) => ({
      ji,
      task: {
        a,
        b,
        size,
        dtype: j.dtype,
        store: repo.objects.workerHandle(),
        ...(j.file ? { file: { path: j.file, offset } } : {}),
      },
    })),
  );
  await bounded(tasks.length, pool.capacity, async (i) => {
    const { ji, task } = tasks[i]!;
    const r = await pool.submit(task);
    parts[ji]!.push(r.partial!);
    bytes += r.bytes;
    progress?.advance?.(1);
  });
  progress?.done?.();
  jobs.forEach((j, ji) => {
    const list = out.get(j.path) ?? [];
    list.push({ name: j.name, stats: combineStats(parts[ji]!) });
    out.set(j.path, list);
  });
  for (const s of skipped) out.set(s.path, [...(out.get(s.path) ?? []), { name: s.name, skipped: s.why }]);
  return { stats: out, bytes };
}
