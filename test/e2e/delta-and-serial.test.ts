/**
 * Issue 3 acceptance, end to end with the real daemon and the simulator (same codec on both sides):
 * - a price change goes as a delta and rebuilds exactly the intended image on the simulated label;
 * - a label whose picture is not what the edge assumed answers BASE_MISMATCH and recovers through a full image;
 * - one AP on MQTT and one on a serial line (a real pseudo-terminal pair) serve the same store.
 * Edge and store share a paced clock (D22): the convergence budgets are simulated time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { loadImage } from '../../src/domain/labels/image-store.js';
import { RenderPool } from '../../src/domain/rendering/render-pool.js';
import { LABELS, PRODUCTS, USERS, catalogueBatch, simWaitFor } from '../support/edge-fixture.js';
import { edgeStore, simAp, useEdgeStore, type EdgeStore } from '../support/edge-store.js';
import { openPtyPair, type PtyPair } from '../support/pty-pair.js';

let version = 100;
async function setPrice(daemon: Daemon, gtin: string, priceCents: number): Promise<void> {
  version++;
  const r = await daemon.intake.ingest(JSON.stringify({ id: `p-${version}`, source: 'pos', version, type: 'price', data: { gtin, priceCents } }), { channel: 'local' });
  expect(r.reply.status).toBe('applied');
  // The new desired image is planned before we look at convergence.
  await daemon.planner.idle();
}

async function labelRow(daemon: Daemon, labelId: string) {
  const l = daemon.labels.get(labelId)!;
  return { desired_hash: l.desiredHash!, confirmed_hash: l.confirmedHash };
}

async function converged(e: EdgeStore, labelIds: string[]): Promise<void> {
  await simWaitFor(e.clock, 'labels converged', () => e.converged(labelIds), 800_000, { everySimMs: 2_000 });
}

describe('delta updates over MQTT', () => {
  // APs forward an unchanged check-in only hourly (simulated), so nothing corrects the edge's belief behind the
  // test's back in the base-mismatch case below.
  const e = useEdgeStore({ config: { dispatch: { checkinReportIntervalS: 3600 } }, store: {} });
  let daemon: Daemon;
  let sim: StoreSimulator;
  beforeAll(async () => {
    ({ daemon, sim } = e);
    await converged(e, LABELS.map((l) => l.labelId));
  }, 600_000);

  it('sends a price change as a delta that rebuilds exactly the rendered planes', { timeout: 600_000 }, async () => {
    const label = LABELS[1]!;
    const before = { ...daemon.dispatcher.stats };
    const encodedBefore = (daemon.renderer as RenderPool).stats().encoded;
    await setPrice(daemon, label.gtin, 111);
    await converged(e, [label.labelId]);
    expect(daemon.dispatcher.stats.deltaImages).toBeGreaterThan(before.deltaImages);
    expect(daemon.dispatcher.stats.fullImages).toBe(before.fullImages);
    // D126 The delta was encoded when planned, from the pictures the planner had at hand, and the transfer took it;
    // once the label has it, the payload is not kept.
    expect(daemon.dispatcher.stats.encodingsPrepared).toBeGreaterThan(before.encodingsPrepared);
    expect(daemon.dispatcher.stats.preparedUsed).toBeGreaterThan(before.preparedUsed);
    // D148 by the render worker, off the event loop.
    expect(daemon.renderer).toBeInstanceOf(RenderPool);
    expect((daemon.renderer as RenderPool).stats().encoded).toBeGreaterThan(encodedBefore);
    expect(daemon.dispatcher.encodings.preparedCount).toBe(0);
    const row = await labelRow(daemon, label.labelId);
    const rendered = await loadImage(daemon.db, row.desired_hash);
    expect(rendered?.content.priceCents).toBe(111);
    // The label's display memory, rebuilt from the delta over its previous picture, equals the render bit for bit.
    expect(Buffer.from(sim.groundTruth(label.labelId)!.planes!)).toEqual(Buffer.from(rendered!.planes));
  });

  it('recovers through a full image when the label does not show what the edge assumed', { timeout: 600_000 }, async () => {
    const label = LABELS[2]!;
    const other = LABELS[0]!; // same panel type, another picture
    const otherHash = (await labelRow(daemon, other.labelId)).confirmed_hash!;
    // The edge now believes the label shows another picture; the label's unchanged check-ins are not forwarded
    // again for checkinReportIntervalS, so the next transfer is a delta against the wrong base.
    // (A check-in that reported the other picture, as a label with a corrupted display memory would.)
    const now = daemon.labels.get(label.labelId)!;
    daemon.labels.checkin(now.apId!, { type: 'LABEL_CHECKIN', labelId: label.labelId, labelType: now.labelType!, displayedHash: otherHash, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: 0, pendingTransferId: 0 }, Date.now());
    const before = { ...daemon.dispatcher.stats };
    await setPrice(daemon, label.gtin, 222);
    await converged(e, [label.labelId]);
    expect(daemon.dispatcher.stats.baseMismatches).toBeGreaterThan(before.baseMismatches);
    expect(daemon.dispatcher.stats.fullImages).toBeGreaterThan(before.fullImages);
    const row = await labelRow(daemon, label.labelId);
    expect((await loadImage(daemon.db, row.desired_hash))?.content.priceCents).toBe(222);
    expect(sim.groundTruth(label.labelId)?.hash).toBe(row.desired_hash);
  });
});

describe('one AP on MQTT and one on a serial line in the same store', () => {
  let pty: PtyPair | undefined;
  // Registered before the edge store's: after hooks run in reverse, so the pty closes once the AP and edge stopped.
  afterAll(async () => {
    await pty?.close();
  });
  const e = edgeStore();
  let daemon: Daemon;
  const labels = [
    { labelId: '0000AABBCC0000A1', labelType: 3, apId: 'AP-1', gtin: PRODUCTS[0]!.gtin },
    { labelId: '0000AABBCC0000A2', labelType: 2, apId: 'AP-1', gtin: PRODUCTS[1]!.gtin },
    { labelId: '0000AABBCC0000B1', labelType: 3, apId: 'AP-2', gtin: PRODUCTS[0]!.gtin },
    { labelId: '0000AABBCC0000B2', labelType: 1, apId: 'AP-2', gtin: PRODUCTS[2]!.gtin },
  ];
  beforeAll(async () => {
    pty = await openPtyPair();
    daemon = await e.startEdge({ serialAps: [{ apId: 'AP-2', path: pty.edgePath, baudRate: 115200 }] });
    const binds = labels.map((l, i) => ({ id: `bind-${i}`, source: 'test', version: 1, type: 'binding', data: { labelId: l.labelId, gtin: l.gtin } }));
    await daemon.intake.ingest(catalogueBatch('seed-serial'), { channel: 'local' });
    await daemon.intake.ingest(JSON.stringify({ id: 'binds', source: 'test', version: 1, type: 'batch', data: { events: binds } }), { channel: 'local' });
    await e.startStore({ aps: [simAp(USERS.ap1), simAp(USERS.ap2, { transport: { serialPath: pty.apPath } })], labels, seed: 7 });
    await converged(e, labels.map((l) => l.labelId));
  }, 600_000);

  it('reaches labels behind both APs with one price change', { timeout: 600_000 }, async () => {
    expect(daemon.aps.get('AP-1')?.online).toBe(true);
    expect(daemon.aps.get('AP-2')?.online).toBe(true);
    await setPrice(daemon, PRODUCTS[0]!.gtin, 89);
    const both = [labels[0]!.labelId, labels[2]!.labelId];
    await converged(e, both);
    for (const id of both) {
      const row = await labelRow(daemon, id);
      expect((await loadImage(daemon.db, row.desired_hash))?.content.priceCents).toBe(89);
    }
    const viaSerial = { ap_id: daemon.labels.get(labels[2]!.labelId)?.apId };
    expect(viaSerial?.ap_id).toBe('AP-2');
    expect(daemon.hub.counters.decodeErrors).toBe(0);
  });
});
