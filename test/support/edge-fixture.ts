/**
 * Test fixture: a real daemon (embedded aedes on a free port, a sqlite file in a temp dir, the real renderer) and,
 * on request, a simulated store connected to it over MQTT. Everything real, nothing mocked.
 */
import { availableParallelism, loadavg } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../src/config/load-config.js';
import type { ConfigInput } from '../../src/config/config-schema.js';
import { createLogger } from '../../src/core/logger.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { RealClock } from '../../simulator/src/real-clock.js';
import { PacedClock } from '../../simulator/src/paced-clock.js';
import { edgeClock } from '../../demo/src/edge-clock.js';
import type { SimClock } from '../../simulator/src/sim-clock.js';
import type { Clock } from '../../src/core/clock.js';
import type { SingleEvent } from '#contracts';

export const TOKEN = 'test-token-0123456789abcdef';
export const CHAIN = 'testchain';
export const STORE = 'store-1';
export const ROOT = `esl/${CHAIN}/${STORE}`;
export const USERS = {
  ap1: { username: 'ap-1', password: 'ap-1-password', role: 'ap' as const, apId: 'AP-1' },
  ap2: { username: 'ap-2', password: 'ap-2-password', role: 'ap' as const, apId: 'AP-2' },
  pos: { username: 'pos', password: 'pos-password', role: 'publisher' as const },
};

export { tempDir } from './temp-dir.js';

export function testConfig(dataDir: string, overrides: Partial<ConfigInput> = {}) {
  return parseConfig({
    store: { chain: CHAIN, id: STORE },
    dataDir,
    log: { level: process.env.TEST_LOG_LEVEL ?? 'silent' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: Object.values(USERS) },
    http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'test', token: TOKEN }] },
    dispatch: { ackTimeoutMs: 5_000, retryBaseMs: 200, retryMaxMs: 2_000, transferTimeoutMs: 20_000, heartbeatIntervalS: 5, checkinReportIntervalS: 30 },
    ...overrides,
  });
}

/**
 * The test dispatch timings in simulated time, for an edge on a paced clock: the wall-time values of testConfig
 * were effectively 20× longer for a store at speed 20, so the retry and transfer times are those × 20; ACK and
 * heartbeat times are the protocol's own (the simulated APs use them in simulated time too).
 */
export const SIM_DISPATCH = { ackTimeoutMs: 5_000, retryBaseMs: 4_000, retryMaxMs: 40_000, transferTimeoutMs: 400_000, heartbeatIntervalS: 5, checkinReportIntervalS: 30 };

/** With `opts.clock` the edge runs on that simulated clock (edge-clock.ts), with SIM_DISPATCH under `overrides.dispatch`. */
export async function startTestDaemon(dataDir: string, overrides: Partial<ConfigInput> = {}, opts: { clock?: SimClock } = {}): Promise<Daemon> {
  const config = testConfig(dataDir, opts.clock ? { ...overrides, dispatch: { ...SIM_DISPATCH, ...overrides.dispatch } } : overrides);
  const clock: Clock | undefined = opts.clock ? edgeClock(opts.clock) : undefined;
  return startDaemon(config, { log: createLogger({ level: config.log.level }), listenHttp: true, ...(clock ? { clock } : {}) });
}

/**
 * The shared simulated time of a test's edge and store (D22): `speed` simulated ms per wall ms in which the test
 * process (and `watchPids`, e.g. a daemon child process) is idle; CPU work takes no simulated time, so a loaded
 * machine makes the test slower, not different. Pass it to startTestDaemon and startSimulator; stop it after them.
 */
export function pacedClock(speed = 20, watchPids?: () => readonly number[]): PacedClock {
  return new PacedClock({ speed, ...(watchPids ? { watchPids } : {}) });
}

/** The sample catalogue of the tests: German products with valid GTINs. */
export const PRODUCTS = [
  { gtin: '4006381333931', name: 'Bio-Vollmilch 3,8 % Fett', brand: 'Landliebe', quantity: 1, unit: 'l' as const, cents: 149 },
  { gtin: '4012345000016', name: 'Joghurt mild', brand: 'Weihenstephan', quantity: 500, unit: 'g' as const, cents: 129 },
  { gtin: '4000417025005', name: 'Vollmilch-Schokolade', brand: 'Ritter Sport', quantity: 100, unit: 'g' as const, cents: 149 },
];
export const LABELS = [
  { labelId: '0000AABBCC000001', labelType: 3, apId: 'AP-1', gtin: PRODUCTS[0]!.gtin },
  { labelId: '0000AABBCC000002', labelType: 2, apId: 'AP-1', gtin: PRODUCTS[1]!.gtin },
  { labelId: '0000AABBCC000003', labelType: 3, apId: 'AP-1', gtin: PRODUCTS[2]!.gtin },
  { labelId: '0000AABBCC000004', labelType: 2, apId: 'AP-1', gtin: PRODUCTS[0]!.gtin },
];

export function catalogueBatch(id = 'seed-1'): string {
  const events: SingleEvent[] = [];
  for (const p of PRODUCTS) {
    events.push({ id: `${id}-product-${p.gtin}`, source: 'test', version: 1, type: 'product', data: { gtin: p.gtin, name: p.name, brand: p.brand, packSize: { quantity: p.quantity, unit: p.unit } } });
    events.push({ id: `${id}-price-${p.gtin}`, source: 'test', version: 1, type: 'price', data: { gtin: p.gtin, priceCents: p.cents, currency: 'EUR' } });
  }
  for (const l of LABELS) events.push({ id: `${id}-binding-${l.labelId}`, source: 'test', version: 1, type: 'binding', data: { labelId: l.labelId, gtin: l.gtin } });
  return JSON.stringify({ id, source: 'test', version: 1, type: 'batch', data: { events } });
}

export async function startSimulator(daemon: Daemon, opts: { labels?: typeof LABELS; aps?: (typeof USERS)['ap1'][]; speed?: number; clock?: SimClock } = {}): Promise<StoreSimulator> {
  const aps = opts.aps ?? [USERS.ap1];
  return StoreSimulator.start({
    brokerUrl: daemon.mqttUrl,
    chain: CHAIN,
    store: STORE,
    aps: aps.map((a) => ({ apId: a.apId, username: a.username, password: a.password })),
    labels: (opts.labels ?? LABELS).map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId })),
    // Simulated time runs 20× faster: a 30 s wake interval is 1.5 s, a 15 s panel refresh 0.75 s.
    clock: opts.clock ?? new RealClock({ speed: opts.speed ?? 20 }),
    radio: { frameLoss: 0 },
    seed: 42,
  });
}

export async function connectClient(daemon: Daemon, user: { username: string; password: string } | null, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(daemon.mqttUrl, {
    ...(user ? { username: user.username, password: user.password } : {}),
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...extra,
  });
}

/**
 * The wall limit of a wait, counted at the share of the CPUs the machine can give (cores ÷ 1-minute load average,
 * at most 1): a safety net against a hung run that a machine loaded with other work does not trip (D53). Quiet,
 * it counts wall time; with two busy loops beside the suite (load ~5 on 2 cores) about 0.4 of it; at load 24, 0.08.
 * A wait hung on nothing (idle) is caught by the simulated budget of simWaitFor long before; this catches a run
 * that spins.
 */
export class HangGuard {
  private spentMs = 0;
  private at = performance.now();
  constructor(readonly limitMs: number) {}
  /** Wall ms counted so far (load-weighted). */
  get spent(): number {
    const now = performance.now();
    const share = Math.min(1, availableParallelism() / Math.max(loadavg()[0] ?? 0, 1e-9));
    this.spentMs += (now - this.at) * share;
    this.at = now;
    return this.spentMs;
  }
  get expired(): boolean {
    return this.spent > this.limitMs;
  }
}

/**
 * The vitest limit of the long end-to-end tests (store-under-faults, the crash tests): only an outer bound, 3 h. Their
 * waits are simulated budgets with load-weighted nets (HangGuard) that stop a spinning run; a plain wall limit of
 * 20–40 min failed them on a machine shared with other work while they made progress (D53).
 */
export const OUTER_NET_MS = 3 * 3_600_000;

/**
 * Polls `fn` until it returns a value, for I/O that needs no simulated time (a reply, a dead letter, a delivery).
 * The wall limit is a safety net against a hung run, never a timing assertion (D22, D53): load-weighted
 * (HangGuard) and generous by default. Waits on the simulated store use simWaitFor.
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const guard = new HangGuard(timeoutMs);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v as T;
    } catch (err) {
      last = err;
    }
    if (guard.expired) throw new Error(`safety net: ${what} not reached within ${timeoutMs / 1000} load-weighted wall s${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Polls `fn` every `everySimMs` of simulated time until it returns a value; fails after `simTimeoutMs` of simulated
 * time — the verdict. `wallLimitMs` is only a safety net against a hung run (generous, and load-weighted by
 * HangGuard: a loaded machine stretches simulated time), and its failure says so.
 */
export async function simWaitFor<T>(
  clock: SimClock,
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  simTimeoutMs = 400_000,
  opts: { everySimMs?: number; wallLimitMs?: number } = {},
): Promise<T> {
  const simEnd = clock.now() + simTimeoutMs;
  const guard = new HangGuard(opts.wallLimitMs ?? 600_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v as T;
    } catch (err) {
      last = err;
    }
    const detail = last ? `: ${String(last)}` : '';
    if (clock.now() > simEnd) throw new Error(`timed out waiting for ${what} after ${simTimeoutMs / 1000} simulated s${detail}`);
    if (guard.expired) throw new Error(`safety net: ${what} not reached within ${(opts.wallLimitMs ?? 600_000) / 1000} load-weighted wall s (${((clock.now() - simEnd + simTimeoutMs) / 1000).toFixed(0)} simulated s)${detail}`);
    await clock.sleep(opts.everySimMs ?? 1_000);
  }
}

export function authHeaders(token = TOKEN) {
  return { authorization: `Bearer ${token}` };
}
