/**
 * Nothing lost, every label converges: a real daemon process (real sqlite file, embedded broker) is killed with
 * SIGKILL in the middle of a full-store repricing while a simulated store is attached; after a restart the store
 * converges to the new prices — checked against the simulator's ground truth, not just the edge's own records.
 * The store runs on a paced clock that also watches the daemon process (D22); the budgets are simulated time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import type { AuditReport } from '../../src/domain/audit/price-audit.js';
import { gtin13 } from '#contracts';
import { CHAIN, OUTER_NET_MS, STORE, TOKEN, USERS, pacedClock, simWaitFor, tempDir } from '../support/edge-fixture.js';
import { spawnDaemon, waitHealthy, writeDaemonConfig } from '../support/daemon-process.js';

const N = 120;

const gtin = (i: number) => gtin13(`400${String(i).padStart(9, '0')}`);
const labelId = (i: number) => `0000CAFE${String(i).padStart(8, '0')}`;

describe('SIGKILL in the middle of a full-store update', () => {
  const tmp = tempDir();
  let child: ChildProcess | null = null;
  let sim: StoreSimulator | null = null;
  let clock: PacedClock | null = null;
  afterAll(async () => {
    await sim?.stop();
    clock?.stop();
    child?.kill('SIGKILL');
    tmp.remove();
  });

  it('converges to the new prices after a restart', async () => {
    const { configFile, mqttPort, api } = await writeDaemonConfig(tmp.dir, {
      dispatch: { retryBaseMs: 500, retryMaxMs: 5_000, transferTimeoutMs: 30_000, heartbeatIntervalS: 5 },
    });
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const start = () => {
      child = spawnDaemon(configFile);
    };
    const healthy = () => waitHealthy(api, child!);
    const audit = async () => (await (await fetch(`${api}/api/v1/audit`, { headers })).json()) as AuditReport;
    const post = async (body: unknown) => (await (await fetch(`${api}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { status: string };
    const batch = (id: string, events: unknown[]) => ({ id, source: 'hq', version: 1, type: 'batch', data: { events } });

    start();
    await healthy();
    const seed: unknown[] = [];
    for (let i = 0; i < N; i++) {
      seed.push({ id: `prod-${i}`, source: 'hq', version: 1, type: 'product', data: { gtin: gtin(i), name: `Artikel ${i}`, brand: 'Hausmarke', packSize: { quantity: 500, unit: 'g' } } });
      seed.push({ id: `price-${i}-v1`, source: 'hq', version: 1, type: 'price', data: { gtin: gtin(i), priceCents: 199 } });
      seed.push({ id: `bind-${i}`, source: 'hq', version: 1, type: 'binding', data: { labelId: labelId(i), gtin: gtin(i) } });
    }
    expect((await post(batch('seed', seed))).status).toBe('applied');

    clock = pacedClock(20, () => (child?.pid !== undefined && child.exitCode === null ? [child.pid] : []));
    const pc = clock;
    sim = await StoreSimulator.start({
      brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
      chain: CHAIN,
      store: STORE,
      aps: [USERS.ap1, USERS.ap2].map((a) => ({ apId: a.apId, username: a.username, password: a.password })),
      labels: Array.from({ length: N }, (_, i) => ({ labelId: labelId(i), labelType: i % 3 === 0 ? 2 : 3, apId: i % 2 === 0 ? 'AP-1' : 'AP-2' })),
      clock: pc,
      radio: { frameLoss: 0.02 },
      seed: 11,
    });
    await simWaitFor(pc, 'initial convergence', async () => (await audit()).counts.consistent === N, 1_800_000, { everySimMs: 5_000 });

    // The nightly price list: every product changes.
    const reprice = Array.from({ length: N }, (_, i) => ({ id: `price-${i}-v2`, source: 'hq', version: 2, type: 'price', data: { gtin: gtin(i), priceCents: 149 + (i % 50) } }));
    expect((await post(batch('reprice', reprice))).status).toBe('applied');
    // Kill it mid-update: some labels already show the new price, most do not.
    await simWaitFor(pc, 'update under way', async () => (await audit()).labels.filter((l) => l.shownPriceCents === l.tillPriceCents && l.tillPriceCents !== 199).length >= 5, 1_200_000, { everySimMs: 1_000 });
    const c = child!;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));

    start();
    await healthy();
    const final = await simWaitFor(
      pc,
      'convergence after restart',
      async () => {
        const a = await audit();
        return a.counts.consistent === N ? a : undefined;
      },
      2_400_000,
      { everySimMs: 5_000 },
    );
    for (const [i, l] of final.labels.entries()) {
      expect(l.tillPriceCents).toBe(149 + (Number(l.labelId.slice(8)) % 50));
      expect(l.shownPriceCents).toBe(l.tillPriceCents);
      // The edge's record agrees with what the simulated panel really shows.
      expect(sim.groundTruth(l.labelId)?.hash, `label ${i}`).toBe(l.desiredHash);
    }
    expect(final.priceMismatches).toBe(0);
    const stop = new Promise((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    expect(await stop).toBe(0);
    child = null;
  }, OUTER_NET_MS);
});
