/**
 * The serial transport end to end over a real pseudo-terminal pair (protocol §12): SerialFrameLink + ApHub on the
 * edge's pty, and on the other pty a fake AP written here with `serialport` and the codec's line encoding. Real
 * ptys, real timers (kept short), the real hub; only the domain behind ApInbound is replaced by a recorder.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import {
  ACK_REQUESTED,
  BLANK_HASH,
  ImageEncoding,
  ImageKind,
  SeqCounter,
  StatusCode,
  crc32,
  decodeLine,
  encodeFrame,
  encodeLine,
  type Frame,
  type Message,
  type MessageOf,
  type StatusCodeValue,
} from '#protocol';
import { imageBeginMessage } from '#protocol';
import { ApHub } from '../../src/transport/ap-hub.js';
import { SerialFrameLink } from '../../src/transport/serial-frame-link.js';
import type { ApInbound } from '../../src/domain/ports.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { EdgeError } from '#contracts';
import { openPtyPair, type PtyPair } from '../support/pty-pair.js';

const AP_ID = 'AP-S1';
const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const LABEL = 'A4C138F0000B1E42';
const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the domain side: records what the hub delivers ---------------------------------------------------

type InboundCall =
  | { method: 'apHello'; apId: string; message: MessageOf<'AP_HELLO'>; version: number }
  | { method: 'apHeartbeat'; apId: string; message: MessageOf<'AP_HEARTBEAT'> }
  | { method: 'apOffline'; apId: string }
  | { method: 'labelCheckin'; apId: string; message: MessageOf<'LABEL_CHECKIN'> }
  | { method: 'transferResult'; apId: string; message: MessageOf<'TRANSFER_RESULT'> }
  | { method: 'sensorValue'; apId: string; message: MessageOf<'SENSOR_VALUE'> };

class RecordingInbound implements ApInbound {
  readonly calls: InboundCall[] = [];
  /** Status returned for frames that asked for an ACK; OK unless a test says otherwise. */
  status: (m: Message) => StatusCodeValue = () => StatusCode.OK;
  /** Simulated domain latency, so that a duplicate can arrive while the original is still being handled. */
  delayMs = 0;

  of<M extends InboundCall['method']>(method: M): Extract<InboundCall, { method: M }>[] {
    return this.calls.filter((c): c is Extract<InboundCall, { method: M }> => c.method === method);
  }

  async waitFor<M extends InboundCall['method']>(method: M, count = 1, timeoutMs = 30_000): Promise<Extract<InboundCall, { method: M }>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.of(method).length < count) {
      if (Date.now() > deadline) throw new Error(`inbound.${method} called ${this.of(method).length} times, expected ${count}`);
      await sleep(5);
    }
    return this.of(method);
  }

  private async answer(m: Message): Promise<StatusCodeValue> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.status(m);
  }

  async apHello(apId: string, message: MessageOf<'AP_HELLO'>, version: number): Promise<void> {
    this.calls.push({ method: 'apHello', apId, message, version });
  }
  async apHeartbeat(apId: string, message: MessageOf<'AP_HEARTBEAT'>): Promise<void> {
    this.calls.push({ method: 'apHeartbeat', apId, message });
  }
  async apOffline(apId: string): Promise<void> {
    this.calls.push({ method: 'apOffline', apId });
  }
  async labelCheckin(apId: string, message: MessageOf<'LABEL_CHECKIN'>): Promise<StatusCodeValue> {
    this.calls.push({ method: 'labelCheckin', apId, message });
    return this.answer(message);
  }
  async transferResult(apId: string, message: MessageOf<'TRANSFER_RESULT'>): Promise<StatusCodeValue> {
    this.calls.push({ method: 'transferResult', apId, message });
    return this.answer(message);
  }
  async sensorValue(apId: string, message: MessageOf<'SENSOR_VALUE'>): Promise<StatusCodeValue> {
    this.calls.push({ method: 'sensorValue', apId, message });
    return this.answer(message);
  }
}

// ---- the AP side: a fake AP on the other pty ------------------------------------------------------------

interface Received {
  frame: Frame;
  at: number;
  line: string;
}

class FakeAp {
  readonly received: Received[] = [];
  readonly undecodable: string[] = [];
  readonly seq = new SeqCounter(100);
  private readonly taken = new Set<Received>();

  private constructor(private readonly port: SerialPort) {
    const parser = port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
    parser.on('data', (line: string) => {
      const r = decodeLine(line);
      if (r.ok) this.received.push({ frame: r.frame, at: Date.now(), line });
      else this.undecodable.push(line);
    });
    // The pty vanishes when socat is killed; the fake AP just stops hearing anything.
    port.on('error', () => undefined);
  }

  static async open(path: string): Promise<FakeAp> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new FakeAp(port);
  }

  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.write(data, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve) => this.port.drain(() => resolve()));
  }

  /** Sends a message in a frame with the AP's next seq (or `seq`); ACK flag per §4 unless overridden. Returns the frame. */
  async send(message: Message, opts: { seq?: number; ackRequested?: boolean } = {}): Promise<Frame> {
    const frame: Frame = { version: 1, seq: opts.seq ?? this.seq.next(), ackRequested: opts.ackRequested ?? ACK_REQUESTED[message.type], message };
    await this.write(encodeLine(frame));
    return frame;
  }

  async ack(frame: Frame, status: StatusCodeValue = StatusCode.OK): Promise<void> {
    await this.send({ type: 'ACK', ackSeq: frame.seq, status });
  }

  /** The first frame received (and not yet taken by an earlier next()) that matches; waits for it. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 3_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find((r) => !this.taken.has(r) && pred(r.frame));
      if (hit) {
        this.taken.add(hit);
        return hit;
      }
      if (Date.now() > deadline) {
        throw new Error(`fake AP: no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((r) => [r.frame.seq, r.frame.message.type]))}`);
      }
      await sleep(5);
    }
  }

  ackFor(seq: number, timeoutMs?: number): Promise<Received> {
    return this.next((f) => f.message.type === 'ACK' && f.message.ackSeq === seq, timeoutMs);
  }

  /** Says hello (§8) and acknowledges the EDGE_HELLO; repeats AP_HELLO like a real AP when no answer comes. */
  async hello(opts: { attempts?: number; waitMs?: number; protoMin?: number; protoMax?: number } = {}): Promise<Received> {
    const attempts = opts.attempts ?? 1;
    for (let i = 1; ; i++) {
      await this.send(helloMessage(opts.protoMin ?? 1, opts.protoMax ?? 1));
      try {
        const reply = await this.next((f) => f.message.type === 'EDGE_HELLO', opts.waitMs ?? 3_000);
        await this.ack(reply.frame);
        return reply;
      } catch (err) {
        if (i >= attempts) throw err;
      }
    }
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

function helloMessage(protoMin = 1, protoMax = 1): MessageOf<'AP_HELLO'> {
  return { type: 'AP_HELLO', apId: AP_ID, fwVersion: '1.4.2', protoMin, protoMax, capabilities: 0xff, channel: 15, queueCapacity: 64, maxBlockSize: 4096 };
}

function checkin(overrides: Partial<MessageOf<'LABEL_CHECKIN'>> = {}): MessageOf<'LABEL_CHECKIN'> {
  return {
    type: 'LABEL_CHECKIN',
    labelId: LABEL,
    labelType: 3,
    displayedHash: '3f1c9a2b4d5e6f70',
    page: 0,
    batteryMv: 2950,
    rssi: -67,
    lqi: 210,
    temperatureC: -5,
    wakeReason: 0,
    pendingTransferId: 0,
    ...overrides,
  };
}

const imageBegin: MessageOf<'IMAGE_BEGIN'> = imageBeginMessage(
  { transferId: 77, labelId: LABEL, labelType: 3, priority: 5 },
  { kind: ImageKind.FULL, encoding: ImageEncoding.ZLIB, baseHash: BLANK_HASH, targetHash: '3f1c9a2b4d5e6f70', payload: new Uint8Array(810), region: { x: 0, y: 0, width: 0, height: 0 } },
);

/** Deterministic noise (xorshift32), never '\n' so that it stays on the line it is written into. */
function noise(n: number, seed: number): Buffer {
  let x = seed >>> 0 || 1;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const b = x & 0xff;
    out[i] = b === 0x0a ? 0x0b : b;
  }
  return out;
}

// ---- fixture -------------------------------------------------------------------------------------------

let pair: PtyPair;
let inbound: RecordingInbound;
let link: SerialFrameLink;
let hub: ApHub;
let clock: ManualClock;
let ap: FakeAp;
const extraPairs: PtyPair[] = [];
const extraAps: FakeAp[] = [];

beforeEach(async () => {
  pair = await openPtyPair();
  inbound = new RecordingInbound();
  // The port's reopen runs on host time here: the unplug test waits for the real pty to come back.
  link = new SerialFrameLink({ apId: AP_ID, path: pair.edgePath, baudRate: 115200, log, clock: systemClock, reopenMs: 100 });
  clock = new ManualClock(T0);
  hub = new ApHub({
    links: [link],
    clock,
    // r = 0: every ACK wait is the low end of §7.3's ±20 % jitter, 2 s × 0.8 = 1.6 s for the first transmission.
    random: () => 0,
    log,
    ackTimeoutMs: 1_000,
    heartbeatIntervalS: 30,
    checkinReportIntervalS: 600,
  });
  await hub.start(inbound);
  ap = await FakeAp.open(pair.apPath);
});

afterEach(async () => {
  await hub.stop();
  for (const a of [ap, ...extraAps.splice(0)]) await a.close();
  for (const p of [pair, ...extraPairs.splice(0)]) await p.close();
});

// ---- tests ---------------------------------------------------------------------------------------------

describe('serial AP session (§8 hello, §7 ACKs) over a pty pair', () => {
  it('answers AP_HELLO with EDGE_HELLO and tells the domain', async () => {
    expect(hub.isOnline(AP_ID)).toBe(false);
    const hello = await ap.send(helloMessage(1, 3));
    expect(hello.ackRequested).toBe(false);
    const reply = await ap.next((f) => f.message.type === 'EDGE_HELLO');
    // §8: hello frames are version 1; EDGE_HELLO requests an ACK (§7.1) and carries the edge's clock.
    expect(reply.frame.version).toBe(1);
    expect(reply.frame.ackRequested).toBe(true);
    expect(reply.frame.message).toEqual({ type: 'EDGE_HELLO', version: 1, serverTimeMs: T0, heartbeatIntervalS: 30, checkinReportIntervalS: 600 });
    const [call] = await inbound.waitFor('apHello');
    expect(call).toEqual({ method: 'apHello', apId: AP_ID, message: helloMessage(1, 3), version: 1 });
    expect(hub.isOnline(AP_ID)).toBe(true);
  });

  it('NACKs an AP_HELLO whose version range does not overlap with UNSUPPORTED_VERSION (§8)', async () => {
    const hello = await ap.send(helloMessage(2, 4));
    const ack = await ap.ackFor(hello.seq);
    expect(ack.frame.message).toEqual({ type: 'ACK', ackSeq: hello.seq, status: StatusCode.UNSUPPORTED_VERSION });
    await sleep(100);
    expect(ap.received.some((r) => r.frame.message.type === 'EDGE_HELLO')).toBe(false);
    expect(inbound.of('apHello')).toHaveLength(0);
    expect(hub.isOnline(AP_ID)).toBe(false);
  });

  it('delivers LABEL_CHECKIN to the domain and ACKs it with the frame’s seq and the domain’s status', async () => {
    await ap.hello();
    const first = await ap.send(checkin(), { seq: 4242 });
    const ack1 = await ap.ackFor(4242);
    expect(ack1.frame.message).toEqual({ type: 'ACK', ackSeq: 4242, status: StatusCode.OK });
    expect(ack1.frame.ackRequested).toBe(false); // §7.1 an ACK never requests one
    const [call] = await inbound.waitFor('labelCheckin');
    expect(call).toEqual({ method: 'labelCheckin', apId: AP_ID, message: first.message });

    inbound.status = () => StatusCode.UNKNOWN_LABEL;
    await ap.send(checkin({ labelId: '00000000000000FF' }), { seq: 4243 });
    expect((await ap.ackFor(4243)).frame.message).toEqual({ type: 'ACK', ackSeq: 4243, status: StatusCode.UNKNOWN_LABEL });

    await ap.send({ type: 'TRANSFER_RESULT', transferId: 9, labelId: LABEL, status: StatusCode.OK, displayedHash: BLANK_HASH, bytesOnAir: 981 }, { seq: 4244 });
    await ap.ackFor(4244);
    expect((await inbound.waitFor('transferResult'))[0]!.message.bytesOnAir).toBe(981);
  });

  it('asks an AP it has no session with to say hello (HELLO_REQUIRED) and delivers nothing', async () => {
    await ap.send(checkin(), { seq: 5 });
    expect((await ap.ackFor(5)).frame.message).toEqual({ type: 'ACK', ackSeq: 5, status: StatusCode.HELLO_REQUIRED });
    await ap.send({ type: 'SENSOR_VALUE', labelId: LABEL, sensor: 1, value: 2950 }, { seq: 6 });
    expect((await ap.ackFor(6)).frame.message).toMatchObject({ status: StatusCode.HELLO_REQUIRED });
    // A heartbeat asks for no ACK: nothing comes back.
    await ap.send({ type: 'AP_HEARTBEAT', uptimeS: 1, queueDepth: 0, queueCapacity: 64, channel: 15, labelsSeen: 0 }, { seq: 7 });
    await sleep(150);
    expect(ap.received.map((r) => r.frame.message.type)).toEqual(['ACK', 'ACK']);
    expect(inbound.calls).toEqual([]);
    await expect(hub.send(AP_ID, imageBegin)).rejects.toMatchObject({ code: 'AP_OFFLINE' });

    // After hello the same kind of frame is accepted.
    await ap.hello();
    await ap.send(checkin(), { seq: 8 });
    expect((await ap.ackFor(8)).frame.message).toMatchObject({ status: StatusCode.OK });
    await inbound.waitFor('labelCheckin');
  });

  it('ACKs a duplicate again with the first status but delivers it once (§7.2)', async () => {
    await ap.hello();
    inbound.status = () => StatusCode.INVALID_PARAMETER;
    await ap.send(checkin(), { seq: 300 });
    const a1 = await ap.ackFor(300);
    await ap.send(checkin(), { seq: 300 });
    const a2 = await ap.ackFor(300);
    expect(a1.frame.message).toEqual({ type: 'ACK', ackSeq: 300, status: StatusCode.INVALID_PARAMETER });
    expect(a2.frame.message).toEqual(a1.frame.message);
    expect(a2.frame.seq).not.toBe(a1.frame.seq); // each ACK is a frame of its own with the edge's next seq
    await sleep(100);
    expect(inbound.of('labelCheckin')).toHaveLength(1);
    expect(hub.counters.duplicates).toBe(1);
  });

  it('a duplicate arriving while the original is still being handled gets the original’s status too', async () => {
    await ap.hello();
    inbound.delayMs = 150;
    inbound.status = () => StatusCode.UNKNOWN_LABEL;
    const line = encodeLine({ version: 1, seq: 301, ackRequested: true, message: checkin() });
    await ap.write(line + line); // one write, the same frame twice (an AP retrying too eagerly)
    const a1 = await ap.ackFor(301);
    const a2 = await ap.ackFor(301);
    expect(a1.frame.message).toMatchObject({ status: StatusCode.UNKNOWN_LABEL });
    expect(a2.frame.message).toMatchObject({ status: StatusCode.UNKNOWN_LABEL });
    expect(inbound.of('labelCheckin')).toHaveLength(1);
  });

  it('NACKs with INTERNAL_ERROR when the domain fails, and its retransmission gets the same answer', async () => {
    await ap.hello();
    inbound.status = () => {
      throw new Error('database is locked');
    };
    await ap.send(checkin(), { seq: 310 });
    expect((await ap.ackFor(310)).frame.message).toEqual({ type: 'ACK', ackSeq: 310, status: StatusCode.INTERNAL_ERROR });
    await ap.send(checkin(), { seq: 310 });
    expect((await ap.ackFor(310)).frame.message).toEqual({ type: 'ACK', ackSeq: 310, status: StatusCode.INTERNAL_ERROR });
    expect(inbound.of('labelCheckin')).toHaveLength(1);
  });

  it('NACKs a frame that passed its CRC but is malformed (§3.6 step 6, §13.1 DECODE_ERROR)', async () => {
    await ap.hello();
    const bytes = encodeFrame({ version: 1, seq: 77, ackRequested: true, message: checkin() });
    bytes[3] = 0x03; // a reserved flag bit
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
    await ap.write('@' + Buffer.from(bytes).toString('base64') + '\n');
    expect((await ap.ackFor(77)).frame.message).toEqual({ type: 'ACK', ackSeq: 77, status: StatusCode.DECODE_ERROR });
    expect(hub.counters.decodeErrors).toBe(1);
    expect(inbound.of('labelCheckin')).toHaveLength(0);
  });
});

describe('serial line handling (§12)', () => {
  it('reassembles a frame written in three chunks and skips noise, empty lines and corrupt lines', async () => {
    await ap.hello();
    const errorsBefore = hub.counters.decodeErrors;
    const discardedBefore = link.discardedChars;

    // 1. One frame in three writes with pauses (a slow UART, a USB bridge flushing early).
    const l1 = encodeLine({ version: 1, seq: 401, ackRequested: true, message: checkin({ batteryMv: 2901 }) });
    const cut1 = 5;
    const cut2 = Math.floor(l1.length / 2);
    await ap.write(l1.slice(0, cut1));
    await sleep(40);
    await ap.write(l1.slice(cut1, cut2));
    await sleep(40);
    await ap.write(l1.slice(cut2));
    await ap.ackFor(401);

    // 2. Random bytes without '\n' run into the next frame's line: discarded up to its '@' (counted).
    const junk = noise(300, 0xc0ffee);
    await ap.write(junk);
    await sleep(20);
    await ap.write(encodeLine({ version: 1, seq: 402, ackRequested: true, message: checkin({ batteryMv: 2902 }) }));
    await ap.ackFor(402);

    // 3. A boot banner line, empty lines, a CRLF frame line, and a frame with one bit flipped (bad CRC).
    await ap.write('ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\n\r\n');
    const l3 = encodeLine({ version: 1, seq: 403, ackRequested: true, message: checkin({ batteryMv: 2903 }) });
    await ap.write(l3.replace('\n', '\r\n'));
    const bad = encodeFrame({ version: 1, seq: 404, ackRequested: true, message: checkin({ batteryMv: 2904 }) });
    bad[12] = bad[12]! ^ 0x10; // one bit of the payload: the CRC no longer matches (§3.6 step 5)
    await ap.write('@' + Buffer.from(bad).toString('base64') + '\n');
    // 4. Debug output in front of a frame on the same line.
    await ap.write(`dbg: radio ch=15 q=0 @@ ${encodeLine({ version: 1, seq: 405, ackRequested: true, message: checkin({ batteryMv: 2905 }) })}`);
    await ap.ackFor(403);
    await ap.ackFor(405);
    await sleep(100);

    // Exactly the four good frames, in order, each once; the corrupt one neither delivered nor ACKed (§3.6: drop silently).
    expect(inbound.of('labelCheckin').map((c) => c.message.batteryMv)).toEqual([2901, 2902, 2903, 2905]);
    expect(ap.received.filter((r) => r.frame.message.type === 'ACK').map((r) => (r.frame.message as MessageOf<'ACK'>).ackSeq)).toEqual([401, 402, 403, 405]);
    // The banner line (no '@') and the bad-CRC line are the two decode errors; empty lines are not errors.
    expect(hub.counters.decodeErrors - errorsBefore).toBe(2);
    expect(link.discardedChars - discardedBefore).toBeGreaterThanOrEqual(junk.length + 'dbg: radio ch=15 q=0 @@ '.length - 1);
    expect(hub.isOnline(AP_ID)).toBe(true);
  });

  it('delivers two frames that arrive in one write', async () => {
    await ap.hello();
    await ap.write(
      encodeLine({ version: 1, seq: 501, ackRequested: true, message: checkin({ page: 1 }) }) +
        encodeLine({ version: 1, seq: 502, ackRequested: true, message: checkin({ page: 2 }) }),
    );
    await ap.ackFor(501);
    await ap.ackFor(502);
    expect(inbound.of('labelCheckin').map((c) => c.message.page)).toEqual([1, 2]);
  });

  it('a long run of noise without a newline does not swallow the frame that follows (bounded line buffer)', async () => {
    await ap.hello();
    // 40 kB of noise (5× the longest line the link accepts), then a frame on the same line.
    const junk = noise(40_000, 0x5eed);
    for (let i = 0; i < junk.length; i += 4096) await ap.write(junk.subarray(i, i + 4096));
    await ap.write(encodeLine({ version: 1, seq: 601, ackRequested: true, message: checkin({ batteryMv: 2601 }) }));
    await ap.ackFor(601);
    expect(inbound.of('labelCheckin').map((c) => c.message.batteryMv)).toEqual([2601]);
    expect(link.discardedChars).toBeGreaterThanOrEqual(junk.length - 8192);
  });
});

describe('edge → AP over serial (§7.3 retransmission)', () => {
  it('sends IMAGE_BEGIN and resolves with the ACK’s status', async () => {
    await ap.hello();
    const sent = hub.send(AP_ID, imageBegin);
    const got = await ap.next((f) => f.message.type === 'IMAGE_BEGIN');
    expect(got.frame.message).toEqual(imageBegin);
    expect(got.frame.ackRequested).toBe(true);
    await ap.ack(got.frame, StatusCode.OK);
    await expect(sent).resolves.toBe(StatusCode.OK);
    expect(hub.counters.retransmits).toBe(0);
  });

  it('retransmits the same seq when the first transmission is not ACKed, then resolves with the late ACK’s status', async () => {
    await ap.hello();
    const sent = hub.send(AP_ID, imageBegin);
    const first = await ap.next((f) => f.message.type === 'IMAGE_BEGIN');
    // The fake AP "loses" the first transmission: no ACK. §7.3: 2 s × (1 + 0.2 × (2r − 1)) with r = 0 → 1.6 s of
    // the hub's (manual) clock; no host time decides it.
    clock.advance(1_599);
    await sleep(200);
    expect(ap.received.filter((r) => r.frame.message.type === 'IMAGE_BEGIN')).toHaveLength(1);
    clock.advance(1);
    const second = await ap.next((f) => f.message.type === 'IMAGE_BEGIN', 3_000);
    expect(second.frame.seq).toBe(first.frame.seq);
    expect(second.line).toBe(first.line); // byte-identical retransmission
    expect(hub.counters.retransmits).toBe(1);
    await ap.ack(second.frame, StatusCode.QUEUE_FULL);
    await expect(sent).resolves.toBe(StatusCode.QUEUE_FULL);
    // No third transmission after the ACK.
    clock.advance(600_000);
    await sleep(200);
    expect(ap.received.filter((r) => r.frame.message.type === 'IMAGE_BEGIN')).toHaveLength(2);
  });
});

describe('AP unplugged (§5.2, serial port closed)', () => {
  it('reports the AP offline, fails what awaits an ACK, and takes the AP back when it returns', async () => {
    await ap.hello();
    const pending = hub.send(AP_ID, imageBegin).then(
      () => null,
      (e: unknown) => e,
    );
    await ap.next((f) => f.message.type === 'IMAGE_BEGIN');

    await pair.unplug();
    const [off] = await inbound.waitFor('apOffline');
    expect(off).toEqual({ method: 'apOffline', apId: AP_ID });
    const err = await pending;
    expect(err).toBeInstanceOf(EdgeError);
    expect((err as EdgeError).code).toBe('AP_OFFLINE');
    expect(hub.isOnline(AP_ID)).toBe(false);
    await expect(hub.send(AP_ID, imageBegin)).rejects.toMatchObject({ code: 'AP_OFFLINE' });

    // Plugged back in at the same path: the link reopens by itself and the AP says hello again (§8, it repeats
    // AP_HELLO until answered).
    const again = await openPtyPair({ dir: pair.dir });
    extraPairs.push(again);
    const ap2 = await FakeAp.open(again.apPath);
    extraAps.push(ap2);
    await ap2.hello({ attempts: 10, waitMs: 300 });
    expect(hub.isOnline(AP_ID)).toBe(true);
    expect(inbound.of('apHello').length).toBeGreaterThanOrEqual(2);
    const sent = hub.send(AP_ID, imageBegin);
    await ap2.ack((await ap2.next((f) => f.message.type === 'IMAGE_BEGIN')).frame);
    await expect(sent).resolves.toBe(StatusCode.OK);
  });
});
