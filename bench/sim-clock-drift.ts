/**
 * How much simulated time the edge's CPU work costs on the tests' clocks (D22): the real edge (in this process, as
 * in the tests) plans a catalogue of --labels labels — CPU work: content, layout, rasterising, sqlite — on a
 * RealClock and on a PacedClock at the same speed, once on an otherwise idle machine and once beside --busy
 * busy-loop processes. On a RealClock the work costs speed × its wall time of simulated time, and more when the CPU
 * is shared; on the PacedClock it should cost (almost) none, loaded or not.
 *
 *   npm run build && node dist/bench/sim-clock-drift.js [--labels 1000] [--speed 20] [--busy 2]
 *
 * stdout: one JSON line per clock and load ({"bench":"sim-clock-drift", …}).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/core/logger.js';
import { startDaemon } from '../src/daemon.js';
import { gtin13 } from '#contracts';
import { edgeClock } from '../demo/src/edge-clock.js';
import { PacedClock } from '../simulator/src/paced-clock.js';
import { RealClock } from '../simulator/src/real-clock.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '1000'));
const SPEED = Number(arg('speed', '20'));
const BUSY = Number(arg('busy', '2'));

function catalogue(version: number): string {
  const events: unknown[] = [];
  for (let i = 0; i < LABELS; i++) {
    const gtin = gtin13(`403${String(i).padStart(9, '0')}`);
    if (version === 1) {
      events.push({ id: `prod-${i}`, source: 'hq', version: 1, type: 'product', data: { gtin, name: `Artikel Nr. ${i}`, brand: 'Hausmarke', packSize: { quantity: 250, unit: 'g' } } });
      events.push({ id: `bind-${i}`, source: 'hq', version: 1, type: 'binding', data: { labelId: `0000D41F${String(i).padStart(8, '0')}`, gtin } });
    }
    events.push({ id: `price-${i}-${version}`, source: 'hq', version, type: 'price', data: { gtin, priceCents: 199 + version } });
  }
  return JSON.stringify({ id: `cat-${version}`, source: 'hq', version, type: 'batch', data: { events } });
}

async function measure(kind: 'real' | 'paced', busy: number): Promise<void> {
  const hogs: ChildProcess[] = Array.from({ length: busy }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  const dir = mkdtempSync(join(tmpdir(), 'esl-drift-'));
  const clock = kind === 'real' ? new RealClock({ speed: SPEED }) : new PacedClock({ speed: SPEED });
  const config = parseConfig({
    store: { chain: 'bench', id: 'drift' },
    dataDir: dir,
    log: { level: 'silent' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [] },
    http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'b', token: 'bench-token-0123456789abcdef' }] },
  });
  const daemon = await startDaemon(config, { clock: edgeClock(clock), log: createLogger({ level: 'silent' }), listenHttp: false });
  try {
    await daemon.intake.ingest(catalogue(1), { channel: 'local' });
    await daemon.planner.idle();
    // The measured work: a full repricing of every label (ingest, plan, render).
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const sim0 = clock.now();
    await daemon.intake.ingest(catalogue(2), { channel: 'local' });
    await daemon.planner.idle();
    const wallS = (performance.now() - wall0) / 1000;
    const simS = (clock.now() - sim0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(
      `${JSON.stringify({ bench: 'sim-clock-drift', clock: kind, speed: SPEED, busy_loops: busy, labels: LABELS, wall_s: +wallS.toFixed(2), cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2), simulated_s: +simS.toFixed(1), simulated_per_wall: +(simS / wallS).toFixed(2) })}\n`,
    );
  } finally {
    await daemon.stop();
    if ('stop' in clock) clock.stop();
    for (const h of hogs) h.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const busy of [0, BUSY]) for (const kind of ['real', 'paced'] as const) await measure(kind, busy);
