/**
 * An AP on a serial line (USB/UART), protocol §12: 115200 8N1, one frame per line ('@' + base64 + '\n'), the CRC
 * inside the frame. Noise before the '@' is discarded and counted by the line codec. The port is reopened when it
 * goes away (a USB AP unplugged and plugged back).
 */
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import { decodeLine, encodeLine, type Frame } from '../../firmware-protocol/src/index.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import type { FrameLink, FrameSink } from './frame-link.js';

/** Longest line accepted: a 4,200-byte payload frame in base64 is ~5,620 characters. */
const MAX_LINE = 8192;

export class SerialFrameLink implements FrameLink {
  readonly name: string;
  readonly reliable = false;
  private port: SerialPort | null = null;
  private sink: FrameSink | null = null;
  private stopped = false;
  private reopenTimer: NodeJS.Timeout | null = null;
  discardedChars = 0;

  constructor(
    private readonly opts: { apId: string; path: string; baudRate: number; log: Logger; reopenMs?: number },
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
      const parser = port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
      parser.on('data', (line: string) => this.onLine(line));
      port.on('close', () => {
        if (this.port === port) this.port = null;
        this.sink?.linkDown(this, this.opts.apId);
        this.scheduleReopen();
      });
      port.on('error', (err) => this.opts.log.warn({ evt: 'serial.error', path: this.opts.path, err: err.message }, 'serial port error'));
      port.open((err) => {
        if (err) return reject(err);
        this.port = port;
        this.opts.log.info({ evt: 'serial.opened', path: this.opts.path, apId: this.opts.apId }, 'serial AP link open');
        resolve();
      });
    });
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      if (this.stopped || this.port) return;
      this.open().catch(() => this.scheduleReopen());
    }, this.opts.reopenMs ?? 2_000);
    this.reopenTimer.unref();
  }

  private onLine(line: string): void {
    if (!this.sink) return;
    if (line.length > MAX_LINE) {
      this.discardedChars += line.length;
      this.opts.log.warn({ evt: 'serial.line_too_long', path: this.opts.path, chars: line.length }, 'serial line discarded');
      return;
    }
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
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
