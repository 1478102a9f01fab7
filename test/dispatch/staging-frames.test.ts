/**
 * How a transfer's frames go to its AP (protocol §7.1, §7.3): IMAGE_BEGIN, then each IMAGE_BLOCK once the frame
 * before it is ACKed (sending them together was measured and not kept, docs/decisions.md D130); the label's transfer
 * is staged when every frame is ACKed OK, and a NACK of IMAGE_BEGIN decides what happens to it. Real sqlite file, real
 * label and image stores and AP registry, the dispatcher itself; the AP is a gateway whose ACKs the test gives.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { ApRegistry } from '../../src/domain/aps/ap-registry.js';
import { Dispatcher } from '../../src/domain/dispatch/dispatcher.js';
import type { ApGateway } from '../../src/domain/ports.js';
import { BLANK_HASH, StatusCode, WakeReason, labelTypeById, type Message, type StatusCodeValue } from '#protocol';
import { testConfig, tempDir } from '../support/edge-fixture.js';

const LABEL = '00000000000000D1';
const AP = 'AP-1';
const TARGET = 'd130'.padEnd(32, '0');
const log = createLogger({ level: 'silent' });
/** Waits on conditions only (no timing is asserted): generous, for a loaded machine. */
const WAIT = { timeout: 20_000, interval: 5 };

/** An AP whose ACKs the test gives, frame by frame; it records what it was sent, in order. */
class HeldAcks implements ApGateway {
  readonly sent: Message[] = [];
  private readonly waiting: ((s: StatusCodeValue) => void)[] = [];
  send(_apId: string, message: Message): Promise<StatusCodeValue> {
    this.sent.push(message);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  /** ACKs the oldest frame not yet answered. */
  answer(status: StatusCodeValue): void {
    this.waiting.shift()!(status);
  }
  get unanswered(): number {
    return this.waiting.length;
  }
}

describe('the frames of a transfer', () => {
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
    // A plain AP (no wake reports, no CTX) whose blocks are at most 256 bytes: a full picture takes several.
    await aps.hello(AP, { type: 'AP_HELLO', apId: AP, fwVersion: '1.0.0', protoMin: 1, protoMax: 1, capabilities: 0, channel: 11, queueCapacity: 8, maxBlockSize: 256 }, 1, clock.now());
    const images = new ImageStore({ db });
    const type = labelTypeById(3)!;
    // A picture with some structure, so that no encoding makes it fit one block.
    const planes = new Uint8Array(type.width * type.height / 8 * 2).map((_, i) => (i * 2654435761) >>> 24);
    await db.transaction((tx) => images.saveMany(tx, [{ hash: TARGET, labelType: 3, planes, content: { gtin: '4006381333931', name: 'D130', priceCents: 199, currency: 'EUR' } }], clock.now()));
    labels.checkin(AP, { type: 'LABEL_CHECKIN', labelId: LABEL, labelType: 3, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: WakeReason.TIMER, pendingTransferId: 0 }, clock.now());
    labels.planned(LABEL, { hash: TARGET, priority: 2, now: clock.now(), seenDirty: 0 });
  });
  afterEach(async () => {
    dispatcher?.stop();
    dispatcher = null;
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  const start = (gateway: HeldAcks): void => {
    const config = testConfig(tmp.dir).dispatch;
    dispatcher = new Dispatcher({ labels, images: new ImageStore({ db }), gateway, aps, clock, random: () => 0.5, log, config });
    dispatcher.kick();
  };

  it('sends each frame once the one before is ACKed, and stages the transfer when all are OK', async () => {
    const ap = new HeldAcks();
    start(ap);
    const staged = () => labels.get(LABEL)!.transferState === 'staged';
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
    await vi.waitFor(() => expect(labels.get(LABEL)!.transferState).toBeNull(), WAIT);
    expect(labels.get(LABEL)!.attempts).toBe(0);
    expect(aps.get(AP)!.backoffUntil).toBeGreaterThan(clock.now());
    expect(ap.sent.map((m) => m.type)).toEqual(['IMAGE_BEGIN']);
    expect(dispatcher!.stats.transfersStaged).toBe(0);
    expect(dispatcher!.stats.transfersFailed).toBe(0);
  });
});
