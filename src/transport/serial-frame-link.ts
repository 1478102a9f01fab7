/**
 * An AP on a serial line (USB/UART), protocol §12: 115200 8N1, one frame per line ('@' + base64 + '\n'), the CRC
 * inside the frame. Noise before the '@' is discarded and counted by the line codec. The port is reopened when it
 * goes away (a USB AP unplugged and plugged back).
 */
import { SerialPort } from 'serialport';
import { decodeLine, encodeLine, type Frame } from '#protocol';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '#contracts';
import type { FrameLink, FrameSink } from './frame-link.js';

/** Longest line accepted: a 4,200-byte payload frame in base64 is ~5,620 characters. */
const MAX_LINE = 8192;
const LF = 0x0a;
const MARKER = 0x40; // '@'

export class SerialFrameLink implements FrameLink {
  readonly name: string;
  readonly reliable = false;
  private port: SerialPort | null = null;
  private sink: FrameSink | null = null;
  private stopped = false;
  private reopenTimer: TimerHandle | null = null;
  /** The line received so far, never longer than MAX_LINE (see onData). */
  private partial: Buffer = Buffer.alloc(0);
  discardedChars = 0;

  constructor(
    private readonly opts: { apId: string; path: string; baudRate: number; log: Logger; clock: Clock; reopenMs?: number },
  ) {
    this.name = `serial:${opts.path}`;
  }

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    await this.open().catch((err) => {
      this.opts.log.warn({ evt: 'serial.open_failed', path: this.opts.path, err: errorMessage(err) }, 'serial port not available; will retry');
      this.scheduleReopen();
    });
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
      port.on('data', (chunk: Buffer) => this.onData(chunk));
      port.on('close', () => {
        if (this.port === port) this.port = null;
        this.sink?.linkDown(this, this.opts.apId);
        this.scheduleReopen();
      });
      port.on('error', (err) => this.opts.log.warn({ evt: 'serial.error', path: this.opts.path, err: err.message }, 'serial port error'));
      port.open((err) => {
        if (err) return reject(err);
        this.port = port;
        this.partial = Buffer.alloc(0); // a line cut off by the last disconnect is not continued by this one
        this.opts.log.info({ evt: 'serial.opened', path: this.opts.path, apId: this.opts.apId }, 'serial AP link open');
        resolve();
      });
    });
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    // On the injected clock like every timer of the edge (D22).
    this.reopenTimer = this.opts.clock.setTimeout(() => {
      this.reopenTimer = null;
      if (this.stopped || this.port) return;
      this.open().catch(() => this.scheduleReopen());
    }, this.opts.reopenMs ?? 2_000);
  }

  /**
   * Splits the byte stream into lines. A line parser that buffers until '\n' (as @serialport/parser-readline does)
   * grows without bound on noise that never ends a line, which §2.3 forbids. Only what follows the last '@' of a
   * line can be a frame (§12), so a line — complete or still partial — longer than MAX_LINE is cut to its last '@',
   * or dropped whole when even that tail is too long; the cut bytes are counted as discarded, as decodeLine counts
   * the noise before the '@'. The frame after a long burst of noise is therefore still received.
   */
  private onData(chunk: Buffer): void {
    let data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(LF)) >= 0) {
      const line = this.cutToMarker(data.subarray(0, nl));
      if (line !== null) this.onLine(line.toString('latin1'));
      else this.opts.log.warn({ evt: 'serial.line_too_long', path: this.opts.path, chars: nl }, 'serial line discarded');
      data = data.subarray(nl + 1);
    }
    // Copied, so that the remainder does not pin the (possibly large) chunk it came from.
    this.partial = Buffer.from(this.cutToMarker(data) ?? Buffer.alloc(0));
  }

  /** `line` itself when it fits, else its tail from the last '@', else null (all of it discarded). */
  private cutToMarker(line: Buffer): Buffer | null {
    if (line.length <= MAX_LINE) return line;
    const at = line.lastIndexOf(MARKER);
    if (at >= 0 && line.length - at <= MAX_LINE) {
      this.discardedChars += at;
      return line.subarray(at);
    }
    this.discardedChars += line.length;
    return null;
  }

  private onLine(line: string): void {
    if (!this.sink) return;
    if (line.trim() === '') return;
    const result = decodeLine(line);
    this.discardedChars += result.discardedChars;
    this.sink.frame(this, this.opts.apId, result);
  }

  async send(apId: string, frame: Frame): Promise<void> {
    const port = this.port;
    if (!port || apId !== this.opts.apId) throw new Error(`serial AP ${apId} is not connected`);
    await new Promise<void>((resolve, reject) => port.write(encodeLine(frame), 'latin1', (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) this.opts.clock.clearTimeout(this.reopenTimer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
