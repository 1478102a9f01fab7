/**
 * D133 The send window: how many transfers may be sending to one AP at once halves when its ACKs time out and grows
 * back as transfers go through. The window alone (pure, times passed in), and
 * the dispatcher keeping to it: real sqlite file, real label and image stores and AP registry, the AP a gateway whose
 * ACKs the test gives.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { SendWindow } from '../../src/domain/dispatch/send-window.js';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { ApRegistry } from '../../src/domain/aps/ap-registry.js';
import { Dispatcher } from '../../src/domain/dispatch/dispatcher.js';
import type { ApGateway } from '../../src/domain/ports.js';
import { EdgeError } from '#contracts';
import { BLANK_HASH, WakeReason, labelTypeById, type Message, type StatusCodeValue } from '#protocol';
import { testConfig, tempDir } from '../support/edge-fixture.js';

describe('the send window', () => {
  it('stays at the AP capacity while no ACK times out', () => {
    const w = new SendWindow({ capacity: 64 });
    for (let i = 0; i < 1_000; i++) w.transferDone();
    expect(w.limit(64)).toBe(64);
  });

  it('halves once per round trip: frames sent before it shrank do not shrink it again', () => {
    let shrinks = 0;
    const w = new SendWindow({ capacity: 64, onShrink: () => shrinks++ });
    // 64 frames sent together at t=0 all time out at 10 s: one congestion, one halving.
    for (let i = 0; i < 64; i++) w.timedOut(0, 10_000 + i);
    expect(w.limit(64)).toBe(32);
    expect(shrinks).toBe(1);
    // A frame sent after the shrink times out too: the window halves again, once.
    for (let i = 0; i < 32; i++) w.timedOut(10_100, 20_100 + i);
    expect(w.limit(64)).toBe(16);
    expect(shrinks).toBe(2);
  });

  it('never goes below one, and grows back to the capacity as transfers go through', () => {
    const w = new SendWindow({ capacity: 8 });
    let t = 0;
    for (let i = 0; i < 5; i++) {
      t += 10_000;
      w.timedOut(t - 1, t);
    }
    expect(w.limit(8)).toBe(1);
    // Congestion avoidance (RFC 5681 §3.1): 1/window more per transfer, one more per window's worth: 1 → 2 → 2.5 → 2.9 → 3.24.
    w.transferDone();
    expect(w.limit(8)).toBe(2);
    w.transferDone();
    w.transferDone();
    expect(w.limit(8)).toBe(2);
    w.transferDone();
    expect(w.limit(8)).toBe(3);
    for (let i = 0; i < 100; i++) w.transferDone();
    expect(w.limit(8)).toBe(8);
  });

  it('follows a smaller capacity at once and, never shrunk, a larger one', () => {
    const w = new SendWindow({ capacity: 64 });
    expect(w.limit(16)).toBe(16);
    expect(w.limit(64)).toBe(64);
    w.timedOut(0, 10_000);
    expect(w.limit(64)).toBe(32);
    expect(w.limit(128)).toBe(32);
  });
});

/** An AP whose ACKs the test gives; it records what it was sent, in order. */
class HeldAcks implements ApGateway {
  readonly sent: Message[] = [];
  private waiting: { resolve: (s: StatusCodeValue) => void; reject: (e: Error) => void }[] = [];
  send(_apId: string, message: Message): Promise<StatusCodeValue> {
    this.sent.push(message);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  /** Every unanswered frame gets no ACK in time (what the hub reports after `dispatch.ackTimeoutMs`). */
  timeOutAll(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const p of w) p.reject(new EdgeError('AP_ACK_TIMEOUT', 'no ACK'));
  }
  get unanswered(): number {
    return this.waiting.length;
  }
}

describe('the dispatcher keeps to the send window', () => {
  const AP = 'AP-1';
  const TARGET = 'd133'.padEnd(32, '0');
  const log = createLogger({ level: 'silent' });
  /** Waits on conditions only (no timing is asserted): generous, for a loaded machine. */
  const WAIT = { timeout: 20_000, interval: 5 };
  const ids = Array.from({ length: 8 }, (_, i) => `00000000000000${(0xe0 + i).toString(16).toUpperCase()}`);
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let labels: LabelStore;
  let aps: ApRegistry;
  let dispatcher: Dispatcher | null = null;
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 8, 0));

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'edge.db'));
    labels = await LabelStore.load({ db, clock, log });
    aps = new ApRegistry(db);
    // A plain AP (no wake reports) with 8 slots: 8 transfers may start at once.
    await aps.hello(AP, { type: 'AP_HELLO', apId: AP, fwVersion: '1.0.0', protoMin: 1, protoMax: 1, capabilities: 0, channel: 11, queueCapacity: 8, maxBlockSize: 256 }, 1, clock.now());
    const images = new ImageStore({ db });
    const type = labelTypeById(3)!;
    const planes = new Uint8Array(type.width * type.height / 8 * 2).map((_, i) => (i * 2654435761) >>> 24);
    await db.transaction((tx) => images.saveMany(tx, [{ hash: TARGET, labelType: 3, planes, content: { gtin: '4006381333931', name: 'D133', priceCents: 199, currency: 'EUR' } }], clock.now()));
    for (const id of ids) {
      labels.checkin(AP, { type: 'LABEL_CHECKIN', labelId: id, labelType: 3, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: WakeReason.TIMER, pendingTransferId: 0 }, clock.now());
      labels.planned(id, { hash: TARGET, priority: 2, now: clock.now(), seenDirty: 0 });
    }
  });
  afterEach(async () => {
    dispatcher?.stop();
    dispatcher = null;
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('after its ACKs timed out, an AP gets half as many transfers at once, though its slots are free', async () => {
    const ap = new HeldAcks();
    const config = { ...testConfig(tmp.dir).dispatch, wakeLeadMs: 0 };
    dispatcher = new Dispatcher({ labels, images: new ImageStore({ db }), gateway: ap, aps, clock, random: () => 0.5, log, config });
    dispatcher.kick();
    // Every slot: eight IMAGE_BEGINs, none answered.
    await vi.waitFor(() => expect(ap.unanswered).toBe(8), WAIT);
    clock.advance(config.ackTimeoutMs);
    ap.timeOutAll();
    await vi.waitFor(() => expect(ids.every((id) => labels.get(id)!.transferState === null)).toBe(true), WAIT);
    // One congestion, one halving: the eight frames were sent together.
    expect(dispatcher.stats.windowShrinks).toBe(1);
    expect(dispatcher.stats.transfersFailed).toBe(8);
    // Past their retry backoff all eight are due again and all eight slots are free; four go.
    clock.advance(config.retryMaxMs);
    await vi.waitFor(() => expect(ap.unanswered).toBe(4), WAIT);
    dispatcher.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(ap.unanswered).toBe(4);
    expect(ap.sent.filter((m) => m.type === 'IMAGE_BEGIN')).toHaveLength(12);
  });

  it('a new session of the AP (AP_HELLO) starts with a full window again', async () => {
    const ap = new HeldAcks();
    const config = { ...testConfig(tmp.dir).dispatch, wakeLeadMs: 0 };
    dispatcher = new Dispatcher({ labels, images: new ImageStore({ db }), gateway: ap, aps, clock, random: () => 0.5, log, config });
    dispatcher.kick();
    await vi.waitFor(() => expect(ap.unanswered).toBe(8), WAIT);
    clock.advance(config.ackTimeoutMs);
    ap.timeOutAll();
    await vi.waitFor(() => expect(dispatcher!.stats.transfersFailed).toBe(8), WAIT);
    expect(dispatcher.stats.windowShrinks).toBe(1);
    await dispatcher.apRestarted(AP);
    clock.advance(config.retryMaxMs);
    await vi.waitFor(() => expect(ap.unanswered).toBe(8), WAIT);
    expect(ap.sent.filter((m) => m.type === 'IMAGE_BEGIN')).toHaveLength(16);
  });
});
