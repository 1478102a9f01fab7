/**
 * Sessions with the access points, over whatever links carry them. Implements the domain's ApGateway: sequence
 * numbers and duplicate detection (protocol §7.2), ACK waiting and, on links that do not redeliver by themselves,
 * retransmission with backoff (§7.3), version negotiation on AP_HELLO (§8), and HELLO_REQUIRED for an AP that
 * talks to an edge that does not know it (the edge restarted behind an external broker).
 */
import {
  ACK_REQUESTED,
  DuplicateWindow,
  MAX_RETRIES,
  PROTOCOL_VERSION,
  SeqCounter,
  StatusCode,
  ackTimeoutMs,
  nackFor,
  negotiateVersion,
  type DecodeResult,
  type Frame,
  type Message,
  type StatusCodeValue,
} from '#protocol';
import type { ApGateway, ApInbound } from '../domain/ports.js';
import type { Clock, Random, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { EdgeError, EdgeErrorCode, errorMessage } from '#contracts';
import type { FrameLink, FrameSink } from './frame-link.js';

interface Pending {
  resolve: (status: StatusCodeValue) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

interface Session {
  apId: string;
  link: FrameLink;
  version: number;
  /** False until the AP said hello: then nothing is sent to it but EDGE_HELLO / HELLO_REQUIRED. */
  ready: boolean;
  seq: SeqCounter;
  dup: DuplicateWindow;
  /** §7.2 The status each recently accepted frame was (or is being) answered with, for ACKing its duplicates. */
  answered: Map<number, Promise<StatusCodeValue>>;
  pending: Map<number, Pending>;
}

/** As many answers as the duplicate window remembers seq numbers (§7.2). */
const ANSWERS_KEPT = 64;

export interface ApHubOptions {
  links: FrameLink[];
  clock: Clock;
  random: Random;
  log: Logger;
  ackTimeoutMs: number;
  heartbeatIntervalS: number;
  checkinReportIntervalS: number;
}

export class ApHub implements ApGateway, FrameSink {
  private readonly sessions = new Map<string, Session>();
  readonly counters = { framesIn: 0, framesOut: 0, decodeErrors: 0, duplicates: 0, retransmits: 0 };

  /** When each AP was last heard from (any frame), for §5.2 heartbeat supervision. */
  private readonly lastHeard = new Map<string, number>();
  private supervisor: TimerHandle | null = null;
  private stopping = false;

  /** Where inbound messages go; given at start(), as a link is given its sink (the dispatcher behind it sends through this hub). */
  private inbound: ApInbound | null = null;

  constructor(private readonly opts: ApHubOptions) {}

  /** Links deliver frames only after start(), so this never throws in practice; it guards a wiring mistake. */
  private get sink(): ApInbound {
    if (!this.inbound) throw new EdgeError(EdgeErrorCode.AP_HUB_NOT_STARTED, 'an AP frame arrived before the hub was started');
    return this.inbound;
  }

  async start(inbound: ApInbound): Promise<void> {
    this.inbound = inbound;
    for (const link of this.opts.links) await link.start(this);
    this.superviseLater();
  }

  /** §5.2: an AP that missed three heartbeats is lost, even if its link looks up (a hung AP on USB). */
  private superviseLater(): void {
    if (this.stopping) return;
    const every = this.opts.heartbeatIntervalS * 1000;
    this.supervisor = this.opts.clock.setTimeout(() => {
      const now = this.opts.clock.now();
      for (const s of this.sessions.values()) {
        const heard = this.lastHeard.get(s.apId) ?? 0;
        if (s.ready && now - heard > 3 * every) {
          this.opts.log.warn({ evt: 'ap.heartbeat_lost', apId: s.apId, silentMs: now - heard }, 'AP missed three heartbeats');
          this.linkDown(s.link, s.apId);
        }
      }
      this.superviseLater();
    }, every);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.supervisor) this.opts.clock.clearTimeout(this.supervisor);
    for (const s of this.sessions.values()) this.failPending(s, new EdgeError(EdgeErrorCode.SHUTTING_DOWN, 'edge is stopping'));
    for (const link of this.opts.links) await link.stop().catch(() => undefined);
  }

  isOnline(apId: string): boolean {
    return this.sessions.get(apId)?.ready === true;
  }

  // ---- outbound ---------------------------------------------------------------------------------------

  async send(apId: string, message: Message): Promise<StatusCodeValue> {
    const s = this.sessions.get(apId);
    if (!s?.ready) throw new EdgeError(EdgeErrorCode.AP_OFFLINE, `AP ${apId} is not connected`);
    return this.sendWithAck(s, message);
  }

  private sendWithAck(s: Session, message: Message): Promise<StatusCodeValue> {
    const frame: Frame = { version: s.version, seq: s.seq.next(), ackRequested: true, message };
    return new Promise<StatusCodeValue>((resolve, reject) => {
      let attempt = 0;
      const transmit = () => {
        this.counters.framesOut++;
        s.link.send(s.apId, frame).catch((err) => this.settle(s, frame.seq, new EdgeError(EdgeErrorCode.AP_OFFLINE, errorMessage(err))));
        // Reliable links: one ACK timeout. Serial: retransmit the same frame (same seq, so the AP de-duplicates).
        // On the injected clock (D6, D22): a simulated store and its edge then agree on how long an ACK may take.
        const wait = s.link.reliable ? this.opts.ackTimeoutMs : ackTimeoutMs(attempt, this.opts.random);
        const timer = this.opts.clock.setTimeout(() => {
          if (!s.link.reliable && attempt < MAX_RETRIES) {
            attempt++;
            this.counters.retransmits++;
            transmit();
            return;
          }
          this.settle(s, frame.seq, new EdgeError(EdgeErrorCode.AP_ACK_TIMEOUT, `no ACK from AP ${s.apId} for ${message.type} seq ${frame.seq}`));
        }, wait);
        s.pending.set(frame.seq, { resolve, reject, timer });
      };
      transmit();
    });
  }

  private settle(s: Session, seq: number, outcome: StatusCodeValue | Error): void {
    const p = s.pending.get(seq);
    if (!p) return;
    this.opts.clock.clearTimeout(p.timer);
    s.pending.delete(seq);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private failPending(s: Session, err: Error): void {
    for (const seq of [...s.pending.keys()]) this.settle(s, seq, err);
  }

  private sendUnacked(s: Pick<Session, 'apId' | 'link' | 'seq'>, version: number, message: Message): void {
    this.counters.framesOut++;
    const frame: Frame = { version, seq: s.seq.next(), ackRequested: false, message };
    s.link.send(s.apId, frame).catch((err) => this.opts.log.debug({ evt: 'aphub.send_failed', apId: s.apId, err: errorMessage(err) }, 'send failed'));
  }

  private ack(s: Pick<Session, 'apId' | 'link' | 'seq'>, version: number, ackSeq: number, status: StatusCodeValue): void {
    this.sendUnacked(s, version, { type: 'ACK', ackSeq, status });
  }

  // ---- inbound ----------------------------------------------------------------------------------------

  frame(link: FrameLink, apId: string, result: DecodeResult): void {
    this.counters.framesIn++;
    this.lastHeard.set(apId, this.opts.clock.now());
    if (!result.ok) {
      this.counters.decodeErrors++;
      this.opts.log.warn({ evt: 'aphub.decode_error', apId, link: link.name, code: result.error.code, err: result.error.message }, 'undecodable frame from AP');
      const nack = nackFor(result.error);
      const s = this.sessions.get(apId);
      if (nack && s) this.ack(s, s.version, nack.ackSeq, nack.status);
      return;
    }
    void this.handle(link, apId, result.frame).catch((err) =>
      this.opts.log.error({ evt: 'aphub.handler_failed', apId, type: result.frame.message.type, err: errorMessage(err) }, 'AP message handler failed'),
    );
  }

  linkDown(link: FrameLink, apId: string): void {
    const s = this.sessions.get(apId);
    if (!s || s.link !== link || this.stopping || !s.ready) return;
    s.ready = false;
    this.failPending(s, new EdgeError(EdgeErrorCode.AP_OFFLINE, `AP ${apId} went offline`));
    this.opts.log.warn({ evt: 'ap.offline', apId, link: link.name }, 'AP offline');
    void this.sink.apOffline(apId);
  }

  private async handle(link: FrameLink, apId: string, frame: Frame): Promise<void> {
    const m = frame.message;
    if (m.type === 'AP_HELLO') return this.hello(link, apId, frame, m);

    const s = this.sessions.get(apId);
    if (!s?.ready || s.link !== link) {
      // §8: we have no session with this AP (we restarted): ask it to say hello; drop the frame.
      if (frame.ackRequested) this.ack({ apId, link, seq: s?.seq ?? new SeqCounter() }, frame.version, frame.seq, StatusCode.HELLO_REQUIRED);
      return;
    }
    if (m.type === 'ACK') return this.settle(s, m.ackSeq, m.status);
    if (s.dup.seen(frame.seq)) {
      // §7.2: a duplicate is ACKed again, with the status sent the first time (awaited when the original is still
      // being handled), but not acted on twice.
      this.counters.duplicates++;
      if (frame.ackRequested) this.ack(s, s.version, frame.seq, await (s.answered.get(frame.seq) ?? StatusCode.OK));
      return;
    }
    const answer = this.deliver(apId, m);
    s.answered.delete(frame.seq);
    s.answered.set(frame.seq, answer);
    if (s.answered.size > ANSWERS_KEPT) s.answered.delete(s.answered.keys().next().value!);
    const status = await answer;
    if (frame.ackRequested) this.ack(s, s.version, frame.seq, status);
  }

  /**
   * Hands an AP message to the domain and returns the ACK status. A domain failure becomes INTERNAL_ERROR: the
   * frame was not acted on, and the AP must hear so (§7.1 NACK) — without an answer it would retransmit the same
   * seq, which the duplicate window then ACKs, and the message would be lost without anyone noticing.
   */
  private async deliver(apId: string, m: Message): Promise<StatusCodeValue> {
    const inbound = this.sink;
    try {
      switch (m.type) {
        case 'AP_HEARTBEAT':
          await inbound.apHeartbeat(apId, m);
          return StatusCode.OK;
        case 'LABEL_CHECKIN':
          return await inbound.labelCheckin(apId, m);
        case 'TRANSFER_RESULT':
          return await inbound.transferResult(apId, m);
        case 'SENSOR_VALUE':
          return await inbound.sensorValue(apId, m);
        case 'WAKE_REPORT':
          await inbound.wakeReport?.(apId, m);
          return StatusCode.OK;
        default:
          // Edge→AP or radio messages have no business arriving here.
          return StatusCode.UNSUPPORTED_FEATURE;
      }
    } catch (err) {
      this.opts.log.error({ evt: 'aphub.handler_failed', apId, type: m.type, err: errorMessage(err) }, 'AP message handler failed');
      return StatusCode.INTERNAL_ERROR;
    }
  }

  private async hello(link: FrameLink, apId: string, frame: Frame, m: Extract<Message, { type: 'AP_HELLO' }>): Promise<void> {
    const old = this.sessions.get(apId);
    if (m.apId !== apId) {
      this.opts.log.warn({ evt: 'ap.hello_mismatch', apId, announced: m.apId }, 'AP announced another id than its topic or port');
    }
    const version = negotiateVersion(m.protoMin, m.protoMax);
    const seq = old?.seq ?? new SeqCounter();
    if (version === null) {
      this.opts.log.error({ evt: 'ap.unsupported_version', apId, protoMin: m.protoMin, protoMax: m.protoMax }, 'AP speaks no protocol version we support');
      this.ack({ apId, link, seq }, PROTOCOL_VERSION, frame.seq, StatusCode.UNSUPPORTED_VERSION);
      return;
    }
    if (old) this.failPending(old, new EdgeError(EdgeErrorCode.AP_OFFLINE, `AP ${apId} restarted`));
    const s: Session = { apId, link, version, ready: true, seq, dup: new DuplicateWindow(), answered: new Map(), pending: new Map() };
    s.dup.seen(frame.seq);
    this.sessions.set(apId, s);
    this.opts.log.info({ evt: 'ap.hello', apId, fw: m.fwVersion, version, link: link.name, queueCapacity: m.queueCapacity }, 'AP connected');
    await this.sink.apHello(apId, m, version);
    const reply: Message = {
      type: 'EDGE_HELLO',
      version,
      serverTimeMs: this.opts.clock.now(),
      heartbeatIntervalS: this.opts.heartbeatIntervalS,
      checkinReportIntervalS: this.opts.checkinReportIntervalS,
    };
    // §8: hello frames are version 1.
    if (ACK_REQUESTED.EDGE_HELLO) {
      const f: Frame = { version: PROTOCOL_VERSION, seq: s.seq.next(), ackRequested: true, message: reply };
      this.counters.framesOut++;
      // The AP's ACK settles nothing we wait for, but keeps the AP's rules; a lost EDGE_HELLO makes the AP say hello again.
      link.send(apId, f).catch(() => undefined);
    } else {
      this.sendUnacked(s, PROTOCOL_VERSION, reply);
    }
  }
}

