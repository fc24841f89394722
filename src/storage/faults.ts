import { appendFileSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import { envFault, envFaultLog } from '../settings.js';

/**
 * Fault injection for crash-safety tests, off unless MVM_FAULT is set:
 *
 * - `MVM_FAULT=count` numbers every fault point a command passes (each write,
 *   fsync, rename, log append, unlink and chmod of repository or workspace
 *   files) and appends `N kind path` lines to the file MVM_FAULT_LOG;
 * - `MVM_FAULT=kill:N` kills the process (SIGKILL) at point N;
 * - `MVM_FAULT=fail:N` makes point N fail with EIO, as a failing disk would;
 * - `MVM_FAULT=full:N` makes point N and every later write and append fail
 *   with ENOSPC, as a disk that filled up would (renames, fsyncs, unlinks
 *   and chmods still work).
 *
 * Worker threads share the count with the main thread, so N names one point
 * of the whole process, in the order they happen.
 */
export type FaultKind = 'write' | 'fsync' | 'rename' | 'append' | 'unlink' | 'chmod';

type Spec = { mode: 'count' } | { mode: 'kill' | 'fail' | 'full'; at: number };

function parse(text: string | undefined): Spec | null {
  if (!text) return null;
  if (text === 'count') return { mode: 'count' };
  const m = /^(kill|fail|full):(\d+)$/.exec(text);
  return m ? { mode: m[1] as 'kill' | 'fail' | 'full', at: Number(m[2]) } : null;
}

/** MVM_FAULT as parsed, and the count shared with worker threads; null when fault injection is off. */
interface State {
  spec: Spec;
  shared: SharedArrayBuffer;
  counter: Int32Array;
}

// read on first use rather than at module load, so a process started from the start-up snapshot (built with
// this module evaluated) still sees its own MVM_FAULT
let state: State | null | undefined;
function current(): State | null {
  if (state !== undefined) return state;
  const spec = parse(envFault());
  const inherited = !isMainThread && (workerData as { faults?: SharedArrayBuffer } | null)?.faults;
  const shared = spec ? inherited || new SharedArrayBuffer(4) : null;
  state = spec && shared ? { spec, shared, counter: new Int32Array(shared) } : null;
  return state;
}

/** What worker threads need to share the count (undefined when fault injection is off). */
export function faultWorkerData(): { faults: SharedArrayBuffer } | undefined {
  const s = current();
  return s ? { faults: s.shared } : undefined;
}

/** Marks a fault point; a no-op unless MVM_FAULT is set. */
export function faultPoint(kind: FaultKind, path: string): void {
  const s = current();
  if (!s) return;
  const { spec, counter } = s;
  const n = Atomics.add(counter, 0, 1) + 1;
  if (spec.mode === 'count') {
    const log = envFaultLog();
    if (log) appendFileSync(log, `${n} ${kind} ${path}\n`);
    return;
  }
  if (spec.mode === 'full') {
    if (n >= spec.at && (kind === 'write' || kind === 'append')) throw noSpace(n, kind, path);
    return;
  }
  if (n !== spec.at) return;
  if (spec.mode === 'kill') process.kill(process.pid, 'SIGKILL');
  throw Object.assign(new Error(`EIO: i/o error (injected at fault point ${n}: ${kind} ${path})`), {
    code: 'EIO',
    errno: -5,
    syscall: kind,
    path,
  });
}

/** The error a write on a full disk raises. */
function noSpace(n: number, kind: FaultKind, path: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device (injected at fault point ${n}: ${kind} ${path})`), {
    code: 'ENOSPC',
    errno: -28,
    syscall: kind,
    path,
  });
}
