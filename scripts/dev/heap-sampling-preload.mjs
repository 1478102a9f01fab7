/**
 * Dev-only (D149): a sampling heap profile of the edge's main thread that keeps the objects the garbage collector has
 * already freed, so it shows where short-lived allocations come from (what the scavenges pay for), not only what
 * stays. Loaded into the edge with `--import`, driven by files in HEAP_SAMPLING_DIR: `start` begins sampling, `stop`
 * writes `main.heapprofile` (V8's SamplingHeapProfile JSON, readable by Chrome DevTools) and ends it.
 *
 *   HEAP_SAMPLING_DIR=/tmp/hs node dist/bench/full-store.js --updates fill,full-repricing \
 *     --edge-node-flags '--import=./scripts/dev/heap-sampling-preload.mjs'
 *   touch /tmp/hs/start   # e.g. when the fill is COMPLETE;  touch /tmp/hs/stop  while the edge still runs
 *   node scripts/dev/heapprofile-summary.mjs /tmp/hs/main.heapprofile
 */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import process from 'node:process';
import { setInterval } from 'node:timers';
import { isMainThread } from 'node:worker_threads';

const dir = process.env['HEAP_SAMPLING_DIR'];
// Workers inherit the --import of execArgv: only the main thread samples, or a render worker would take the start
// file and write its own profile under this name (as happened once, D164).
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  let sampling = false;
  setInterval(() => {
    void (async () => {
      if (!sampling && existsSync(join(dir, 'start'))) {
        unlinkSync(join(dir, 'start'));
        await post('HeapProfiler.enable');
        // One sample per 64 kB allocated on average; freed objects stay in the profile (Chrome's "include objects
        // discarded by major / minor GC").
        await post('HeapProfiler.startSampling', { samplingInterval: 65_536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        sampling = true;
      }
      if (sampling && existsSync(join(dir, 'stop'))) {
        unlinkSync(join(dir, 'stop'));
        const { profile } = await post('HeapProfiler.stopSampling');
        writeFileSync(join(dir, 'main.heapprofile'), JSON.stringify(profile));
        sampling = false;
      }
    })().catch((e) => writeFileSync(join(dir, 'error'), String(e?.stack ?? e)));
  }, 500).unref();
}
