/**
 * The store operations at the operation level (issue 15): each run once, directly, on real parts — a sqlite file,
 * the label store, the image store, the event intake, the audit reporter and its outbox — with only the AP behind
 * the gateway recorded. The transports are tested on their own: test/api/operations-http.test.ts (fastify inject)
 * and test/transport/mqtt-requests.test.ts (embedded broker, real client).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ZodError } from 'zod';
import { Database } from '../../src/persistence/database.js';
import { EventIntake } from '../../src/domain/events/event-intake.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { LabelAlerts } from '../../src/domain/audit/label-alerts.js';
import { AuditReporter } from '../../src/domain/audit/audit-reporter.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { EslError, ErrorCode } from '#contracts';
import { storeOperations, type StoreOperations } from '../../src/domain/operations/store-operations.js';
import { auditOptionsAt } from '../../src/domain/operations/operation-deps.js';
import { invoke } from '../../src/domain/operations/operation.js';
import type { ApGateway } from '../../src/domain/ports.js';
import { BLANK_HASH, LedColour, StatusCode, type Message, type StatusCodeValue } from '#protocol';
import { LABELS, PRODUCTS, catalogueBatch } from '../support/edge-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const T0 = Date.UTC(2026, 10, 30, 9, 0);
const STORE = { chain: 'testchain', id: 'store-1' };
const test = { via: 'mqtt' } as const;

describe('store operations (one implementation, called by every transport)', () => {
  const tmp = tempDir();
  const clock = new ManualClock(T0);
  const log = createLogger({ level: 'silent' });
  const sent: { apId: string; message: Message }[] = [];
  let gatewayAnswer: () => Promise<StatusCodeValue> = async () => StatusCode.OK;
  const gateway: ApGateway = {
    send: async (apId, message) => {
      sent.push({ apId, message });
      return gatewayAnswer();
    },
  };
  let db: Database;
  let labels: LabelStore;
  let kicks = 0;
  let ops: StoreOperations;

  beforeAll(async () => {
    db = await Database.open(join(tmp.dir, 'store.db'));
    labels = await LabelStore.load({ db, clock, log });
    const images = new ImageStore({ db });
    const intake = new EventIntake({ db, labels, clock, log, maxEventBytes: 1 << 20, onApplied: () => undefined });
    const audit = { slaSeconds: 900, unreachableAfterS: 3600, maxAttempts: 8 };
    const alerts = new LabelAlerts({ db, labels, lowBatteryMv: 2400, unreachableAfterS: 3600, onOutbox: () => undefined });
    const reporter = new AuditReporter({ db, labels, images, clock, log, store: STORE, intervalS: 900, auditOptions: () => auditOptionsAt({ clock, audit }), alerts, onOutbox: () => undefined, maxReportBytes: 256 * 1024 });
    ops = storeOperations({ db, labels, images, clock, log, gateway, intake, reporter, kickDispatch: () => kicks++, store: STORE, audit, maxReportBytes: 256 * 1024 });
    expect((await intake.ingest(catalogueBatch(), { channel: 'local' })).reply.status).toBe('applied');
    // The first three labels have checked in at AP-1; the fourth has not been heard yet.
    for (const l of LABELS.slice(0, 3)) {
      labels.checkin(l.apId, { type: 'LABEL_CHECKIN', labelId: l.labelId, labelType: l.labelType, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: 0, pendingTransferId: 0 }, T0);
    }
  });
  afterAll(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('flash: sends LED_FLASH to the label\'s AP; names what stands in the way otherwise', async () => {
    sent.length = 0;
    const r = await invoke(ops.flash, { labelId: LABELS[0]!.labelId, colour: 'blue', repeat: 3 }, test);
    expect(r).toEqual({ labelId: LABELS[0]!.labelId, apId: 'AP-1', outcome: 'sent' });
    expect(sent).toEqual([{ apId: 'AP-1', message: { type: 'LED_FLASH', labelId: LABELS[0]!.labelId, colour: LedColour.BLUE, onMs: 200, offMs: 300, repeat: 3 } }]);
    expect((await invoke(ops.flash, { labelId: '00000000000000FF' }, test)).outcome).toBe('unknown_label');
    expect((await invoke(ops.flash, { labelId: LABELS[3]!.labelId }, test)).outcome).toBe('no_ap');
    gatewayAnswer = async () => StatusCode.QUEUE_FULL;
    expect(await invoke(ops.flash, { labelId: LABELS[0]!.labelId }, test)).toMatchObject({ outcome: 'refused', detail: `AP status ${StatusCode.QUEUE_FULL}` });
    gatewayAnswer = async () => {
      throw new EslError(ErrorCode.AP_OFFLINE, 'AP AP-1 went offline');
    };
    expect(await invoke(ops.flash, { labelId: LABELS[0]!.labelId }, test)).toMatchObject({ outcome: 'ap_unreachable', detail: 'AP AP-1 went offline' });
    gatewayAnswer = async () => StatusCode.OK;
    await expect(invoke(ops.flash, { labelId: LABELS[0]!.labelId, repeat: 0 }, test)).rejects.toBeInstanceOf(ZodError);
  });

  it('pick: flashes every label of the order\'s products and lists products without a label', async () => {
    sent.length = 0;
    const r = await invoke(ops.pick, { orderId: 'CC-1', gtins: [PRODUCTS[1]!.gtin, PRODUCTS[1]!.gtin, '4000417025012'] }, test);
    expect(r.orderId).toBe('CC-1');
    expect(r.results.map((x) => [x.labelId, x.outcome])).toEqual([[LABELS[1]!.labelId, 'sent']]);
    expect(r.missingGtins).toEqual(['4000417025012']);
    expect(sent.map((s) => s.message.type)).toEqual(['LED_FLASH']);
    await expect(invoke(ops.pick, { orderId: 'CC-2', gtins: [] }, test)).rejects.toBeInstanceOf(ZodError);
  });

  it('bind / unbind: a binding event through the intake, versioned by the clock', async () => {
    const labelId = '0000AABBCC0000F0';
    clock.advance(1_000);
    const bound = await invoke(ops.bind, { labelId, gtin: PRODUCTS[2]!.gtin, template: 'price-standard' }, { via: 'http' });
    expect(bound.status).toBe('applied');
    expect(labels.get(labelId)).toMatchObject({ gtin: PRODUCTS[2]!.gtin, template: 'price-standard' });
    clock.advance(1_000);
    expect((await invoke(ops.bind, { labelId, gtin: null }, { via: 'http' })).status).toBe('applied');
    expect(labels.get(labelId)!.gtin).toBeNull();
    // Both went in as events of the caller's channel, each with a fresh id and the clock's time as version.
    const rows = await db.all<{ source: string; version: number }>("SELECT source, version FROM events WHERE id LIKE 'http-binding-0000AABBCC0000F0-%' ORDER BY version");
    expect(rows).toEqual([
      { source: 'http', version: T0 + 1_000 },
      { source: 'http', version: T0 + 2_000 },
    ]);
    await expect(invoke(ops.bind, { labelId, gtin: '123' }, test)).rejects.toBeInstanceOf(ZodError);
  });

  it('resend: queues a label that has something to send and asks the dispatcher for a pass; otherwise says why not', async () => {
    expect(await invoke(ops.resend, { labelId: '00000000000000FF' }, test)).toEqual({ labelId: '00000000000000FF', outcome: 'unknown_label' });
    const id = LABELS[0]!.labelId;
    expect((await invoke(ops.resend, { labelId: id }, test)).outcome).toBe('nothing_to_send');
    const l = labels.get(id)!;
    expect(labels.planned(id, { hash: 'ab'.repeat(8), priority: 1, now: clock.now(), seenDirty: l.dirty })).toBe(true);
    const before = kicks;
    expect((await invoke(ops.resend, { labelId: id }, test)).outcome).toBe('queued');
    expect(kicks).toBe(before + 1);
    expect(labels.get(id)).toMatchObject({ attempts: 0, forceFull: true });
  });

  it('audit: every label with its status, or one label, or one status', async () => {
    const all = await invoke(ops.audit, {}, test);
    expect(all.total).toBe(labels.size);
    expect(all.labels.map((l) => l.labelId)).toContain(LABELS[3]!.labelId);
    const one = await invoke(ops.audit, { labelId: LABELS[0]!.labelId }, test);
    expect(one.labels.map((l) => l.labelId)).toEqual([LABELS[0]!.labelId]);
    const unbound = await invoke(ops.audit, { status: 'unbound' }, test);
    expect(unbound.labels.every((l) => l.status === 'unbound')).toBe(true);
    expect(unbound.labels.map((l) => l.labelId)).toContain('0000AABBCC0000F0');
  });

  it('audit summary: the shape HQ reads, cut to the broker limit, and report: the same summary queued in the outbox', async () => {
    const s = await invoke(ops.auditSummary, {}, test);
    expect(s).toMatchObject({ chain: 'testchain', store: 'store-1', total: labels.size, id: `testchain-store-1-audit-${clock.now()}` });
    expect(s.exceptions.length + s.exceptionsOmitted).toBeGreaterThan(0);
    const { reportId } = await invoke(ops.report, {}, test);
    expect(reportId).toBe(`testchain-store-1-audit-${clock.now()}`);
    const row = await db.get<{ topic: string; payload: string }>('SELECT topic, payload FROM outbox WHERE id = ?', [reportId]);
    expect(row?.topic).toBe('out/audit');
    expect(JSON.parse(row!.payload)).toMatchObject({ id: reportId, total: labels.size });
  });
});
