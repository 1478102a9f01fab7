import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACK_REQUESTED,
  ImageKind,
  StatusCode,
  decodeLine,
  encodeImage,
  encodeLine,
  splitBlocks,
  type Frame,
  type Message,
  type MessageOf,
} from '#protocol';
import { imageBeginMessage } from '#protocol';
import type { SerialEdgeLink } from '../../simulator/src/serial-edge-link.js';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { VirtualClock } from '../../simulator/src/virtual-clock.js';
import { delay } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A } from './store-fixture.js';

/** The edge's end of the serial line: frames as lines (§12). */
class SerialEdge {
  readonly frames: Frame[] = [];
  private seq = 500;
  constructor(private readonly port: SerialPort) {
    port.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (line: string) => {
      const r = decodeLine(line);
      if (r.ok) this.frames.push(r.frame);
    });
  }
  send(message: Message, seq = this.seq++): number {
    this.port.write(encodeLine({ version: 1, seq, ackRequested: ACK_REQUESTED[message.type], message }));
    return seq;
  }
  /** The wall limit only guards against a hung run (D53): the frames cross socat, a process of its own. */
  async waitFor(pred: (f: Frame) => boolean, n = 1, timeoutMs = 60_000): Promise<Frame[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.frames.filter(pred);
      if (hits.length >= n) return hits;
      if (Date.now() > end) throw new Error(`timed out (${hits.length}/${n})`);
      await delay(10);
    }
  }
  async request(message: Message): Promise<number> {
    const seq = this.send(message);
    const [ack] = await this.waitFor((f) => f.message.type === 'ACK' && f.message.ackSeq === seq);
    return (ack!.message as MessageOf<'ACK'>).status;
  }
}

describe('AP on a serial line', () => {
  let dir: string;
  let socat: ChildProcess;
  let sim: StoreSimulator;
  let port: SerialPort;
  let edge: SerialEdge;
  const clock = new VirtualClock();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esl-sim-serial-'));
    socat = spawn('socat', [`pty,raw,echo=0,link=${join(dir, 'ap')}`, `pty,raw,echo=0,link=${join(dir, 'edge')}`], { stdio: 'ignore' });
    // socat creates the links once it runs; a loaded machine may start it seconds late (the limit is a safety net).
    for (let i = 0; !(existsSync(join(dir, 'ap')) && existsSync(join(dir, 'edge'))); i++) {
      if (i > 3_000) throw new Error('safety net: socat did not create its ptys within 60 wall s');
      await delay(20);
    }
    port = new SerialPort({ path: join(dir, 'edge'), baudRate: 115_200 });
    await new Promise<void>((resolve, reject) => port.once('open', resolve).once('error', reject));
    edge = new SerialEdge(port);
    sim = await StoreSimulator.start({
      brokerUrl: 'mqtt://unused.invalid',
      chain: 'test',
      store: 'serial-1',
      aps: [{ apId: 'AP-S', username: '', password: '', transport: { serialPath: join(dir, 'ap') } }],
      labels: [{ labelId: LABEL_A, labelType: 3, apId: 'AP-S' }],
      radio: { frameLoss: 0 },
      clock,
      seed: 11,
      startSpreadMs: 1_000,
    });
  });

  afterAll(async () => {
    await sim?.stop();
    await new Promise<void>((resolve) => (port?.isOpen ? port.close(() => resolve()) : resolve()));
    socat?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says hello, retransmits an unacknowledged check-in with the same seq until ACKed, and serves a transfer', async () => {
    const [hello] = await edge.waitFor((f) => f.message.type === 'AP_HELLO');
    expect(hello!.version).toBe(1);
    expect(await edge.request({ type: 'EDGE_HELLO', version: 1, serverTimeMs: clock.now(), heartbeatIntervalS: 3600, checkinReportIntervalS: 600 })).toBe(StatusCode.OK);

    await clock.advance(2_000);
    const [first] = await edge.waitFor((f) => f.message.type === 'LABEL_CHECKIN');
    expect(first!.ackRequested).toBe(true);
    // No ACK from the edge: after ~2 s (±20 %) the AP sends the very same frame again (§7.3).
    // (The serial link's retransmission runs on host timers, simulator/src/serial-edge-link.ts: a loaded machine
    // may fire it late, so the wait is a safety net, not a deadline.)
    const copies = await edge.waitFor((f) => f.message.type === 'LABEL_CHECKIN', 2);
    expect(copies[1]!.seq).toBe(first!.seq);
    expect(copies[1]!.message).toEqual(first!.message);
    const link = sim.ap('AP-S').link as SerialEdgeLink;
    expect(link.stats.retransmissions).toBeGreaterThanOrEqual(1);
    edge.send({ type: 'ACK', ackSeq: first!.seq, status: StatusCode.OK });
    // The ACK crosses socat: wait for it to arrive (a fixed 100 ms was a wall deadline), then the AP holds nothing.
    for (let i = 0; link.unackedCount > 0 && i < 3_000; i++) await delay(20);
    expect(link.unackedCount).toBe(0);

    // A duplicate line (the edge retransmitting) is ACKed twice and applied once.
    const t = labelType(3);
    const image = encodeImage({ labelType: t, target: testPlanes(t, 3), kinds: [ImageKind.FULL] });
    const begin: Message = imageBeginMessage({ transferId: 9, labelId: LABEL_A, labelType: 3 }, image);
    const seq = edge.send(begin);
    edge.send(begin, seq);
    const acks = await edge.waitFor((f) => f.message.type === 'ACK' && f.message.ackSeq === seq, 2);
    expect(acks.map((a) => (a.message as MessageOf<'ACK'>).status)).toEqual([StatusCode.OK, StatusCode.OK]);
    expect(sim.ap('AP-S').stats.duplicatesIn).toBe(1);
    for (const [i, data] of splitBlocks(image.payload, 4096).entries()) {
      expect(await edge.request({ type: 'IMAGE_BLOCK', transferId: 9, blockIndex: i, data })).toBe(StatusCode.OK);
    }
    for (let i = 0; i < 60 && sim.groundTruth(LABEL_A)!.hash !== image.targetHash; i++) await clock.advance(1_000);
    expect(sim.groundTruth(LABEL_A)!.hash).toBe(image.targetHash);
    const [result] = await edge.waitFor((f) => f.message.type === 'TRANSFER_RESULT');
    expect(result!.message).toMatchObject({ transferId: 9, status: StatusCode.OK });
  });
});
