/**
 * A store for tests of the dispatcher's send path: a real sqlite file with the label and image stores and the AP
 * registry, one plain AP (no wake reports, no CTX, blocks of at most 256 bytes) and labels that checked in blank and
 * were planned one picture with some structure, so that no encoding makes it fit one block; and that AP, as a gateway
 * whose ACKs the test gives.
 */
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import type { ManualClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { ApRegistry } from '../../src/domain/aps/ap-registry.js';
import type { ApGateway } from '../../src/domain/ports.js';
import { EdgeError } from '#contracts';
import { BLANK_HASH, WakeReason, labelTypeById, type Message, type StatusCodeValue } from '#protocol';
import { tempDir } from '../support/edge-fixture.js';

export interface HeldApStore {
  dir: string;
  db: Database;
  labels: LabelStore;
  aps: ApRegistry;
  close(): Promise<void>;
}

export async function openHeldApStore(opts: { clock: ManualClock; log: Logger; apId: string; queueCapacity: number; labelIds: readonly string[]; hash: string; name: string }): Promise<HeldApStore> {
  const { clock, log, apId } = opts;
  const tmp = tempDir();
  const db = await Database.open(join(tmp.dir, 'edge.db'));
  const labels = await LabelStore.load({ db, clock, log });
  const aps = new ApRegistry(db);
  await aps.hello(apId, { type: 'AP_HELLO', apId, fwVersion: '1.0.0', protoMin: 1, protoMax: 1, capabilities: 0, channel: 11, queueCapacity: opts.queueCapacity, maxBlockSize: 256 }, 1, clock.now());
  const images = new ImageStore({ db });
  const type = labelTypeById(3)!;
  const planes = new Uint8Array(type.width * type.height / 8 * 2).map((_, i) => (i * 2654435761) >>> 24);
  await db.transaction((tx) => images.saveMany(tx, [{ hash: opts.hash, labelType: 3, planes, content: { gtin: '4006381333931', name: opts.name, priceCents: 199, currency: 'EUR' } }], clock.now()));
  for (const id of opts.labelIds) {
    labels.checkin(apId, { type: 'LABEL_CHECKIN', labelId: id, labelType: 3, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: WakeReason.TIMER, pendingTransferId: 0 }, clock.now());
    labels.planned(id, { hash: opts.hash, priority: 2, now: clock.now(), seenDirty: 0 });
  }
  return {
    dir: tmp.dir,
    db,
    labels,
    aps,
    close: async () => {
      await labels.stop();
      await db.close();
      tmp.remove();
    },
  };
}

/** An AP whose ACKs the test gives, frame by frame; it records what it was sent, in order. */
export class HeldAcks implements ApGateway {
  readonly sent: Message[] = [];
  private waiting: { resolve: (s: StatusCodeValue) => void; reject: (e: Error) => void }[] = [];
  send(_apId: string, message: Message): Promise<StatusCodeValue> {
    this.sent.push(message);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  /** ACKs the oldest frame not yet answered. */
  answer(status: StatusCodeValue): void {
    this.waiting.shift()!.resolve(status);
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
