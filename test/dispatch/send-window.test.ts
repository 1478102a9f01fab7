/**
 * D133 The send window: how many transfers may be sending to one AP at once halves when its ACKs time out and grows
 * back as transfers go through. The window alone (pure, times passed in), and the dispatcher keeping to it: real
 * sqlite file, real label and image stores and AP registry, the AP a gateway whose ACKs the test gives.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SendWindow } from '../../src/domain/dispatch/send-window.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { Dispatcher } from '../../src/domain/dispatch/dispatcher.js';
import { testConfig } from '../support/edge-fixture.js';
import { HeldAcks, openHeldApStore, type HeldApStore } from './held-ap-store.js';

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

describe('the dispatcher keeps to the send window', () => {
  const AP = 'AP-1';
  const log = createLogger({ level: 'silent' });
  /** Waits on conditions only (no timing is asserted): generous, for a loaded machine. */
  const WAIT = { timeout: 20_000, interval: 5 };
  const ids = Array.from({ length: 8 }, (_, i) => `00000000000000${(0xe0 + i).toString(16).toUpperCase()}`);
  let store: HeldApStore;
  let dispatcher: Dispatcher | null = null;
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 8, 0));

  beforeEach(async () => {
    // A plain AP with 8 slots: 8 transfers may start at once.
    store = await openHeldApStore({ clock, log, apId: AP, queueCapacity: 8, labelIds: ids, hash: 'd133'.padEnd(32, '0'), name: 'D133' });
  });
  afterEach(async () => {
    dispatcher?.stop();
    dispatcher = null;
    await store.close();
  });

  /** Starts the dispatcher: eight IMAGE_BEGINs, one per slot, whose ACKs all time out — one congestion, one halving. */
  const startAndTimeOut = async () => {
    const ap = new HeldAcks();
    const config = { ...testConfig(store.dir).dispatch, wakeLeadMs: 0 };
    const d = new Dispatcher({ labels: store.labels, images: new ImageStore({ db: store.db }), gateway: ap, aps: store.aps, clock, random: () => 0.5, log, config });
    dispatcher = d;
    d.kick();
    await vi.waitFor(() => expect(ap.unanswered).toBe(8), WAIT);
    clock.advance(config.ackTimeoutMs);
    ap.timeOutAll();
    await vi.waitFor(() => expect(ids.every((id) => store.labels.get(id)!.transferState === null)).toBe(true), WAIT);
    expect(d.stats.transfersFailed).toBe(8);
    expect(d.stats.windowShrinks).toBe(1);
    return { ap, config, d };
  };

  it('after its ACKs timed out, an AP gets half as many transfers at once, though its slots are free', async () => {
    const { ap, config, d } = await startAndTimeOut();
    // Past their retry backoff all eight are due again and all eight slots are free; four go.
    clock.advance(config.retryMaxMs);
    await vi.waitFor(() => expect(ap.unanswered).toBe(4), WAIT);
    d.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(ap.unanswered).toBe(4);
    expect(ap.sent.filter((m) => m.type === 'IMAGE_BEGIN')).toHaveLength(12);
  });

  it('a new session of the AP (AP_HELLO) starts with a full window again', async () => {
    const { ap, config, d } = await startAndTimeOut();
    await d.apRestarted(AP);
    clock.advance(config.retryMaxMs);
    await vi.waitFor(() => expect(ap.unanswered).toBe(8), WAIT);
    expect(ap.sent.filter((m) => m.type === 'IMAGE_BEGIN')).toHaveLength(16);
  });
});
