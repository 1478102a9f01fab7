/**
 * A simulated access point, edge side (firmware-protocol/README.md §4–§8): announces itself with AP_HELLO on
 * every (re)connection, takes the edge's EDGE_HELLO, sends heartbeats, and acknowledges every edge→AP frame —
 * OK, or a NACK status (QUEUE_FULL, UNKNOWN_TRANSFER, INVALID_PARAMETER, …). A duplicate (same seq, §7.2) is
 * acknowledged again with the status of the first time but not applied twice.
 *
 * The radio side (labels, transfers on air) is ApRadio; the staged transfers are the TransferStore.
 */
import {
  ACK_REQUESTED,
  ApCapability,
  DuplicateWindow,
  PROTOCOL_VERSION,
  SeqCounter,
  StatusCode,
  nackFor,
  type DecodeResult,
  type Frame,
  type Message,
  type StatusCodeValue,
} from '../../firmware-protocol/src/index.js';
import { ApRadio, type ApRadioEnvironment, type RadioUplinkMessage } from './ap-radio.js';
import type { EdgeLink } from './edge-link.js';
import type { SimLogger } from './sim-logger.js';
import type { TimerHandle } from './sim-clock.js';
import { TransferStore } from './transfer-store.js';

export const AP_FW_VERSION = 'esl-sim-1.0';
/** §5.1 Everything the simulated AP and its labels implement. */
export const SIM_AP_CAPABILITIES =
  ApCapability.TIMED_DISPLAY |
  ApCapability.DELTA_XOR |
  ApCapability.DELTA_REGION |
  ApCapability.LED |
  ApCapability.SENSOR |
  ApCapability.PAGES |
  ApCapability.RLE |
  ApCapability.ZLIB;
/** The AP repeats AP_HELLO until the edge answers. */
const HELLO_REPEAT_MS = 10_000;
/** Uplink frames kept while the network is down (power stays on); older ones are dropped first. */
const OUTBOX_LIMIT = 10_000;
/** ACK statuses remembered for re-acknowledging duplicates (as many as the duplicate window spans). */
const ACK_CACHE_SIZE = 64;

export interface VirtualApOptions {
  apId: string;
  channel: number;
  queueCapacity: number;
  maxBlockSize: number;
  protoMin: number;
  protoMax: number;
  link: EdgeLink;
  env: ApRadioEnvironment;
  logger: SimLogger;
}

export type ApFault = 'power' | 'network';

export interface VirtualApStats {
  framesIn: number;
  framesOut: number;
  /** Frames from the edge that could not be decoded. */
  framesRejected: number;
  duplicatesIn: number;
  nacksSent: number;
  acksReceived: number;
  hellosSent: number;
  heartbeatsSent: number;
}

export class VirtualAp {
  readonly apId: string;
  readonly radio: ApRadio;
  readonly transfers: TransferStore;
  readonly stats: VirtualApStats = {
    framesIn: 0,
    framesOut: 0,
    framesRejected: 0,
    duplicatesIn: 0,
    nacksSent: 0,
    acksReceived: 0,
    hellosSent: 0,
    heartbeatsSent: 0,
  };
  /** The protocol version the edge chose (§8). */
  version = PROTOCOL_VERSION;
  /** The edge answered AP_HELLO since the link last came up. */
  helloDone = false;
  private readonly txSeq: SeqCounter;
  private readonly rxWindow = new DuplicateWindow(ACK_CACHE_SIZE);
  private readonly ackCache = new Map<number, StatusCodeValue>();
  private heartbeatTimer: TimerHandle | undefined;
  private helloTimer: TimerHandle | undefined;
  private heartbeatIntervalMs = 0;
  private bootAt: number;
  private outbox: Message[] = [];
  private powered = true;
  private linkOpen = false;

  constructor(private readonly opts: VirtualApOptions) {
    this.apId = opts.apId;
    this.transfers = new TransferStore(opts.queueCapacity, opts.maxBlockSize);
    this.radio = new ApRadio(opts.apId, opts.env, this.transfers, (m) => this.uplink(m));
    this.txSeq = new SeqCounter(Math.floor(opts.env.random() * 0x10000));
    this.bootAt = opts.env.clock.now();
  }

  get online(): boolean {
    return this.opts.link.connected;
  }

  get powerOn(): boolean {
    return this.powered;
  }

  async start(): Promise<void> {
    await this.openLink();
  }

  /**
   * Fault injection. 'power': the AP loses power — the link drops without goodbye (the broker publishes the
   * will), staged transfers, queued commands and everything it knew about labels are gone, and its radio is
   * silent, so its labels roam to a neighbour AP if they have one. 'network': only the uplink drops; the radio
   * keeps serving labels and the AP buffers what it must tell the edge until the link is back.
   */
  async setOnline(online: boolean, fault: ApFault = 'power'): Promise<void> {
    if (!online) {
      this.stopTimers();
      if (fault === 'power') {
        this.powered = false;
        this.radio.powerOff();
        this.transfers.clear();
        this.outbox = [];
        this.ackCache.clear();
        this.rxWindow.reset();
      }
      this.linkOpen = false;
      await this.opts.link.drop();
      return;
    }
    if (!this.powered) {
      this.powered = true;
      this.bootAt = this.opts.env.clock.now();
      this.radio.powerOn();
    }
    if (!this.linkOpen) await this.openLink();
  }

  async stop(): Promise<void> {
    this.stopTimers();
    this.linkOpen = false;
    await this.opts.link.close();
  }

  private async openLink(): Promise<void> {
    this.linkOpen = true;
    await this.opts.link.open({
      onUp: () => this.onLinkUp(),
      onDown: () => {
        this.helloDone = false;
        this.stopTimers();
      },
      onFrame: (r) => this.onFrame(r),
    });
  }

  private onLinkUp(): void {
    this.helloDone = false;
    this.sendHello();
    const queued = this.outbox;
    this.outbox = [];
    for (const m of queued) this.send(m);
  }

  /** §5.1, §8 AP_HELLO always travels in a version-1 frame so that any edge can read it. */
  private sendHello(): void {
    this.helloTimer?.cancel();
    this.stats.hellosSent++;
    this.sendFrame({
      version: 1,
      seq: this.txSeq.next(),
      ackRequested: ACK_REQUESTED.AP_HELLO,
      message: {
        type: 'AP_HELLO',
        apId: this.apId,
        fwVersion: AP_FW_VERSION,
        protoMin: this.opts.protoMin,
        protoMax: this.opts.protoMax,
        capabilities: SIM_AP_CAPABILITIES,
        channel: this.opts.channel,
        queueCapacity: this.opts.queueCapacity,
        maxBlockSize: this.opts.maxBlockSize,
      },
    });
    this.helloTimer = this.opts.env.clock.setTimeout(() => {
      this.helloTimer = undefined;
      if (!this.helloDone && this.opts.link.connected) this.sendHello();
    }, HELLO_REPEAT_MS);
  }

  private heartbeat(): void {
    this.heartbeatTimer = undefined;
    if (!this.opts.link.connected || this.heartbeatIntervalMs <= 0) return;
    this.stats.heartbeatsSent++;
    this.send({
      type: 'AP_HEARTBEAT',
      uptimeS: Math.min(0xffffffff, Math.floor((this.opts.env.clock.now() - this.bootAt) / 1000)),
      queueDepth: this.transfers.size,
      queueCapacity: this.opts.queueCapacity,
      channel: this.opts.channel,
      labelsSeen: Math.min(0xffff, this.radio.labelsSeen),
    });
    this.heartbeatTimer = this.opts.env.clock.setTimeout(() => this.heartbeat(), this.heartbeatIntervalMs);
  }

  private stopTimers(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = undefined;
    this.helloTimer?.cancel();
    this.helloTimer = undefined;
  }

  /** Messages from the radio side; kept while only the network is down. */
  private uplink(m: RadioUplinkMessage): void {
    if (this.opts.link.connected) {
      this.send(m);
      return;
    }
    if (!this.powered) return;
    this.outbox.push(m);
    if (this.outbox.length > OUTBOX_LIMIT) this.outbox.shift();
  }

  private send(message: Message): void {
    this.sendFrame({ version: this.version, seq: this.txSeq.next(), ackRequested: ACK_REQUESTED[message.type], message });
  }

  private sendFrame(frame: Frame): void {
    if (!this.opts.link.connected) return;
    this.stats.framesOut++;
    this.opts.link.send(frame);
  }

  private ack(seq: number, status: StatusCodeValue): void {
    if (status !== StatusCode.OK) this.stats.nacksSent++;
    this.send({ type: 'ACK', ackSeq: seq, status });
  }

  private onFrame(result: DecodeResult): void {
    if (!this.powered) return;
    if (!result.ok) {
      this.stats.framesRejected++;
      const nack = nackFor(result.error);
      if (nack !== null) this.ack(nack.ackSeq, nack.status);
      this.opts.logger.debug({ evt: 'sim.ap.frame_rejected', apId: this.apId, code: result.error.code }, 'undecodable frame from edge');
      return;
    }
    const { frame } = result;
    this.stats.framesIn++;
    const m = frame.message;
    if (m.type === 'ACK') {
      this.stats.acksReceived++;
      return;
    }
    // §8 EDGE_HELLO may come from a restarted edge whose seq started over: forget the old numbers first.
    if (m.type === 'EDGE_HELLO') {
      this.rxWindow.reset();
      this.ackCache.clear();
    }
    if (this.rxWindow.seen(frame.seq)) {
      this.stats.duplicatesIn++;
      if (frame.ackRequested) this.ack(frame.seq, this.ackCache.get(frame.seq) ?? StatusCode.OK);
      return;
    }
    const status = this.apply(m);
    this.ackCache.set(frame.seq, status);
    if (this.ackCache.size > ACK_CACHE_SIZE) this.ackCache.delete(this.ackCache.keys().next().value!);
    if (frame.ackRequested) this.ack(frame.seq, status);
  }

  private apply(m: Message): StatusCodeValue {
    switch (m.type) {
      case 'EDGE_HELLO': {
        if (m.version < this.opts.protoMin || m.version > this.opts.protoMax) return StatusCode.UNSUPPORTED_VERSION;
        this.version = m.version;
        this.helloDone = true;
        this.helloTimer?.cancel();
        this.helloTimer = undefined;
        // The AP has no clock of its own: it takes the edge's (labels get it in RADIO_SLEEP, §9.7).
        this.radio.clockOffsetMs = m.serverTimeMs - this.opts.env.clock.now();
        this.radio.checkinReportIntervalMs = m.checkinReportIntervalS * 1000;
        this.heartbeatTimer?.cancel();
        this.heartbeatIntervalMs = m.heartbeatIntervalS * 1000;
        this.heartbeatTimer = undefined;
        if (this.heartbeatIntervalMs > 0) {
          this.heartbeatTimer = this.opts.env.clock.setTimeout(() => this.heartbeat(), this.heartbeatIntervalMs);
        }
        return StatusCode.OK;
      }
      case 'IMAGE_BEGIN': {
        const r = this.transfers.begin(m);
        if (r.replaced !== undefined) this.radio.abortTransfer(r.replaced.descriptor.transferId);
        return r.status;
      }
      case 'IMAGE_BLOCK':
        return this.transfers.block(m);
      case 'IMAGE_CANCEL':
        this.radio.abortTransfer(m.transferId);
        return this.transfers.cancel(m.transferId);
      case 'LED_FLASH':
      case 'PAGE_SWITCH':
      case 'READ_SENSOR':
      case 'LABEL_COMMAND':
        return this.radio.queueCommand(m);
      default:
        // AP→edge and radio messages have no meaning when received from the edge.
        return StatusCode.UNSUPPORTED_FEATURE;
    }
  }
}
