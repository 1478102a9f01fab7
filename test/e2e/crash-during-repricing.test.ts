/**
 * Issue 16 acceptance — nothing acknowledged is ever lost: a real daemon process (real sqlite file, embedded broker)
 * is killed with SIGKILL at 20 random instants during a full repricing, while two POS publishers keep sending price
 * changes over MQTT QoS 1 and record every event the daemon acknowledged (PUBACK; the repricing batch: its HTTP
 * answer). After the restarts:
 *  - every acknowledged event was recorded (sent again, the daemon answers `duplicate`), and each product's till
 *    price is the one of its newest acknowledged event;
 *  - every label converges (audit: all consistent), within a simulated-time budget;
 *  - the audit equals the simulator's ground truth (each panel shows the edge's desired picture at the till price).
 *
 * The instants are random but seeded: the seed is printed, and CRASH_SEED=… replays a run's choices. The store runs
 * on a paced clock that also watches the daemon process (D22): simulated time stands still while either works.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { seededRandom } from '../../simulator/src/rng.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import type { AuditReport } from '../../src/domain/audit/price-audit.js';
import { gtin13 } from '#contracts';
import { CHAIN, OUTER_NET_MS, ROOT, STORE, TOKEN, USERS, pacedClock, simWaitFor, tempDir } from '../support/edge-fixture.js';
import { spawnDaemon, waitHealthy, writeDaemonConfig } from '../support/daemon-process.js';

const N = 80;
const KILLS = 20;
const SPEED = 20;
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Simulated-time budgets (verdicts); the wall limits are safety nets only. */
const FILL_BUDGET_MS = 1_800_000;
const CONVERGE_BUDGET_MS = 1_800_000;
const WALL_NET_MS = 900_000;

const gtin = (i: number) => gtin13(`402${String(i).padStart(9, '0')}`);
const labelId = (i: number) => `0000C0DE${String(i).padStart(8, '0')}`;
const wallSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Acked {
  id: string;
  product: number;
  version: number;
  cents: number;
}

describe('SIGKILL at 20 random instants during a full repricing, publishers recording every acknowledged event', () => {
  const tmp = tempDir();
  let child: ChildProcess | null = null;
  let sim: StoreSimulator | null = null;
  let clock: PacedClock | null = null;
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await sim?.stop();
    clock?.stop();
    child?.kill('SIGKILL');
    tmp.remove();
  });

  it('loses no acknowledged event, converges, and the audit equals the ground truth', async () => {
    console.log(`crash-during-repricing: seed ${SEED} (replay with CRASH_SEED=${SEED})`);
    const random = seededRandom(SEED);
    const { configFile, mqttPort, api } = await writeDaemonConfig(tmp.dir, {
      dispatch: { retryBaseMs: 500, retryMaxMs: 5_000, transferTimeoutMs: 30_000, heartbeatIntervalS: 5 },
    });
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const start = () => {
      child = spawnDaemon(configFile);
    };
    const audit = async () => (await (await fetch(`${api}/api/v1/audit`, { headers })).json()) as AuditReport;
    const post = async (body: unknown) => (await (await fetch(`${api}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { status: string };
    const batch = (id: string, version: number, events: unknown[]) => ({ id, source: 'hq', version, type: 'batch', data: { events } });
    const priceEvent = (id: string, product: number, version: number, cents: number) => ({ id, source: 'pos', version, type: 'price', data: { gtin: gtin(product), priceCents: cents } });

    start();
    await waitHealthy(api, child!);
    const seed: unknown[] = [];
    for (let i = 0; i < N; i++) {
      seed.push({ id: `prod-${i}`, source: 'hq', version: 1, type: 'product', data: { gtin: gtin(i), name: `Artikel ${i}`, brand: 'Hausmarke', packSize: { quantity: 500, unit: 'g' } } });
      seed.push(priceEvent(`price-${i}-v1`, i, 1, 199));
      seed.push({ id: `bind-${i}`, source: 'hq', version: 1, type: 'binding', data: { labelId: labelId(i), gtin: gtin(i) } });
    }
    expect((await post(batch('seed', 1, seed))).status).toBe('applied');

    clock = pacedClock(SPEED, () => (child?.pid !== undefined && child.exitCode === null ? [child.pid] : []));
    const c = clock;
    sim = await StoreSimulator.start({
      brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
      chain: CHAIN,
      store: STORE,
      aps: [USERS.ap1, USERS.ap2].map((a) => ({ apId: a.apId, username: a.username, password: a.password })),
      labels: Array.from({ length: N }, (_, i) => ({ labelId: labelId(i), labelType: i % 3 === 0 ? 2 : 3, apId: i % 2 === 0 ? 'AP-1' : 'AP-2' })),
      clock: c,
      radio: { frameLoss: 0.02 },
      seed: SEED,
    });
    await simWaitFor(c, 'initial convergence', async () => (await audit()).counts.consistent === N, FILL_BUDGET_MS, { everySimMs: 5_000, wallLimitMs: WALL_NET_MS });

    // A full repricing: every product changes (acknowledged by the HTTP answer). Versions are per product and only
    // grow, shared with the publishers below, so the newest acknowledged event of a product decides its price.
    const acked: Acked[] = [];
    const version = new Map<number, number>();
    const nextVersion = (product: number) => {
      const v = (version.get(product) ?? 1) + 1;
      version.set(product, v);
      return v;
    };
    const reprice = async (round: number) => {
      const events = Array.from({ length: N }, (_, i) => ({ id: `price-${i}-r${round}`, product: i, version: nextVersion(i), cents: 149 + ((i + 7 * round) % 50) }));
      const r = await post(batch(`reprice-${round}`, round + 2, events.map((e) => priceEvent(e.id, e.product, e.version, e.cents))));
      expect(r.status).toBe('applied');
      acked.push(...events);
    };
    await reprice(0);

    // Two POS publishers, each on its own half of the products; an event is sent again (same id) until the daemon
    // acknowledges it, as a QoS 1 client does across reconnects, and only then the next version of that product.
    let publishing = true;
    const publisher = async (k: number) => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: USERS.pos.username, password: USERS.pos.password, reconnectPeriod: 200, connectTimeout: 2_000, clientId: `pos-${k}-${SEED}` });
      clients.push(client);
      client.on('error', () => undefined);
      let n = 0;
      while (publishing) {
        const product = 2 * Math.floor(random() * (N / 2)) + k;
        const v = nextVersion(product);
        const e = { id: `pos-${k}-${n++}`, product, version: v, cents: 99 + Math.floor(random() * 400) };
        const payload = JSON.stringify(priceEvent(e.id, e.product, e.version, e.cents));
        for (;;) {
          const ok = await Promise.race([client.publishAsync(`${ROOT}/in/price`, payload, { qos: 1 }).then(() => true, () => false), wallSleep(3_000).then(() => false)]);
          if (ok) break;
          await wallSleep(100);
        }
        acked.push(e);
        await wallSleep(100 + random() * 300);
      }
    };
    const publishers = [publisher(0), publisher(1)];

    // 20 kills at random instants: each 0.2–2.5 s (wall) into a full repricing — the first, then one more after
    // each restart, so that every kill lands while labels are being planned, staged or sent.
    const kills: { afterMs: number; notConsistent: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      if (k > 0) await reprice(k);
      const afterMs = Math.round(200 + random() * 2_300);
      await wallSleep(afterMs);
      const a = await audit().catch(() => undefined);
      kills.push({ afterMs, notConsistent: a ? N - a.counts.consistent : -1 });
      const victim = child!;
      victim.kill('SIGKILL');
      await new Promise((r) => (victim.exitCode !== null || victim.signalCode ? r(null) : victim.once('exit', r)));
      start();
      await waitHealthy(api, child!);
    }
    console.log(`crash-during-repricing: ${acked.length} events acknowledged; kills (ms into a repricing: labels not consistent) ${kills.map((x) => `${x.afterMs}:${x.notConsistent}`).join(', ')}`);
    // The premise: the kills hit an update under way, not an idle store.
    expect(kills.filter((x) => x.notConsistent > 0).length).toBeGreaterThanOrEqual(KILLS / 2);
    publishing = false;
    await Promise.all(publishers);
    for (const cl of clients.splice(0)) cl.end(true);
    expect(acked.length).toBeGreaterThan(N + KILLS);

    // Every acknowledged event was recorded: sent again, it is a duplicate.
    for (const e of acked) {
      const r = await post(priceEvent(e.id, e.product, e.version, e.cents));
      expect(r.status, `event ${e.id}`).toBe('duplicate');
    }
    // Each product's till price is its newest acknowledged event's.
    const expected = new Map<number, Acked>();
    for (const e of acked) if ((expected.get(e.product)?.version ?? 0) < e.version) expected.set(e.product, e);

    const final = await simWaitFor(
      c,
      'convergence after the restarts',
      async () => {
        const a = await audit();
        return a.counts.consistent === N ? a : undefined;
      },
      CONVERGE_BUDGET_MS,
      { everySimMs: 5_000, wallLimitMs: WALL_NET_MS },
    );
    expect(final.priceMismatches).toBe(0);
    for (const l of final.labels) {
      const i = Number(l.labelId.slice(8));
      expect(l.tillPriceCents, `label ${l.labelId}`).toBe(expected.get(i)!.cents);
      expect(l.shownPriceCents).toBe(l.tillPriceCents);
      // The edge's record agrees with what the simulated panel really shows.
      expect(sim.groundTruth(l.labelId)?.hash, `label ${l.labelId}`).toBe(l.desiredHash);
    }
    const stop = new Promise((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    expect(await stop).toBe(0);
    child = null;
  }, OUTER_NET_MS);
});
