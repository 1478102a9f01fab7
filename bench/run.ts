/**
 * `npm run bench`: runs every benchmark in its own process (so peak RSS figures are per benchmark), one after the
 * other (two cores: running them together would measure contention). Each prints JSON lines; this runner passes them
 * through and ends with one summary line per benchmark. Extra arguments go to every benchmark.
 *
 *   npm run bench                 # all
 *   npm run bench -- render       # only the named ones
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ALL = ['render', 'protocol-bytes', 'intake'];
const names = process.argv.slice(2).filter((a) => ALL.includes(a));
const selected = names.length > 0 ? names : ALL;

for (const name of selected) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(here, `${name}.js`)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const wallS = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ bench: 'run', name, exitCode: r.status, wall_s: +wallS.toFixed(1) })}\n`);
  if (r.status !== 0) process.exitCode = 1;
}
