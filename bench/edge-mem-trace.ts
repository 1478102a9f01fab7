/**
 * Opt-in memory trace of a benchmark's edge process (D63): with EDGE_MEM_TRACE=FILE the edge appends one JSON line
 * every EDGE_MEM_TRACE_S (default 5) seconds — the main thread's process.memoryUsage() split, V8's old space, the
 * process's anonymous and file-backed RSS (/proc/self/status), each render worker's heap, the image cache and the
 * dispatcher's counters — so a run shows where the RSS goes over time, not only its peak. Off by default: asking the
 * render workers for their heaps costs a message round trip each time.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Daemon } from '../src/daemon.js';

const MB = 1024 * 1024;
const mb = (b: number) => Math.round((b / MB) * 10) / 10;

/** RssAnon (native heap, V8 heaps, mmaps), RssFile (the binary and shared libraries), VmHWM and threads, kB. */
function procStatus(): Record<string, number> {
  try {
    const out: Record<string, number> = {};
    for (const l of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(RssAnon|RssFile|VmHWM|Threads):\s+(\d+)/.exec(l);
      if (m) out[m[1]!] = Number(m[2]);
    }
    return out;
  } catch {
    return {};
  }
}

export function startMemTrace(daemon: () => Daemon | undefined, file = process.env['EDGE_MEM_TRACE'] ?? ''): void {
  if (file === '') return;
  const t0 = performance.now();
  setInterval(
    () => {
      const m = process.memoryUsage();
      const d = daemon();
      const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
      const line = (workers: unknown) =>
        appendFileSync(
          file,
          `${JSON.stringify({
            t_s: Math.round((performance.now() - t0) / 100) / 10,
            rss: mb(m.rss),
            heapUsed: mb(m.heapUsed),
            heapTotal: mb(m.heapTotal),
            oldSpace: old ? mb(old.space_used_size) : null,
            external: mb(m.external),
            arrayBuffers: mb(m.arrayBuffers),
            proc: procStatus(),
            images: d ? { n: d.images.cachedImages, mb: mb(d.images.cachedBytes), arenaMb: mb(d.images.arenaBytes), ...d.images.stats } : null,
            workers,
            dispatch: d ? d.dispatcher.stats : null,
          })}\n`,
        );
      const pool = d?.renderer as { workerStats?: () => Promise<unknown[]> } | undefined;
      if (pool?.workerStats) pool.workerStats().then(line, () => line(null));
      else line(null);
    },
    Number(process.env['EDGE_MEM_TRACE_S'] ?? '5') * 1000,
  ).unref();
}
