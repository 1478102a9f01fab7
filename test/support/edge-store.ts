/**
 * The set-up the end-to-end files share: a real edge daemon (embedded aedes on a free port, a sqlite file in a temp
 * dir) and, when asked, a simulated store attached to it over MQTT, both on one paced clock (D22), with the test's
 * MQTT clients; one afterAll stops everything in reverse order (clients, store, daemon, clock, temp dir), whatever
 * part of the set-up was reached. Everything real, nothing mocked (edge-fixture.ts has the parts).
 *
 * `useEdgeStore(opts)` is the whole set-up in one beforeAll: edge, seed events, store, POS client. A file whose
 * set-up has steps of its own between those uses `edgeStore(opts)` and calls `startEdge`, `ingest`, `startStore`
 * and `client` from its own beforeAll (or test) in the order it needs.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { Daemon } from '../../src/daemon.js';
import { StoreSimulator, type SimStoreOptions } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { CHAIN, LABELS, STORE, USERS, catalogueBatch, connectClient, pacedClock, startTestDaemon, tempDir } from './edge-fixture.js';

export type SimAp = SimStoreOptions['aps'][number];
export type SimLabel = SimStoreOptions['labels'][number];

/** A simulated AP that logs in as one of the test's AP users (USERS.ap1, USERS.ap2), with its own options. */
export function simAp(user: { apId: string; username: string; password: string }, extra: Omit<Partial<SimAp>, 'apId' | 'username' | 'password'> = {}): SimAp {
  return { apId: user.apId, username: user.username, password: user.password, ...extra };
}

/** The simulated store: its APs (default AP-1), labels (default LABELS), radio model (default no frame loss) and seed. */
export interface StoreSpec {
  aps?: SimAp[];
  labels?: readonly (SimLabel & { gtin?: string })[];
  radio?: SimStoreOptions['radio'];
  seed?: number;
  /** The labels' first wakes spread over this many ms (the simulator's default when absent). */
  startSpreadMs?: number;
}

export interface EdgeStoreOptions {
  /** Simulated ms per idle wall ms of the shared paced clock (default 20); null: the edge on the system clock and no
   * paced clock (a test that needs no simulated store). */
  speed?: number | null;
  /** Config overrides for startTestDaemon (with a paced clock its dispatch timings are SIM_DISPATCH under these). */
  config?: Partial<ConfigInput>;
}

export interface UseEdgeStoreOptions extends EdgeStoreOptions {
  /** Events ingested on the local channel once the edge runs, each of which must be applied (default: the catalogue). */
  seed?: readonly string[];
  /** The simulated store, started after the seed; false: none. */
  store?: StoreSpec | false;
  /** A POS client (USERS.pos) connected after the store. */
  pos?: boolean;
}

export interface EdgeStore {
  readonly tmp: { dir: string; remove: () => void };
  /** Each throws if that part was not started. */
  readonly daemon: Daemon;
  readonly clock: PacedClock;
  readonly sim: StoreSimulator;
  readonly pos: MqttClient;
  /** Starts the clock and the daemon; `config` (when known only now, e.g. a pty's path) replaces opts.config. */
  startEdge(config?: Partial<ConfigInput>): Promise<Daemon>;
  /** Ingests an event (JSON text or an object) on the local channel; a test assertion that it is applied. */
  ingest(event: string | object): Promise<void>;
  startStore(spec?: StoreSpec): Promise<StoreSimulator>;
  /** Connects the POS client (USERS.pos) that `pos` gives. */
  connectPos(): Promise<MqttClient>;
  /** An MQTT client of this edge, ended before the store stops. */
  client(user: { username: string; password: string } | null, extra?: Parameters<typeof connectClient>[2]): Promise<MqttClient>;
  /** Whether each label has a picture that the edge records as confirmed and the simulated panel really shows. */
  converged(labelIds: readonly string[]): boolean;
  stop(): Promise<void>;
}

/** The edge and store of one describe block; registers the afterAll that stops them. */
export function edgeStore(opts: EdgeStoreOptions = {}): EdgeStore {
  const tmp = tempDir();
  let daemon: Daemon | undefined;
  let clock: PacedClock | undefined;
  let sim: StoreSimulator | undefined;
  let pos: MqttClient | undefined;
  const clients: MqttClient[] = [];
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`edge store: ${what} not started`);
    return v;
  };
  const s: EdgeStore = {
    tmp,
    get daemon() {
      return need(daemon, 'the daemon');
    },
    get clock() {
      return need(clock, 'the paced clock');
    },
    get sim() {
      return need(sim, 'the simulated store');
    },
    get pos() {
      return need(pos, 'the POS client');
    },
    async startEdge(config = opts.config ?? {}) {
      if (opts.speed !== null) clock = pacedClock(opts.speed ?? 20);
      daemon = await startTestDaemon(tmp.dir, config, clock ? { clock } : {});
      return daemon;
    },
    async ingest(event) {
      const r = await s.daemon.intake.ingest(typeof event === 'string' ? event : JSON.stringify(event), { channel: 'local' });
      expect(r.reply.status, JSON.stringify(r.reply)).toBe('applied');
    },
    async startStore(spec = {}) {
      const d = s.daemon;
      sim = await StoreSimulator.start({
        brokerUrl: d.mqttUrl,
        chain: CHAIN,
        store: STORE,
        aps: spec.aps ?? [simAp(USERS.ap1)],
        // The simulator's label options only: a test's label list may carry its product (gtin) too.
        labels: (spec.labels ?? LABELS).map(({ gtin: _gtin, ...l }) => l),
        clock: s.clock,
        radio: spec.radio ?? { frameLoss: 0 },
        seed: spec.seed ?? 42,
        ...(spec.startSpreadMs !== undefined ? { startSpreadMs: spec.startSpreadMs } : {}),
      });
      return sim;
    },
    async client(user, extra = {}) {
      const c = await connectClient(s.daemon, user, extra);
      clients.push(c);
      return c;
    },
    async connectPos() {
      pos = await s.client(USERS.pos);
      return pos;
    },
    converged(labelIds) {
      const d = s.daemon;
      const store = s.sim;
      for (const id of labelIds) {
        // The label store's record (D17): sqlite follows it in write-behind batches.
        const l = d.labels.get(id);
        if (!l?.desiredHash || l.confirmedHash !== l.desiredHash || store.groundTruth(id)?.hash !== l.desiredHash) return false;
      }
      return true;
    },
    async stop() {
      for (const c of clients.splice(0)) await c.endAsync();
      pos = undefined;
      await sim?.stop();
      await daemon?.stop();
      clock?.stop();
      tmp.remove();
    },
  };
  afterAll(() => s.stop());
  return s;
}

/** The whole set-up in one beforeAll of the calling describe: edge, seed, store, POS client; stopped in its afterAll. */
export function useEdgeStore(opts: UseEdgeStoreOptions = {}): EdgeStore {
  const s = edgeStore(opts);
  beforeAll(async () => {
    await s.startEdge();
    for (const e of opts.seed ?? [catalogueBatch()]) await s.ingest(e);
    if (opts.store) await s.startStore(opts.store);
    if (opts.pos) await s.connectPos();
  });
  return s;
}

/** A batch event of HQ (the envelope the end-to-end tests send their seeds and repricings in). */
export function hqBatch(id: string, version: number, events: readonly unknown[]): string {
  return JSON.stringify({ id, source: 'hq', version, type: 'batch', data: { events } });
}

/**
 * A store of `n` numbered products, each at 1,99 € and bound to its numbered label: product, price and binding
 * events of version 1, for hqBatch.
 */
export function numberedCatalogue(n: number, gtin: (i: number) => string, labelId: (i: number) => string): unknown[] {
  const events: unknown[] = [];
  for (let i = 0; i < n; i++) {
    events.push({ id: `prod-${i}`, source: 'hq', version: 1, type: 'product', data: { gtin: gtin(i), name: `Artikel ${i}`, brand: 'Hausmarke', packSize: { quantity: 500, unit: 'g' } } });
    events.push({ id: `price-${i}-1`, source: 'pos', version: 1, type: 'price', data: { gtin: gtin(i), priceCents: 199 } });
    events.push({ id: `bind-${i}`, source: 'hq', version: 1, type: 'binding', data: { labelId: labelId(i), gtin: gtin(i) } });
  }
  return events;
}
