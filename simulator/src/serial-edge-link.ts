/**
 * Serial link of a simulated AP (firmware-protocol/README.md §12): 115200 baud, one frame per line
 * ('@' + base64 + '\n', line-codec.ts). A serial line has no MQTT QoS underneath, so the AP itself retransmits
 * every ACK-requested frame until it is acknowledged (§7.3: same seq, ACK timeout doubling per attempt with
 * jitter, given up after MAX_RETRIES); the receiving side de-duplicates by seq.
 *
 * Retransmission runs on host timers, not on the simulation clock: the line and the edge behind it live in real
 * time even when the radio world runs in virtual time.
 */
import type { SerialPort } from 'serialport';
import { MAX_RETRIES, ackTimeoutMs, decodeLine, encodeLine, type Frame } from '#protocol';
import { type EdgeLink, type EdgeLinkHandlers } from './edge-link.js';
import type { Random } from './rng.js';
import type { SimLogger } from './sim-logger.js';
import { EslError } from '#contracts';

export const SERIAL_BAUD_RATE = 115_200;

export interface SerialEdgeLinkOptions {
  path: string;
  logger: SimLogger;
  random: Random;
  baudRate?: number;
}

interface Unacked {
  line: string;
  attempt: number;
  timer: NodeJS.Timeout;
}

export interface SerialLinkStats {
  linesOut: number;
  linesIn: number;
  retransmissions: number;
  /** Frames given up after the last retry without an ACK. */
  givenUp: number;
}

export class SerialEdgeLink implements EdgeLink {
  readonly kind = 'serial' as const;
  readonly stats: SerialLinkStats = { linesOut: 0, linesIn: 0, retransmissions: 0, givenUp: 0 };
  private port: SerialPort | undefined;
  private up = false;
  private readonly unacked = new Map<number, Unacked>();

  constructor(private readonly opts: SerialEdgeLinkOptions) {}

  get connected(): boolean {
    return this.up;
  }

  /** Frames sent and not yet acknowledged. */
  get unackedCount(): number {
    return this.unacked.size;
  }

  async open(handlers: EdgeLinkHandlers): Promise<void> {
    // Loaded on demand: the native binding is only needed by stores that have a serial AP.
    const { SerialPort } = await import('serialport');
    const { ReadlineParser } = await import('@serialport/parser-readline');
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? SERIAL_BAUD_RATE, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err ? reject(new EslError('LINK_CONNECT_FAILED', `cannot open ${this.opts.path}: ${err.message}`, { cause: err })) : resolve(),
      ),
    );
    this.port = port;
    const parser = port.pipe(new ReadlineParser({ delimiter: '\n' }));
    parser.on('data', (line: string) => {
      this.stats.linesIn++;
      const result = decodeLine(line);
      if (result.ok && result.frame.message.type === 'ACK') this.acknowledged(result.frame.message.ackSeq);
      handlers.onFrame(result);
    });
    port.on('error', (err) => this.opts.logger.warn({ evt: 'sim.ap.serial_error', err: String(err), path: this.opts.path }, 'serial error'));
    port.on('close', () => {
      if (this.port !== port) return;
      this.port = undefined;
      this.up = false;
      this.clearUnacked();
      handlers.onDown();
    });
    this.up = true;
    handlers.onUp();
  }

  send(frame: Frame): void {
    if (this.port === undefined) throw new EslError('LINK_NOT_OPEN', `serial link ${this.opts.path} is not open`);
    const line = encodeLine(frame);
    this.write(line);
    if (frame.ackRequested) {
      const older = this.unacked.get(frame.seq);
      if (older !== undefined) clearTimeout(older.timer);
      this.unacked.set(frame.seq, { line, attempt: 0, timer: this.arm(frame.seq, 0) });
    }
  }

  async drop(): Promise<void> {
    await this.closePort();
  }

  async close(): Promise<void> {
    await this.closePort();
  }

  private write(line: string): void {
    this.stats.linesOut++;
    this.port?.write(line);
  }

  private arm(seq: number, attempt: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.timedOut(seq), ackTimeoutMs(attempt, this.opts.random));
    timer.unref();
    return timer;
  }

  /** §7.3 No ACK in time: send the same frame (same seq) again, or give it up after the last retry. */
  private timedOut(seq: number): void {
    const u = this.unacked.get(seq);
    if (u === undefined) return;
    if (u.attempt >= MAX_RETRIES) {
      this.unacked.delete(seq);
      this.stats.givenUp++;
      this.opts.logger.warn({ evt: 'sim.ap.serial_gave_up', seq, path: this.opts.path }, 'frame never acknowledged');
      return;
    }
    u.attempt++;
    this.stats.retransmissions++;
    this.write(u.line);
    u.timer = this.arm(seq, u.attempt);
  }

  private acknowledged(seq: number): void {
    const u = this.unacked.get(seq);
    if (u === undefined) return;
    clearTimeout(u.timer);
    this.unacked.delete(seq);
  }

  private clearUnacked(): void {
    for (const u of this.unacked.values()) clearTimeout(u.timer);
    this.unacked.clear();
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.up = false;
    this.clearUnacked();
    if (port === undefined || !port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
