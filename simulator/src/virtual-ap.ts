/**
 * A simulated access point, edge side (firmware-protocol/README.md §4–§8): announces itself with AP_HELLO on
 * every (re)connection and sends nothing else until the edge's EDGE_HELLO; then heartbeats, label check-ins,
 * transfer results and sensor values. It acknowledges every edge→AP frame — OK, or a NACK status (QUEUE_FULL,
 * UNKNOWN_TRANSFER, INVALID_PARAMETER, …); a duplicate (same seq, §7.2) is acknowledged again with the status of
 * the first time but not applied twice.
 *
 * The radio side (labels, transfers on air) is ApRadio; the staged transfers are the TransferStore.
 */
import {
  ACK_REQUESTED,
  ApCapability,
  DuplicateWindow,
  MAX_RETRIES,
  PROTOCOL_VERSION,
  SeqCounter,
  StatusCode,
  WAKE_REPORT_MAX_ENTRIES,
  WAKE_REPORT_MIN_INTERVAL_MS,
  ackTimeoutMs,
  nackFor,
  type DecodeResult,
  type Frame,
  type Message,
  type MessageName,
  type StatusCodeValue,
} from '#protocol';
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
  ApCapability.ZLIB |
  ApCapability.CTX |
  ApCapability.WAKE_REPORT;
/** §8 After the §7.3 retries, AP_HELLO is repeated once a minute until the edge answers. */
const HELLO_LATE_REPEAT_MS = 60_000;
/** Messages for the edge kept while it cannot take them (link down, no EDGE_HELLO yet); oldest dropped first. */
const OUTBOX_LIMIT = 10_000;
/** ACK statuses remembered for re-acknowledging duplicates (as many as the duplicate window spans, §7.2). */
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
  /** §9.10 Serve RADIO_OFFER to the labels that announce it (capability RADIO_OFFER); default true. */
  radioOffer?: boolean | undefined;
  /** §5.1 Capability bits announced (default SIM_AP_CAPABILITIES; clear WAKE_REPORT for an AP of before §5.6). */
  capabilities?: number;
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
  /** Messages sent again as new frames after a reconnect because the edge had not acknowledged them (§7.3). */
  resent: number;
  /** §5.6 WAKE_REPORT frames and the entries they carried. */
  wakeReports: number;
  wakeReportEntries: number;
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
    resent: 0,
    wakeReports: 0,
    wakeReportEntries: 0,
  };
  /** The protocol version the edge chose (§8). */
  version = PROTOCOL_VERSION;
  /** The edge answered AP_HELLO since the link last came up. */
  helloDone = false;
  private readonly txSeq: SeqCounter;
  private readonly rxWindow = new DuplicateWindow(ACK_CACHE_SIZE);
  private readonly ackCache = new Map<number, StatusCodeValue>();
  /** ACK-requested messages sent and not yet acknowledged, by seq. */
  private readonly unacked = new Map<number, Message>();
  private heartbeatTimer: TimerHandle | undefined;
  private wakeReportTimer: TimerHandle | undefined;
  private wakeReportIntervalMs = 0;
  private helloTimer: TimerHandle | undefined;
  private helloAttempt = 0;
  private lastHelloRequiredAt = -Infinity;
  private heartbeatIntervalMs = 0;
  private bootAt: number;
  private outbox: Message[] = [];
  private powered = true;
  private linkOpen = false;
  /** Fault injection (loseFromEdge): how many more frames of each type from the edge are lost. */
  private readonly losing = new Map<MessageName, number>();
  /** Frames from the edge lost by loseFromEdge, by type. */
  readonly lostFromEdge = new Map<MessageName, number>();

  constructor(private readonly opts: VirtualApOptions) {
    this.apId = opts.apId;
    this.transfers = new TransferStore(opts.queueCapacity, opts.maxBlockSize);
    this.radio = new ApRadio(opts.apId, opts.env, this.transfers, (m) => this.uplink(m));
    this.radio.servesOffers = opts.radioOffer ?? true;
    this.txSeq = new SeqCounter(Math.floor(opts.env.random() * 0x10000));
    this.bootAt = opts.env.clock.now();
  }

  get capabilities(): number {
    return this.opts.capabilities ?? SIM_AP_CAPABILITIES;
  }

  get online(): boolean {
    return this.opts.link.connected;
  }

  /** The link to the edge (tests read the serial link's retransmission state). */
  get link(): EdgeLink {
    return this.opts.link;
  }

  get powerOn(): boolean {
    return this.powered;
  }

  /**
   * Powered, and its uplink meant to be up (no network fault), though perhaps still (re)connecting: the edge can
   * reach its labels. `online` alone made a powered AP's labels unreachable for the wall time its reconnect took;
   * on a paced clock under load that is a stretch of wall time without simulated time, and the scenario observer's
   * polls then declared "converged" without them (D53).
   */
  get reachable(): boolean {
    return this.powered && this.linkOpen;
  }

  async start(): Promise<void> {
    await this.openLink();
  }

  /**
   * Fault injection. 'power': the AP loses power — the link drops without goodbye (on MQTT the broker publishes
   * the will "offline"), staged transfers, queued commands and everything it knew about labels are gone, and its
   * radio is silent, so labels with a neighbour AP roam there. 'network': only the uplink drops; the radio keeps
   * serving labels and the AP keeps what it must tell the edge until the link is back.
   */
  async setOnline(online: boolean, fault: ApFault = 'power'): Promise<void> {
    if (!online) {
      this.stopTimers();
      this.helloDone = false;
      if (fault === 'power') {
        this.powered = false;
        this.radio.powerOff();
        this.transfers.clear();
        this.outbox = [];
        this.unacked.clear();
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

  /**
   * Fault injection: the next `count` frames of `type` from the edge are lost before the AP reads them, as a frame
   * with a bad CRC is dropped silently (§13.1): no ACK, nothing applied. The edge's retransmission (§7.3, same seq)
   * counts as another frame.
   */
  loseFromEdge(type: MessageName, count = 1): void {
    this.losing.set(type, (this.losing.get(type) ?? 0) + count);
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
    // §4.8.1 Wake reports are off after every AP_HELLO until the edge asks again.
    this.setWakeReports(0);
    this.helloDone = false;
    this.helloAttempt = 0;
    this.sendHello();
  }

  /** §5.1, §8 AP_HELLO always travels in a version-1 frame so that any edge can read it. */
  private sendHello(): void {
    this.helloTimer?.cancel();
    this.helloTimer = undefined;
    if (!this.opts.link.connected) return;
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
        capabilities: this.capabilities | (this.radio.servesOffers ? ApCapability.RADIO_OFFER : 0) | (this.radio.holdsLabels ? ApCapability.RADIO_WAIT : 0) | (this.radio.sendsBursts ? ApCapability.RADIO_BURST : 0) | (this.radio.keepsAppointments ? ApCapability.WORK_AHEAD : 0),
        channel: this.opts.channel,
        queueCapacity: this.opts.queueCapacity,
        maxBlockSize: this.opts.maxBlockSize,
      },
    });
    // §8 Repeated with the timing of §7.3 (2, 4, … 64 s), then once a minute, until EDGE_HELLO arrives.
    const wait = this.helloAttempt <= MAX_RETRIES ? ackTimeoutMs(this.helloAttempt, this.opts.env.random) : HELLO_LATE_REPEAT_MS;
    this.helloAttempt++;
    this.helloTimer = this.opts.env.clock.setTimeout(() => {
      this.helloTimer = undefined;
      if (!this.helloDone) this.sendHello();
    }, wait);
  }

  private heartbeat(): void {
    this.heartbeatTimer = undefined;
    if (!this.helloDone || this.heartbeatIntervalMs <= 0) return;
    this.stats.heartbeatsSent++;
    this.send({
      type: 'AP_HEARTBEAT',
      uptimeS: Math.min(0xffffffff, Math.floor((this.opts.env.clock.now() - this.bootAt) / 1000)),
      queueDepth: this.transfers.size,
      queueCapacity: this.opts.queueCapacity,
      channel: this.opts.channel,
      labelsSeen: Math.min(0xffff, this.radio.labelsSeen()),
    });
    this.heartbeatTimer = this.opts.env.clock.setTimeout(() => this.heartbeat(), this.heartbeatIntervalMs);
  }

  private stopTimers(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = undefined;
    this.setWakeReports(0);
    this.helloTimer?.cancel();
    this.helloTimer = undefined;
  }

  /** §4.8 Wake reports every intervalMs (at least WAKE_REPORT_MIN_INTERVAL_MS), or off with 0. */
  private setWakeReports(intervalMs: number): void {
    this.wakeReportTimer?.cancel();
    this.wakeReportTimer = undefined;
    this.wakeReportIntervalMs = intervalMs === 0 ? 0 : Math.max(WAKE_REPORT_MIN_INTERVAL_MS, intervalMs);
    if (this.wakeReportIntervalMs === 0) {
      this.radio.stopWakeReports();
      return;
    }
    this.radio.reportWakes = true;
    this.wakeReportTimer = this.opts.env.clock.setTimeout(() => this.sendWakeReports(), this.wakeReportIntervalMs);
  }

  /** §5.6.1 The exchanges that ended since the last report, at most 255 per frame, oldest first; nothing when none. */
  private sendWakeReports(): void {
    this.wakeReportTimer = this.opts.env.clock.setTimeout(() => this.sendWakeReports(), this.wakeReportIntervalMs);
    const now = this.opts.env.clock.now();
    const all = this.radio.takeSightings(now);
    if (!this.helloDone || !this.opts.link.connected) return;
    const clampU16 = (v: number) => Math.max(0, Math.min(0xffff, Math.round(v)));
    for (let i = 0; i < all.length; i += WAKE_REPORT_MAX_ENTRIES) {
      const entries = all.slice(i, i + WAKE_REPORT_MAX_ENTRIES).map((x) => ({ labelId: x.labelId, agoMs: clampU16(now - x.sleptAt), awakeMs: clampU16(x.awakeMs), nextWakeS: x.nextWakeS }));
      this.stats.wakeReports++;
      this.stats.wakeReportEntries += entries.length;
      this.send({ type: 'WAKE_REPORT', entries });
    }
  }

  /** Messages from the radio side: sent now, or kept until the edge has answered AP_HELLO (§8). */
  private uplink(m: RadioUplinkMessage): void {
    if (this.helloDone && this.opts.link.connected) {
      this.send(m);
      return;
    }
    if (!this.powered) return;
    this.outbox.push(m);
    if (this.outbox.length > OUTBOX_LIMIT) this.outbox.shift();
  }

  /**
   * §7.3 After EDGE_HELLO: what the edge never acknowledged before the link went down is sent again as new
   * frames, then what accumulated meanwhile.
   */
  private flushAfterHello(): void {
    const again = [...this.unacked.values()];
    this.unacked.clear();
    this.stats.resent += again.length;
    const queued = this.outbox;
    this.outbox = [];
    for (const m of [...again, ...queued]) this.send(m);
  }

  private send(message: Message): void {
    const frame: Frame = { version: this.version, seq: this.txSeq.next(), ackRequested: ACK_REQUESTED[message.type], message };
    if (frame.ackRequested) {
      this.unacked.set(frame.seq, message);
      if (this.unacked.size > OUTBOX_LIMIT) this.unacked.delete(this.unacked.keys().next().value!);
    }
    this.sendFrame(frame);
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
    const lose = this.losing.get(frame.message.type) ?? 0;
    if (lose > 0) {
      this.losing.set(frame.message.type, lose - 1);
      this.lostFromEdge.set(frame.message.type, (this.lostFromEdge.get(frame.message.type) ?? 0) + 1);
      return;
    }
    this.stats.framesIn++;
    const m = frame.message;
    if (m.type === 'ACK') {
      this.stats.acksReceived++;
      if (m.status === StatusCode.HELLO_REQUIRED) {
        // §8.1 The edge lost our session (it restarted): say hello again, at most every 5 s; the message stays
        // unacknowledged and is sent again after EDGE_HELLO.
        const now = this.opts.env.clock.now();
        if (now - this.lastHelloRequiredAt >= 5_000) {
          this.lastHelloRequiredAt = now;
          this.helloDone = false;
          this.helloAttempt = 0;
          this.sendHello();
        }
        return;
      }
      this.unacked.delete(m.ackSeq);
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
    const { status, then } = this.apply(m);
    this.ackCache.set(frame.seq, status);
    if (this.ackCache.size > ACK_CACHE_SIZE) this.ackCache.delete(this.ackCache.keys().next().value!);
    if (frame.ackRequested) this.ack(frame.seq, status);
    then?.();
  }

  /** Applies one edge message; `then` runs after the ACK is sent (what §4.3 says follows the ACK). */
  private apply(m: Message): { status: StatusCodeValue; then?: () => void } {
    switch (m.type) {
      case 'EDGE_HELLO': {
        if (m.version < this.opts.protoMin || m.version > this.opts.protoMax) return { status: StatusCode.UNSUPPORTED_VERSION };
        this.version = m.version;
        this.helloTimer?.cancel();
        this.helloTimer = undefined;
        // The AP has no clock of its own: it takes the edge's (labels get it in RADIO_SLEEP, §6.5).
        this.radio.clockOffsetMs = m.serverTimeMs - this.opts.env.clock.now();
        this.radio.checkinReportIntervalMs = m.checkinReportIntervalS * 1000;
        this.heartbeatTimer?.cancel();
        this.heartbeatTimer = undefined;
        this.heartbeatIntervalMs = m.heartbeatIntervalS * 1000;
        if (this.heartbeatIntervalMs > 0) this.heartbeatTimer = this.opts.env.clock.setTimeout(() => this.heartbeat(), this.heartbeatIntervalMs);
        const first = !this.helloDone;
        this.helloDone = true;
        return { status: StatusCode.OK, then: first ? () => this.flushAfterHello() : undefined };
      }
      case 'IMAGE_BEGIN': {
        const r = this.transfers.begin(m);
        const replaced = r.replaced;
        if (replaced === undefined) return { status: r.status };
        // §4.3 the replaced transfer ends with TRANSFER_RESULT CANCELLED.
        this.radio.abortTransfer(replaced.descriptor.transferId);
        return { status: r.status, then: () => this.radio.reportEnded(replaced, StatusCode.CANCELLED) };
      }
      case 'IMAGE_BLOCK':
        return { status: this.transfers.block(m) };
      case 'IMAGE_CANCEL': {
        const t = this.transfers.get(m.transferId);
        if (t === undefined) return { status: StatusCode.UNKNOWN_TRANSFER };
        // §4.3 a transfer the label is receiving finishes (its TRANSFER_RESULT comes from the label).
        if (this.radio.isOnAir(m.transferId)) return { status: StatusCode.OK };
        this.transfers.drop(m.transferId);
        return { status: StatusCode.OK, then: () => this.radio.reportEnded(t, StatusCode.CANCELLED) };
      }
      case 'LED_FLASH':
      case 'PAGE_SWITCH':
      case 'READ_SENSOR':
      case 'LABEL_COMMAND':
        return { status: this.radio.queueCommand(m) };
      case 'WAKE_REPORT_CONFIG':
        // §4.8 Only an AP that announced the capability reports wake-ups.
        if ((this.capabilities & ApCapability.WAKE_REPORT) === 0) return { status: StatusCode.UNSUPPORTED_FEATURE };
        this.setWakeReports(m.intervalMs);
        return { status: StatusCode.OK };
      case 'WORK_AHEAD':
        // §4.9 Only an AP that announced the capability keeps appointments.
        if (!this.radio.keepsAppointments) return { status: StatusCode.UNSUPPORTED_FEATURE };
        this.radio.workAhead(m.entries);
        return { status: StatusCode.OK };
      default:
        // AP→edge and radio messages mean nothing when they come from the edge.
        return { status: StatusCode.UNSUPPORTED_FEATURE };
    }
  }
}
