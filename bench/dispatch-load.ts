/**
 * Steady-state load of the dispatcher in a store the size of the reference store: 50,000 labels on 25 APs, every
 * label showing what it should, and the check-ins the APs forward while nothing changes — one per label per
 * check-in report interval (300 s by default: ~167/s). Every check-in goes through Dispatcher.labelCheckin (the label
 * store's check-in transition, its telemetry queued for the next write-behind batch, and a kick), against a real
 * sqlite file (D17, D18).
 *
 * Measured twice in the same run: with dispatch passes throttled (`dispatch.minPassIntervalMs`, the default 200 ms)
 * and unthrottled (0, the baseline: a pass after every kick, back to back). Reports the process CPU seconds per
 * wall second (sqlite's thread pool included), passes per second and the check-in latency p50/p99.
 *
 *   npm run bench -- dispatch-load      [--labels N --aps M --rate R --seconds S]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApCapability, StatusCode, WakeReason, type MessageOf } from '#protocol';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';
import { ConfigSchema } from '../src/config/config-schema.js';
import { ApRegistry } from '../src/domain/aps/ap-registry.js';
import { Dispatcher } from '../src/domain/dispatch/dispatcher.js';
import { LabelStore } from '../src/domain/labels/label-store.js';
import { ImageStore } from '../src/domain/labels/image-store.js';
import { Database } from '../src/persistence/database.js';

const DispatchConfigSchema = ConfigSchema.shape.dispatch.unwrap();

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const LABELS = arg('labels', 50_000);
const APS = arg('aps', 25);
/** Forwarded check-ins per second: every label once per 300 s report interval. */
const RATE = arg('rate', Math.round(LABELS / 300));
const SECONDS = arg('seconds', 15);
const HASH = '3f1c9a2b4d5e6f70';

const labelId = (i: number) => `0000D15B${i.toString(16).toUpperCase().padStart(8, '0')}`;
const apId = (i: number) => `AP-${(i % APS) + 1}`;

async function run(minPassIntervalMs: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'esl-dispatch-load-'));
  const db = await Database.open(join(dir, 'edge.db'));
  try {
    await db.transaction(async (tx) => {
      const ins = tx.prepare(
        'INSERT INTO labels (label_id, label_type, ap_id, desired_hash, desired_since, confirmed_hash, consistent_since, last_seen_at) VALUES (?, 3, ?, ?, 0, ?, 0, 0)',
      );
      for (let i = 0; i < LABELS; i++) await ins.run([labelId(i), apId(i), HASH, HASH]);
    });
    const config = DispatchConfigSchema.parse({ minPassIntervalMs });
    const aps = new ApRegistry(db);
    for (let a = 0; a < APS; a++) {
      await aps.hello(
        `AP-${a + 1}`,
        { type: 'AP_HELLO', apId: `AP-${a + 1}`, fwVersion: 'bench', protoMin: 1, protoMax: 1, capabilities: ApCapability.ZLIB | ApCapability.DELTA_XOR, channel: 11, queueCapacity: 64, maxBlockSize: 99 },
        1,
        Date.now(),
      );
    }
    const labels = await LabelStore.load({ db, clock: systemClock, log: createLogger({ level: 'silent' }) });
    const dispatcher = new Dispatcher({
      labels,
      images: new ImageStore({ db }),
      // Every label is consistent: nothing is ever sent.
      gateway: { send: () => Promise.resolve(StatusCode.OK) },
      aps,
      clock: systemClock,
      random: Math.random,
      log: createLogger({ level: 'silent' }),
      config,
    });
    await dispatcher.start();
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let sent = 0;
    const inFlight: Promise<unknown>[] = [];
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
        for (; sent < due; sent++) {
          const i = (sent * 7919) % LABELS;
          const msg: MessageOf<'LABEL_CHECKIN'> = { type: 'LABEL_CHECKIN', labelId: labelId(i), labelType: 3, displayedHash: HASH, page: 0, batteryMv: 2950, rssi: -67, lqi: 210, temperatureC: 21, wakeReason: WakeReason.TIMER, pendingTransferId: 0 };
          const at = performance.now();
          inFlight.push(dispatcher.labelCheckin(apId(i), msg).then(() => latencies.push(performance.now() - at)));
        }
        if (performance.now() - t0 >= SECONDS * 1000) {
          clearInterval(tick);
          resolve();
        }
      }, 10);
    });
    await Promise.all(inFlight);
    await dispatcher.idle();
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    dispatcher.stop();
    await labels.stop();
    latencies.sort((a, b) => a - b);
    const q = (p: number) => +(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1);
    return {
      cpu_per_wall_s: +((cpu.user + cpu.system) / 1e6 / wallS).toFixed(3),
      passes_per_s: +(dispatcher.passes / wallS).toFixed(1),
      checkins_per_s: +(latencies.length / wallS).toFixed(1),
      checkin_p50_ms: q(0.5),
      checkin_p99_ms: q(0.99),
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const baseline = await run(Number(process.env.DISPATCH_LOAD_BASELINE_INTERVAL_MS ?? 0));
const throttled = await run(DispatchConfigSchema.parse({}).minPassIntervalMs);
const out = {
  bench: 'dispatch-load',
  labels: LABELS,
  aps: APS,
  checkin_rate: RATE,
  seconds: SECONDS,
  throttled,
  baseline_unthrottled: baseline,
  cpu_ratio: +(throttled.cpu_per_wall_s! / baseline.cpu_per_wall_s!).toFixed(3),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
