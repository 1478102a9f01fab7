/**
 * How a transfer's frames go to its AP (protocol §7.1, §7.3): IMAGE_BEGIN, then each IMAGE_BLOCK once the frame
 * before it is ACKed (sending them together was measured and not kept, docs/decisions.md D130); the label's transfer
 * is staged when every frame is ACKed OK, and a NACK of IMAGE_BEGIN decides what happens to it. Real sqlite file, real
 * label and image stores and AP registry, the dispatcher itself; the AP is a gateway whose ACKs the test gives.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { Dispatcher } from '../../src/domain/dispatch/dispatcher.js';
import { StatusCode } from '#protocol';
import { testConfig } from '../support/edge-fixture.js';
import { HeldAcks, openHeldApStore, type HeldApStore } from './held-ap-store.js';

const LABEL = '00000000000000D1';
const AP = 'AP-1';
const TARGET = 'd130'.padEnd(32, '0');
const log = createLogger({ level: 'silent' });
/** Waits on conditions only (no timing is asserted): generous, for a loaded machine. */
const WAIT = { timeout: 20_000, interval: 5 };

describe('the frames of a transfer', () => {
  let store: HeldApStore;
  let dispatcher: Dispatcher | null = null;
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 8, 0));

  beforeEach(async () => {
    store = await openHeldApStore({ clock, log, apId: AP, queueCapacity: 8, labelIds: [LABEL], hash: TARGET, name: 'D130' });
  });
  afterEach(async () => {
    dispatcher?.stop();
    dispatcher = null;
    await store.close();
  });

  const start = (gateway: HeldAcks): void => {
    const config = testConfig(store.dir).dispatch;
    dispatcher = new Dispatcher({ labels: store.labels, images: new ImageStore({ db: store.db }), gateway, aps: store.aps, clock, random: () => 0.5, log, config });
    dispatcher.kick();
  };

  it('sends each frame once the one before is ACKed, and stages the transfer when all are OK', async () => {
    const ap = new HeldAcks();
    start(ap);
    const staged = () => store.labels.get(LABEL)!.transferState === 'staged';
    let answered = 0;
    for (;;) {
      // The next frame comes only after the ACK of the one before: never two unanswered.
      await vi.waitFor(() => expect(ap.sent.length > answered || staged()).toBe(true), WAIT);
      if (staged()) break;
      expect(ap.unanswered).toBe(1);
      expect(ap.sent[answered]!.type).toBe(answered === 0 ? 'IMAGE_BEGIN' : 'IMAGE_BLOCK');
      ap.answer(StatusCode.OK);
      answered++;
    }
    expect(answered).toBe(ap.sent.length);
    expect(answered).toBeGreaterThan(2);
    expect(dispatcher!.stats.transfersStaged).toBe(1);
    expect(dispatcher!.stats.bytesSent).toBe(ap.sent.reduce((n, m) => n + (m.type === 'IMAGE_BLOCK' ? m.data.length : 0), 0));
  });

  it('a NACKed IMAGE_BEGIN decides: QUEUE_FULL backs the AP off, sends no block and counts no attempt', async () => {
    const ap = new HeldAcks();
    start(ap);
    await vi.waitFor(() => expect(ap.sent).toHaveLength(1), WAIT);
    ap.answer(StatusCode.QUEUE_FULL);
    await vi.waitFor(() => expect(store.labels.get(LABEL)!.transferState).toBeNull(), WAIT);
    expect(store.labels.get(LABEL)!.attempts).toBe(0);
    expect(store.aps.get(AP)!.backoffUntil).toBeGreaterThan(clock.now());
    expect(ap.sent.map((m) => m.type)).toEqual(['IMAGE_BEGIN']);
    expect(dispatcher!.stats.transfersStaged).toBe(0);
    expect(dispatcher!.stats.transfersFailed).toBe(0);
  });
});
