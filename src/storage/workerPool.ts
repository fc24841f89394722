import { Worker, parentPort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { faultWorkerData } from './faults.js';
import { envWorkers } from '../settings.js';

/** What every task result may carry: a failure as data. */
export interface PoolResult {
  error?: { code: string; message: string; id?: string; errno?: string; hint?: string; path?: string };
}

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * The number of threads a pool uses unless told otherwise (MVM_WORKERS
 * overrides): one more than cores for work that writes, so a core never
 * idles while a worker waits on a write (measured ~5% faster commits), one
 * per core (`writes` false) for work that only reads and computes, where an
 * extra thread only adds its start-up.
 */
export function defaultThreads(writes = true): number {
  const env = envWorkers();
  if (env !== undefined) return env;
  return Math.max(1, Math.min(availableParallelism() + (writes ? 1 : 0), 8));
}

/**
 * WorkerPool runs tasks on worker threads started from `script`, or inline
 * through `runInline` when the pool has no threads (MVM_WORKERS=0, or when
 * running from TypeScript sources under the test runner). Workers start as
 * the work needs them: one more whenever a task finds them all busy.
 */
export class WorkerPool<T extends object, R extends PoolResult> {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: unknown) => void }>();
  private seq = 0;
  private readonly wanted: number;
  /** How many tasks callers should keep in flight: enough to keep every thread busy. */
  readonly capacity: number;

  constructor(
    private readonly script: URL,
    private readonly runInline: (task: T) => R,
    private readonly toError: (err: NonNullable<R['error']>) => Error,
    threads = defaultThreads(),
  ) {
    this.wanted = threads <= 0 || import.meta.url.endsWith('.ts') ? 0 : threads;
    this.capacity = Math.max(2, this.wanted * 3);
  }

  /** Number of worker threads (0 when inline). */
  get threads(): number {
    return this.wanted;
  }

  /** Starts the threads now rather than on first use, so their start-up overlaps the caller's own work. */
  warm(): this {
    if (this.wanted > 0) this.start();
    return this;
  }

  private start(): void {
    for (let i = this.slots.length; i < this.wanted; i++) this.startOne();
  }

  /** Starts one more thread. */
  private startOne(): void {
    const worker = new Worker(this.script, { workerData: faultWorkerData() });
    worker.on('message', (m: { seq: number; result: R }) => {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      p?.resolve(m.result);
    });
    worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    this.slots.push({ worker, busy: 0 });
  }

  /**
   * Runs a task; rejects with the task's error turned into an Error. Buffers
   * in `transfer` move to the worker instead of being copied (the caller must
   * not use them afterwards).
   */
  async submit(task: T, transfer: ArrayBuffer[] = []): Promise<R> {
    const result = await this.dispatch(task, transfer);
    if (result.error) throw this.toError(result.error as NonNullable<R['error']>);
    return result;
  }

  private dispatch(task: T, transfer: ArrayBuffer[]): Promise<R> {
    if (this.wanted === 0) return Promise.resolve(this.runInline(task));
    // threads start as the work needs them: a task finding every thread busy starts one more (a small commit of
    // one chunk starts one thread, not one per core; a thread's start-up costs about 50 ms of CPU)
    if (this.slots.length < this.wanted && !this.slots.some((s) => s.busy === 0)) this.startOne();
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const seq = ++this.seq;
    slot.busy++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(seq, {
        resolve: (r) => {
          slot.busy--;
          resolve(r);
        },
        reject: (e) => {
          slot.busy--;
          reject(e);
        },
      });
      slot.worker.postMessage({ seq, task }, transfer);
    });
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}

/** Worker-thread side: answers each posted task with `run(task)`. */
export function serveTasks<T extends object, R extends PoolResult>(run: (task: T) => R): void {
  parentPort?.on('message', (msg: { seq: number; task: T }) => {
    parentPort!.postMessage({ seq: msg.seq, result: run(msg.task) });
  });
}
