/**
 * How the edge's Node process is started in a store (deploy/esl-edge.service), in one place so that benchmarks which
 * fork an edge (bench/full-store, bench/edge-resources) measure the same process (D42, D63).
 *
 * - `--max-semi-space-size=4`: the main thread's young generation grows to 16 MB semi-spaces by default (tens of MB
 *   of RSS that stay reserved after start-up and bursts); 4 MB saved 24–26 MB of idle RSS with no measurable CPU cost.
 *   V8 sizes the young generation at start-up, so this one must be given on the command line.
 * - `--heap-growing-percent=20` (D63): after each full GC, V8 lets the old generation grow to a multiple of what
 *   survived before it collects again. On a machine with gigabytes of RAM that factor goes up to 4, so a main heap
 *   with ~65 MB live reached 138 MB (10,000 labels) and 285 MB (50,000 labels) of mostly garbage during a fill, and
 *   the RSS followed. 1.2 keeps the heap within 20 % of its live data for the same CPU (bench/edge-resources,
 *   bench/results/edge-resources-2026-11-30-d63.jsonl). It applies to every isolate of the process, the render
 *   workers included, and V8 reads it at each GC, so `applyEdgeHeapPolicy` can also set it at start.
 * - `--no-parallel-scavenge` (D143): the main thread empties its 4-MB young generation alone instead of with V8's
 *   helper threads. On a 2-core gateway those helpers wait for a core the edge's own work (or the machine's) holds,
 *   and the pause lasts until the slowest one is done: scavenges took 23–37 % less wall time alone (reference
 *   repricing 20.2 → 13.9 / 12.7 s; bench/intake 419–448 → 319–328 ms), the repricing's edge CPU 205 → 174 / 167 s.
 * - `MALLOC_ARENA_MAX=2`: glibc gives every thread that mallocs (the libuv pool that runs sqlite and zlib, libvips'
 *   threads, the render worker) an arena of its own, and freed memory stays in them; two arenas cut 35 MB of RSS
 *   after a 2,000-label repricing. glibc reads it once, before the process starts.
 */
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth between full GCs, percent of the live heap (D63). */
export const EDGE_HEAP_GROWING_PERCENT = 20;
export const EDGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', `--heap-growing-percent=${EDGE_HEAP_GROWING_PERCENT}`, '--no-parallel-scavenge'];
export const EDGE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * Sets the heap growth of D63 in a running process (`esl-edge start` run by hand, without the unit's flags). V8
 * reads the flag whenever it computes the next GC limit, so it takes effect from the next full GC on; a value
 * given on the command line wins. Returns whether it set the flag.
 */
export function applyEdgeHeapPolicy(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return false;
  setFlagsFromString(`--heap-growing-percent=${EDGE_HEAP_GROWING_PERCENT}`);
  return true;
}
