/**
 * A thread's scheduling priority, lowered for work that only needs throughput (docs/decisions.md D150).
 *
 * On Linux the nice value belongs to a thread, not to the process (setpriority(2), "BUGS": PRIO_PROCESS with a
 * thread id changes that thread alone), and a thread starts with the nice value of the thread that created it. The
 * edge's render workers lay out, rasterise and encode deltas: work measured by how many labels an update plans, not
 * by when one of them finishes. The main thread answers AP frames, acknowledgements and HTTP, where a wait for a core
 * is delay. On a 2-core gateway both want a core at once, so the workers yield it: `nice` steps below the thread that
 * started them. Lowering one's own priority needs no privilege; a failure (another OS, a seccomp profile) leaves the
 * thread as it was and is reported, never thrown: the edge works the same, only its event loop waits longer.
 * Opt-in (`rendering.workerNice`, default 0): a thread so far below its neighbours also starves when other busy
 * processes share the gateway (bench/render-priority: rendering at 9 % of its pace beside two busy loops at nice 10).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Linux's lowest priority (highest nice value). */
export const NICE_MAX = 19;

export type ThreadPriority =
  | { ok: true; /** The OS thread id (Linux TID). */ tid: number; /** Nice value before and after. */ from: number; nice: number }
  | { ok: false; reason: string };

/** The calling thread's OS id: /proc/thread-self links to `<pid>/task/<tid>` (Linux ≥ 3.17); undefined elsewhere. */
export function osThreadId(): number | undefined {
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Lowers the calling thread's priority by `steps` nice values (capped at NICE_MAX); 0 changes nothing. */
export function lowerThreadPriority(steps: number): ThreadPriority {
  if (!Number.isInteger(steps) || steps < 0) return { ok: false, reason: `steps must be an integer ≥ 0, got ${steps}` };
  const tid = osThreadId();
  if (tid === undefined) return { ok: false, reason: 'no per-thread priority here (/proc/thread-self is missing)' };
  try {
    const from = getPriority(tid);
    if (steps > 0) setPriority(tid, Math.min(NICE_MAX, from + steps));
    return { ok: true, tid, from, nice: getPriority(tid) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
