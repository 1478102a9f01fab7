/**
 * APs on MQTT (protocol §11): one binary frame per message, QoS 1, on esl/{chain}/{store}/ap/{apId}/up|down, and
 * the retained status "online"/"offline" (the AP's last will) on .../status.
 */
import type { MqttClient } from 'mqtt';
import { apTopics, decodeFrame, encodeFrame, parseApTopic, type Frame } from '#protocol';
import type { Logger } from '../core/logger.js';
import type { FrameLink, FrameSink } from './frame-link.js';

/**
 * §11 One message on an AP's topics, for either link: `up` is a frame for the sink, `status` "offline" the AP's last
 * will (its link is down); anything else, or another store's topic, is ignored.
 */
export function deliverApMessage(link: FrameLink, sink: FrameSink, chain: string, store: string, topic: string, payload: Buffer): void {
  const t = parseApTopic(topic);
  if (!t || t.chain !== chain || t.store !== store) return;
  if (t.dir === 'status') {
    if (payload.toString('utf8') === 'offline') sink.linkDown(link, t.apId);
    return;
  }
  if (t.dir !== 'up') return;
  sink.frame(link, t.apId, decodeFrame(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)));
}

/**
 * Frames published and not yet acknowledged by the broker (PUBACK, MQTT 3.1.1 §4.3.2), at most (D98). The rest wait
 * here, in order, as their encoded bytes. Unbounded, a 50,000-label store's first check-ins put ~62,000 ACK frames in
 * flight at once (each a mqtt.js packet, its outgoing entry and callbacks, a promise and a suspended async send,
 * ~1 kB), and the broker, which reads a client's packets in order and finishes each PUBLISH only when it could write
 * it to the AP, had the edge's PUBACKs for ~72,000 frames from the APs queued behind them: it kept those frames too,
 * in a list it scans on every delivery. 256 are ten AP queues' worth of transfers and keep the connection busy.
 */
export const DOWNLINK_WINDOW = 256;
/**
 * Frames waiting for the window at which the link asks the APs to hold back (`backlog()`, D98), and the mark they may
 * send again at. Every frame from an AP is answered with an ACK frame (§7.1), so while the APs send faster than they
 * take frames, the waiting list would grow without bound (bench/mqtt-downlink: 85,000 frames, ~90 MB of heap).
 */
export const DOWNLINK_HIGH = 2_048;
export const DOWNLINK_LOW = 512;

interface Waiting {
  topic: string;
  bytes: Buffer;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class MqttFrameLink implements FrameLink {
  readonly name = 'mqtt';
  readonly reliable = true;
  private sink: FrameSink | null = null;
  private readonly onMessage = (topic: string, payload: Buffer) => this.handle(topic, payload);
  /** One down topic string per AP (a frame no longer builds its own). */
  private readonly downTopics = new Map<string, string>();
  private inFlight = 0;
  /** FIFO of frames beyond the window; `head` is the next one (shifting a long array would copy it each time). */
  private waiting: (Waiting | undefined)[] = [];
  private head = 0;
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly client: MqttClient,
    private readonly chain: string,
    private readonly store: string,
    private readonly log: Logger,
    private readonly window = DOWNLINK_WINDOW,
    private readonly marks: { high: number; low: number } = { high: DOWNLINK_HIGH, low: DOWNLINK_LOW },
  ) {}

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    this.client.on('message', this.onMessage);
    const root = `esl/${this.chain}/${this.store}/ap/+`;
    await this.client.subscribeAsync([`${root}/up`, `${root}/status`], { qos: 1 });
  }

  private handle(topic: string, payload: Buffer): void {
    if (this.sink) deliverApMessage(this, this.sink, this.chain, this.store, topic, payload);
  }

  /** Resolves when the broker acknowledged the frame (as before D98); frames leave in the order they were sent. */
  send(apId: string, frame: Frame): Promise<void> {
    let topic = this.downTopics.get(apId);
    if (topic === undefined) this.downTopics.set(apId, (topic = apTopics(this.chain, this.store, apId).down));
    let encoded: Uint8Array;
    try {
      encoded = encodeFrame(frame);
    } catch (err) {
      return Promise.reject(err);
    }
    // encodeFrame returns a fresh array: the Buffer can share its memory.
    const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    if (this.inFlight < this.window && this.head === this.waiting.length) return this.publish(topic, bytes);
    return new Promise<void>((resolve, reject) => this.waiting.push({ topic, bytes, resolve, reject }));
  }

  /** Frames published and not yet acknowledged, and frames waiting for the window (metrics, tests). */
  get downlink(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length - this.head };
  }

  /**
   * Null while the APs may send; else a promise that resolves once the frames waiting for the window fell to the low
   * mark. The embedded broker holds back frames from the APs until then (embedded-broker.ts `setUplinkGate`): it
   * reads an AP's next packets only after it has finished its last ones, so the frames wait at the APs.
   */
  backlog(): Promise<void> | null {
    if (this.waiting.length - this.head < this.marks.high) return null;
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  private publish(topic: string, bytes: Buffer): Promise<void> {
    this.inFlight++;
    return this.client.publishAsync(topic, bytes, { qos: 1 }).then(
      () => this.done(),
      (err: unknown) => {
        this.done();
        throw err;
      },
    );
  }

  private done(): void {
    this.inFlight--;
    while (this.inFlight < this.window && this.head < this.waiting.length) {
      const w = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      this.publish(w.topic, w.bytes).then(w.resolve, w.reject);
    }
    if (this.drained && this.waiting.length - this.head <= this.marks.low) {
      this.drained.resolve();
      this.drained = null;
    }
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 4_096 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  async stop(): Promise<void> {
    this.client.off('message', this.onMessage);
    this.sink = null;
    // Frames not yet handed to the client fail as a send to a gone AP does; those in flight stay with mqtt.js.
    const left = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    for (const w of left) w?.reject(new Error('AP link stopped'));
    this.drained?.resolve();
    this.drained = null;
    this.log.debug({ evt: 'aplink.stopped', link: this.name }, 'AP link stopped');
  }
}
