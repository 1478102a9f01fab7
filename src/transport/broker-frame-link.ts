/**
 * APs on the embedded broker, read and written in process (protocol §11 topics and QoS, D103).
 *
 * With the embedded broker (aedes) the edge used to reach its own APs through an MQTT client over loopback TCP
 * (mqtt-frame-link.ts): every AP frame was parsed by aedes, written again to the edge's socket and parsed a second
 * time by MQTT.js, and every frame to an AP went the same way back. In a repricing that is a frame per block, its
 * ACK, every check-in, result and wake report: about a seventh of the edge's busy time (D103's profile). Here the
 * link subscribes to the broker's own message bus and publishes into it, so a frame is parsed once, by aedes, on its
 * way in and serialised once on its way out. What the APs see is unchanged: their PUBLISHes are acknowledged by the
 * broker at QoS 1 as before (MQTT 3.1.1 §4.3.2), and the edge's frames reach each AP's subscription at QoS 1.
 * The edge and the embedded broker live and die together, so no persistent session is needed on this path; an AP's
 * last will "offline" (§11) is delivered live like any other message. An external broker keeps the client link.
 */
import { apTopics, encodeFrame, type Frame } from '#protocol';
import type { Logger } from '../core/logger.js';
import { loopMs, type LoopTaskTiming } from '../core/loop-tasks.js';
import type { FrameLink, FrameSink } from './frame-link.js';
import { DOWNLINK_HIGH, DOWNLINK_LOW, deliverApMessage } from './mqtt-frame-link.js';

/** A published message as the broker's bus delivers it. */
export interface BusMessage {
  topic: string;
  payload: Buffer | string;
}

/** The embedded broker's message bus (aedes' subscribe/unsubscribe/publish), in process. */
export interface InProcessBus {
  subscribe(topic: string, deliver: (packet: BusMessage, done: () => void) => void, subscribed: () => void): void;
  unsubscribe(topic: string, deliver: (packet: BusMessage, done: () => void) => void, unsubscribed: () => void): void;
  /** Publishes `payload` to `topic` at QoS 1 (not retained), as the broker itself. */
  publish(topic: string, payload: Buffer, done: (err?: Error) => void): void;
}

export class BrokerFrameLink implements FrameLink {
  readonly name = 'mqtt';
  /** The broker delivers to each AP's QoS 1 subscription (MQTT 3.1.1 §4.3.2): redelivered while it is connected. */
  readonly reliable = true;
  private sink: FrameSink | null = null;
  /** Frames published to the APs whose publish is not done yet (D98). */
  private inFlight = 0;
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly topics: string[];
  private readonly deliver = (packet: BusMessage, done: () => void): void => {
    const t0 = loopMs();
    try {
      this.handle(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
    } finally {
      this.loopTasks?.add('ap_frame', loopMs() - t0);
      // Not synchronously: the bus then hands over its next queued message from inside this call, and a backlog
      // (the APs' sockets slower than the edge) recursed until the stack overflowed.
      queueMicrotask(done);
    }
  };

  constructor(
    private readonly bus: InProcessBus,
    private readonly chain: string,
    private readonly store: string,
    private readonly log: Logger,
    /** D147: how long each AP frame's handling held the loop (the hub and what it calls synchronously). */
    private readonly loopTasks?: LoopTaskTiming,
  ) {
    const root = `esl/${chain}/${store}/ap/+`;
    this.topics = [`${root}/up`, `${root}/status`];
  }

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    for (const t of this.topics) await new Promise<void>((resolve) => this.bus.subscribe(t, this.deliver, resolve));
  }

  private handle(topic: string, payload: Buffer): void {
    if (this.sink) deliverApMessage(this, this.sink, this.chain, this.store, topic, payload);
  }

  send(apId: string, frame: Frame): Promise<void> {
    this.inFlight++;
    return new Promise<void>((resolve, reject) => {
      this.bus.publish(apTopics(this.chain, this.store, apId).down, Buffer.from(encodeFrame(frame)), (err) => {
        this.inFlight--;
        if (this.drained && this.inFlight <= DOWNLINK_LOW) {
          this.drained.resolve();
          this.drained = null;
        }
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * D98 on this link: the broker calls a publish done once every AP's socket has taken the frame (aedes waits for a
   * full socket to drain), so the frames not yet done are the ones slow APs have not read. At DOWNLINK_HIGH of them
   * the broker holds back the APs' own frames (setUplinkGate) until DOWNLINK_LOW remain: the edge stops taking work
   * it cannot answer, and the frames wait at the APs instead of in the edge's memory.
   */
  backlog(): Promise<void> | null {
    if (this.inFlight < DOWNLINK_HIGH) return null;
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  async stop(): Promise<void> {
    for (const t of this.topics) await new Promise<void>((resolve) => this.bus.unsubscribe(t, this.deliver, resolve));
    this.sink = null;
    this.log.debug({ evt: 'aplink.stopped', link: this.name }, 'AP link stopped');
  }
}
