/**
 * `npm run bench`: runs every benchmark in its own process (so peak RSS figures are per benchmark), one after the
 * other (two cores: running them together would measure contention). Each prints JSON lines; this runner passes them
 * through and ends with one summary line per benchmark. Extra arguments go to every benchmark.
 *
 *   npm run bench                 # all but the opt-in ones
 *   npm run bench -- render       # only the named ones
 *   npm run bench -- plan-throughput --labels 10000   # a full repricing planned with no radio: labels/s, CPU ms per label
 *   npm run bench -- full-store   # the reference store against the real edge (opt-in: ≈ 50 min at 1×)
 *   npm run bench -- full-store --labels 600 --aps 1 --speed 20   # a quick one (≈ 1 min)
 *   npm run bench -- flood        # 100,000 malformed payloads over MQTT and HTTP (issue 10; a few minutes)
 *   npm run bench -- auth-flood   # a correct client's latency during a flood of wrong HTTP tokens (issue 10)
 *   npm run bench -- dashboard    # the store dashboard in Chromium on a 50,000-label store (opt-in: needs chromium)
 *   npm run bench -- edge-resources --labels 200000 --aps 100   # the edge's RSS and CPU at store scale (opt-in)
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ALL = ['render', 'render-scripts', 'render-pool', 'render-priority', 'plan-throughput', 'protocol-bytes', 'ctx-encode', 'frame-codec', 'event-heap', 'intake', 'dispatch-load', 'dispatch-selection', 'label-store', 'mqtt-broker'];
// full-store simulates the 50,000-label reference store against the real edge through its three standard updates:
// about 50 minutes of wall time at 1× on a 2-core machine, too long for the default list, so it runs only when named.
// edge-resources loads the reference store into a real edge without a radio (memory and CPU, D40–D42): ≈ 15 minutes.
const OPT_IN = ['full-store', 'flood', 'auth-flood', 'dashboard', 'edge-resources'];
const names = process.argv.slice(2).filter((a) => ALL.includes(a) || OPT_IN.includes(a));
const extra = process.argv.slice(2).filter((a) => !ALL.includes(a) && !OPT_IN.includes(a));
const selected = names.length > 0 ? names : ALL;

for (const name of selected) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(here, `${name}.js`), ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
  const wallS = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ bench: 'run', name, exitCode: r.status, wall_s: +wallS.toFixed(1) })}\n`);
  if (r.status !== 0) process.exitCode = 1;
}
