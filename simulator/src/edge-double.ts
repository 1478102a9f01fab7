/**
 * A minimal edge that speaks the real protocol over MQTT with the real codec, and the embedded aedes broker it talks
 * through: what plays the edge's role for the simulator's tests (test/simulator/) and its scale check (scale-check.ts).
 * One fake edge for both (issue 15); it builds transfers with the protocol package's encoder (transfer-messages.ts).
 */
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import {
  ACK_REQUESTED,
  SeqCounter,
  StatusCode,
  apTopics,
  decodeFrame,
  edgeSubscriptions,
  encodeFrame,
  negotiateVersion,
  parseApTopic,
  imageBeginMessage,
  imageBlockMessages,
  type EncodedImage,
  type Frame,
  type Message,
  type MessageName,
  type MessageOf,
  type StatusCodeValue,
} from '#protocol';


export interface Broker {
  url: string;
  close(): Promise<void>;
}

/** The broker side of every connection of the brokers started here: brokerTraffic() counts their bytes. */
const brokerSockets = new Set<net.Socket>();

export async function startBroker(): Promise<Broker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    brokerSockets.add(socket);
    socket.once('close', () => brokerSockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Bytes moved and buffered on the brokers' sockets so far (test/simulator/edge-double.ts settles on it). */
export function brokerTraffic(): number {
  let n = brokerSockets.size;
  for (const s of brokerSockets) n += s.bytesRead + s.bytesWritten + s.writableLength;
  return n;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Wall limit of the waits for frames: a safety net against a hung run, never a verdict (D53). Frames cross the
 * loopback broker in this process; a machine loaded with other work can stretch that to seconds.
 */
const HANG_GUARD_MS = 60_000;
export interface Received {
  apId: string;
  frame: Frame;
  /** Simulated time of receipt (the edge's serverTimeMs clock). */
  at: number;
}

export interface EdgeDoubleOptions {
  chain: string;
  store: string;
  /** Answer AP_HELLO with EDGE_HELLO (default true). */
  autoHello?: boolean;
  /** ACK every ackRequested frame from an AP (default true). */
  autoAck?: boolean;
  serverTimeMs: () => number;
  heartbeatIntervalS?: number;
  checkinReportIntervalS?: number;
  /** Keep every received frame in `received` (default true; the scale check counts them in onFrame instead). */
  keepReceived?: boolean;
  /** Called with every frame received from an AP. */
  onFrame?: (r: Received) => void;
}

export class EdgeDouble {
  readonly received: Received[] = [];
  readonly statuses = new Map<string, string>();
  autoAck: boolean;
  private readonly seqs = new Map<string, SeqCounter>();
  private readonly waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly opts: EdgeDoubleOptions,
  ) {
    this.autoAck = opts.autoAck ?? true;
  }

  static async connect(url: string, opts: EdgeDoubleOptions): Promise<EdgeDouble> {
    const client = await mqtt.connectAsync(url, { clientId: `edge-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0 });
    (client.stream as net.Socket).setNoDelay(true);
    const edge = new EdgeDouble(client, opts);
    const subs = edgeSubscriptions(opts.chain, opts.store);
    client.on('message', (topic, payload) => edge.onMessage(topic, payload));
    await client.subscribeAsync([subs.up, subs.status], { qos: 1 });
    return edge;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  /** Messages of one type received so far (optionally from one AP). */
  messages<T extends MessageName>(type: T, apId?: string): MessageOf<T>[] {
    return this.received
      .filter((r) => r.frame.message.type === type && (apId === undefined || r.apId === apId))
      .map((r) => r.frame.message as MessageOf<T>);
  }

  /** Sends a message to an AP; returns the frame's seq. */
  send(apId: string, message: Message, seq?: number): number {
    const counter = this.seqs.get(apId) ?? new SeqCounter(1000);
    this.seqs.set(apId, counter);
    const s = seq ?? counter.next();
    const frame: Frame = { version: 1, seq: s, ackRequested: ACK_REQUESTED[message.type], message };
    this.client.publish(apTopics(this.opts.chain, this.opts.store, apId).down, Buffer.from(encodeFrame(frame)), { qos: 1 });
    return s;
  }

  /** Sends a message and waits for the AP's ACK of it. */
  async request(apId: string, message: Message, seq?: number): Promise<StatusCodeValue> {
    const s = this.send(apId, message, seq);
    return this.ackOf(apId, s);
  }

  async ackOf(apId: string, seq: number): Promise<StatusCodeValue> {
    const r = await this.waitFor((x) => x.apId === apId && x.frame.message.type === 'ACK' && x.frame.message.ackSeq === seq);
    return (r.frame.message as MessageOf<'ACK'>).status;
  }

  /** IMAGE_BEGIN + IMAGE_BLOCKs of an encoded image; resolves with the ACK statuses (BEGIN first). */
  async stage(
    apId: string,
    t: { transferId: number; labelId: string; labelType: number; image: EncodedImage; displayAt?: number; page?: number },
  ): Promise<StatusCodeValue[]> {
    const { image, ...header } = t;
    const statuses = [await this.request(apId, imageBeginMessage(header, image))];
    for (const block of imageBlockMessages(t.transferId, image.payload)) statuses.push(await this.request(apId, block));
    return statuses;
  }

  /** Waits until `n` received frames match `pred`. The wall limit only guards against a hung run (D53). */
  async waitForCount(pred: (r: Received) => boolean, n: number, timeoutMs = HANG_GUARD_MS): Promise<Received[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter(pred);
      if (hits.length >= n) return hits;
      if (Date.now() > end) throw new Error(`timed out waiting for ${n} frames (got ${hits.length})`);
      await delay(5);
    }
  }

  /**
   * Resolves with the first received frame matching `pred` (frames received before the call included if
   * includePast). The wall limit only guards against a hung run (D53).
   */
  waitFor(pred: (r: Received) => boolean, timeoutMs = HANG_GUARD_MS, includePast = true): Promise<Received> {
    if (includePast) {
      const past = this.received.find(pred);
      if (past !== undefined) return Promise.resolve(past);
    }
    return new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error('timed out waiting for a frame from an AP'));
      }, timeoutMs);
      const done = (r: Received): void => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseApTopic(topic);
    if (t === null) return;
    if (t.dir === 'status') {
      this.statuses.set(t.apId, payload.toString('utf8'));
      return;
    }
    if (t.dir !== 'up') return;
    const decoded = decodeFrame(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    if (!decoded.ok) throw new Error(`AP ${t.apId} sent an undecodable frame: ${decoded.error.code}`);
    const r: Received = { apId: t.apId, frame: decoded.frame, at: this.opts.serverTimeMs() };
    if (this.opts.keepReceived ?? true) this.received.push(r);
    this.opts.onFrame?.(r);
    const m = decoded.frame.message;
    if (m.type === 'AP_HELLO' && (this.opts.autoHello ?? true)) {
      this.send(t.apId, {
        type: 'EDGE_HELLO',
        version: negotiateVersion(m.protoMin, m.protoMax) ?? 1,
        serverTimeMs: this.opts.serverTimeMs(),
        heartbeatIntervalS: this.opts.heartbeatIntervalS ?? 30,
        checkinReportIntervalS: this.opts.checkinReportIntervalS ?? 300,
      });
    }
    if (decoded.frame.ackRequested && this.autoAck) this.send(t.apId, { type: 'ACK', ackSeq: decoded.frame.seq, status: StatusCode.OK });
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.pred(r)) {
        this.waiters.splice(i, 1);
        w.resolve(r);
      }
    }
  }
}
