/**
 * A simulated electronic shelf label: sleeps, wakes on its interval, and runs one radio exchange with its AP per
 * wake-up (firmware-protocol/README.md §9): RADIO_CHECKIN → [RADIO_PENDING → RADIO_BLOCK_REQUEST / RADIO_PART
 * rounds → RADIO_XFER_DONE] → RADIO_COMMAND* → RADIO_SLEEP. Every frame goes through the codec and the
 * simulated air (radio-air.ts), so lost and corrupted frames are lost and rejected exactly as on hardware.
 *
 * The label is the active side of the exchange: it re-sends its last frame when an answer does not come, asks
 * in each block request for exactly the parts still missing, and gives up after the awake-time limit of a
 * transfer, keeping what it received for the next wake-up.
 */
import {
  CtxDecoderState,
  DuplicateWindow,
  ImageEncoding,
  ImageKind,
  LabelDecoder,
  LEGACY_LABEL_DECODERS,
  LabelCommandCode,
  ProtocolError,
  StatusCode,
  WakeReason,
  applyImage,
  descriptorOfOffer,
  RADIO_PART_HEADER,
  BLOCK_SIZE,
  PART_SIZE,
  burstParts,
  partLength,
  decodeFrame,
  partialRefreshApplies,
  xferDoneStatusFor,
  labelTypeById,
  type LabelType,
  type Message,
  type MessageOf,
  type StatusCodeValue,
} from '#protocol';
import { LabelDisplay, type RefreshKind } from './label-display.js';
import {
  REQUEST_LOG_LENGTH,
  TRANSFER_LOG_LENGTH,
  emptyLabelStats,
  type BlockRequestRecord,
  type LabelStats,
  type TransferRadioStats,
} from './label-stats.js';
import type { RadioAir, Transmission } from './radio-air.js';
import { jitteredMs, type RadioModel } from './radio-model.js';
import type { Random } from './rng.js';
import type { SimClock, TimerHandle } from './sim-clock.js';
import { TransferReceiver } from './transfer-receiver.js';
import type { TransferDescriptor } from './transfer-store.js';

/** The AP as a label sees it: something that hears its frames. */
export interface LabelPeer {
  readonly apId: string;
  onLabelFrame(label: VirtualLabel, bytes: Uint8Array): void;
}

export interface LabelEnvironment {
  clock: SimClock;
  model: RadioModel;
  random: Random;
  air: RadioAir;
  /** The AP that answers this label now (home AP if its radio is on, else a neighbour), or null. */
  servingAp(label: VirtualLabel): LabelPeer | null;
}

export interface LabelSpec {
  labelId: string;
  labelType: number;
  apId: string;
  neighbourApId?: string;
  /** Battery at start (default: the model's batteryStartMv). */
  batteryMv?: number;
  /** §5.3 LabelDecoder bits it announces (default: RLE, ZLIB, CTX, OFFER §9.10 and WAIT §9.11); null = firmware of before §6.6 (no byte sent). */
  decoders?: number | null | undefined;
}

/** §9.2 What a simulated label decodes unless told otherwise: everything, CTX included. */
export const SIM_LABEL_DECODERS = LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX | LabelDecoder.OFFER | LabelDecoder.WAIT | LabelDecoder.BURST;

type WakeReasonValue = MessageOf<'RADIO_CHECKIN'>['wakeReason'];
type Phase = 'checkin' | 'transfer' | 'done';

interface Exchange {
  ap: LabelPeer | null;
  window: DuplicateWindow;
  phase: Phase;
  timer: TimerHandle | undefined;
  retries: number;
  /** Re-sends the frame of the current phase when its answer does not come. */
  resend: () => void;
  deadline: number;
  block: number;
  /** Last time a valid frame from the AP arrived (a label that hears nothing for 2 s sleeps, §9.1). */
  lastHeardAt: number;
  request: BlockRequestRecord | undefined;
  done: MessageOf<'RADIO_XFER_DONE'> | undefined;
  /** §9.11 This wake-up already listened once on RADIO_WAIT (a second one counts as no answer). */
  waited: boolean;
  /** §9.12 When the AP's burst of block 0 after its RADIO_OFFER ends (0: no burst): the label sends nothing before. */
  burstEnd: number;
}

/** Payload allowance for the AP's answer to a control frame (RADIO_PENDING, the largest, is ~60 bytes). */
const CONTROL_REPLY_BYTES = 96;
/** Time from a reboot to the first check-in. */
const BOOT_MS = 1_000;
/** §9.1 A label that hears nothing from the AP for this long sleeps. */
const AP_LOST_MS = 2_000;

/** §6.4 The status a label answers for an image it could not apply. */
export function statusForImageError(e: unknown): StatusCodeValue {
  return e instanceof ProtocolError ? xferDoneStatusFor(e) : StatusCode.INTERNAL_ERROR;
}

export class VirtualLabel {
  readonly id: string;
  readonly type: LabelType;
  /** The AP whose area the label hangs in (moveTo changes it, as a label moved in the store). */
  private home: string;
  /** An AP that also hears the label, at a weaker signal; none after a move. */
  private neighbour: string | undefined;
  readonly display: LabelDisplay;
  readonly stats: LabelStats = emptyLabelStats();
  /** Radio statistics of the most recent transfers, newest last. */
  readonly transfers: TransferRadioStats[] = [];
  private battery: number;
  /** Rebooted and no AP has answered since: the next check-ins say BOOT (§9.9). */
  private booted = true;
  /** UNASSOCIATE received: the next check-in is a first contact. */
  private unassociated = false;
  /** A transferred image reached the panel and no check-in has reported it yet (TRANSFER_DONE, §5.3). */
  private transferShown = false;
  /** The AP of the last answered exchange (a check-in elsewhere is a FIRST_CONTACT, §5.3). */
  private lastApId: string | undefined;
  /** AP time minus simulated time, learnt from RADIO_SLEEP.nowMs (§9.7); undefined until the first sleep. */
  private clockOffset: number | undefined;
  private txSeq: number;
  private wakeTimer: TimerHandle | undefined;
  /** When the label will wake next (simulated ms): ground truth for benchmarks that judge a scheduler's picks. */
  nextWakeAt = 0;
  private exchange: Exchange | undefined;
  private receiver: TransferReceiver | undefined;
  private log: TransferRadioStats | undefined;
  /** The log of the transfer this wake-up's exchange is about; its frames count towards its bytesOnAir. */
  private activeLog: TransferRadioStats | undefined;
  /** A timed image received before the label knew the time: placed at the next RADIO_SLEEP. */
  private unsyncedTimed: { d: TransferDescriptor; planes: Uint8Array; kind: RefreshKind } | undefined;
  private rebootAfterExchange = false;
  private stopped = false;
  /** §9.2 Announced decoder bits; null = a legacy label that sends no decoders byte (and decodes RLE and ZLIB). */
  private readonly decoders: number | null;
  /** §6.6.6 The CTX decoder's fixed working memory, allocated once, as on the label's MCU. */
  readonly ctxState = new CtxDecoderState();

  constructor(
    spec: LabelSpec,
    private readonly env: LabelEnvironment,
  ) {
    const type = labelTypeById(spec.labelType);
    if (type === undefined) throw new RangeError(`unknown label type ${spec.labelType} for label ${spec.labelId}`);
    this.id = spec.labelId;
    this.type = type;
    this.home = spec.apId;
    this.neighbour = spec.neighbourApId;
    this.battery = spec.batteryMv ?? env.model.batteryStartMv;
    this.decoders = spec.decoders === undefined ? SIM_LABEL_DECODERS : spec.decoders;
    this.txSeq = Math.floor(env.random() * 0x10000);
    this.display = new LabelDisplay(type, env.clock, { onRefreshed: (kind, newImage) => this.onRefreshed(kind, newImage) });
  }

  get homeApId(): string {
    return this.home;
  }

  get neighbourApId(): string | undefined {
    return this.neighbour;
  }

  /** The battery is at `mv` from now on (it keeps draining from there); the next check-in reports it. */
  setBattery(mv: number): void {
    if (!Number.isFinite(mv) || mv < 0) throw new RangeError(`battery ${mv} mV out of range`);
    this.battery = mv;
  }

  /**
   * The label now hangs where only `apId` hears it: it checks in there at its next wake-up (FIRST_CONTACT, §5.3)
   * and the edge must route its transfers to that AP. Its former neighbour no longer hears it either.
   */
  moveTo(apId: string): void {
    this.home = apId;
    this.neighbour = undefined;
  }

  get batteryMv(): number {
    return Math.max(0, Math.round(this.battery));
  }

  /** A download is under way or cut off and waiting to be resumed. */
  get receiving(): boolean {
    return this.receiver !== undefined;
  }

  get awake(): boolean {
    return this.exchange !== undefined;
  }

  /** The label's idea of the AP's time, or undefined before its first RADIO_SLEEP. */
  labelNow(): number | undefined {
    return this.clockOffset === undefined ? undefined : this.env.clock.now() + this.clockOffset;
  }

  /** First wake-up at simulated time `atMs` (the label has just been powered: it reports BOOT). */
  start(atMs: number): void {
    this.stopped = false;
    this.scheduleWake(atMs);
  }

  stop(): void {
    this.stopped = true;
    this.wakeTimer?.cancel();
    this.wakeTimer = undefined;
    this.endExchangeTimers();
    this.exchange = undefined;
  }

  /**
   * Reboot (fault injection or LABEL_COMMAND REBOOT). RAM is lost: the display memory, a partial download and
   * the clock. The e-paper still shows its last picture, but the label cannot prove it, so its next check-in
   * reports BLANK_HASH with wake reason BOOT and the edge sends the image again (§5.3).
   */
  reboot(): void {
    this.stats.reboots++;
    this.endExchangeTimers();
    this.exchange = undefined;
    this.display.wipeMemory();
    this.receiver = undefined;
    this.log = undefined;
    this.activeLog = undefined;
    this.unsyncedTimed = undefined;
    this.clockOffset = undefined;
    this.rebootAfterExchange = false;
    this.booted = true;
    this.transferShown = false;
    if (!this.stopped) this.scheduleWake(this.env.clock.now() + BOOT_MS);
  }

  /** Air time spent on a frame to or from this label (the AP calls it for the frames it sends). */
  accountAir(bytes: number, inTransfer: boolean): void {
    this.stats.radioBytes += bytes;
    this.battery -= (bytes / 1024) * this.env.model.batteryDrainPerKbMv;
    if (inTransfer) {
      this.stats.bytesOnAir += bytes;
      if (this.activeLog !== undefined) this.activeLog.bytesOnAir += bytes;
    }
  }

  /** A frame arrives from an AP. Asleep, the radio is off and nothing is heard. */
  onApFrame(from: LabelPeer, bytes: Uint8Array): void {
    const ex = this.exchange;
    if (ex === undefined || from !== ex.ap) return;
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) {
      // §3.6 a frame that fails the CRC is dropped silently; the missing answer makes the label ask again.
      this.stats.framesRejected++;
      if (ex.phase === 'transfer' && this.log !== undefined) this.log.framesRejected++;
      return;
    }
    if (ex.window.seen(decoded.frame.seq)) {
      this.stats.framesDuplicate++;
      return;
    }
    // Any answer proves the AP heard this wake-up's check-in, wake reason included.
    ex.lastHeardAt = this.env.clock.now();
    this.booted = false;
    this.unassociated = false;
    this.transferShown = false;
    this.lastApId = from.apId;
    const m = decoded.frame.message;
    switch (m.type) {
      case 'RADIO_PENDING':
        if (m.labelId === this.id && ex.phase === 'checkin') this.onPending(ex, m, bytes.length);
        return;
      case 'RADIO_OFFER':
        // §9.10 Only a label that announced it takes an offer; the frame is addressed to it by its EUI-64.
        if (ex.phase === 'checkin' && this.decoders !== null && (this.decoders & LabelDecoder.OFFER) !== 0) this.onOffer(ex, m, bytes.length);
        return;
      case 'RADIO_PART':
        this.onPart(ex, m);
        return;
      case 'RADIO_COMMAND':
        this.onCommand(ex, m);
        return;
      case 'RADIO_SLEEP':
        this.onSleep(m);
        return;
      case 'RADIO_WAIT':
        if (ex.phase === 'checkin' && this.decoders !== null && (this.decoders & LabelDecoder.WAIT) !== 0) this.onWait(ex, m);
        return;
      default:
        return;
    }
  }

  // ---- exchange ----------------------------------------------------------------------------------------

  private wake(): void {
    this.wakeTimer = undefined;
    if (this.stopped) return;
    const now = this.env.clock.now();
    // A label busy refreshing its panel does not listen; it checks in once the refresh is done.
    if (this.display.refreshUntil > now) {
      this.scheduleWake(this.display.refreshUntil + 1);
      return;
    }
    this.stats.wakeUps++;
    this.battery -= this.env.model.batteryDrainPerWakeMv;
    const ex: Exchange = {
      ap: this.env.servingAp(this),
      window: new DuplicateWindow(16),
      phase: 'checkin',
      timer: undefined,
      retries: 0,
      resend: () => this.sendCheckin(this.env.clock.now()),
      deadline: 0,
      block: -1,
      lastHeardAt: now,
      request: undefined,
      done: undefined,
      waited: false,
      burstEnd: 0,
    };
    this.exchange = ex;
    this.sendCheckin(now);
  }

  private sendCheckin(startAt: number): void {
    const tx = this.send(
      {
        type: 'RADIO_CHECKIN',
        labelId: this.id,
        labelType: this.type.id,
        displayedHash: this.display.reportedHash(),
        page: this.display.page,
        batteryMv: Math.min(0xffff, this.batteryMv),
        temperatureC: this.env.model.temperatureC,
        wakeReason: this.wakeReason(),
        ...(this.decoders !== null ? { decoders: this.decoders } : {}),
      },
      startAt,
      false,
    );
    this.awaitAnswer(tx);
  }

  /** §5.3 BOOT, then FIRST_CONTACT (another AP, or after UNASSOCIATE), then TRANSFER_DONE, else TIMER. */
  private wakeReason(): WakeReasonValue {
    if (this.booted) return WakeReason.BOOT;
    const ap = this.exchange?.ap;
    if (this.unassociated || (ap !== undefined && ap !== null && this.lastApId !== undefined && ap.apId !== this.lastApId)) return WakeReason.FIRST_CONTACT;
    if (this.transferShown) return WakeReason.TRANSFER_DONE;
    return WakeReason.TIMER;
  }

  /** Waits for the AP's answer to a control frame; without one, re-sends (a new frame) or gives up. */
  private awaitAnswer(tx: Transmission): void {
    const m = this.env.model;
    this.arm(tx.endAt + m.turnaroundMs + this.env.air.frameAirMs(CONTROL_REPLY_BYTES) + m.replyTimeoutMs, () => this.noAnswer());
  }

  private noAnswer(): void {
    const ex = this.exchange;
    if (ex === undefined) return;
    if (ex.retries >= this.env.model.maxRadioRetries) {
      if (ex.phase === 'checkin') this.stats.missedExchanges++;
      this.endExchange(this.defaultSleepMs());
      return;
    }
    ex.retries++;
    ex.resend();
  }

  private onCommand(ex: Exchange, m: MessageOf<'RADIO_COMMAND'>): void {
    ex.retries = 0;
    this.stats.commandsExecuted++;
    const c = m.command;
    switch (c.type) {
      case 'LED_FLASH':
        if (this.type.led) this.stats.ledFlashes++;
        break;
      case 'PAGE_SWITCH':
        this.display.switchPage(c.page, c.durationS);
        break;
      case 'LABEL_COMMAND':
        if (c.command === LabelCommandCode.REBOOT) this.rebootAfterExchange = true; // once the exchange is over
        else if (c.command === LabelCommandCode.REFRESH) this.display.refreshNow();
        else if (c.command === LabelCommandCode.UNASSOCIATE) this.unassociated = true; // looks for an AP anew
        break;
      case 'READ_SENSOR':
        // The AP answers from the values of the check-in (README §5.5); nothing to do on the label.
        break;
    }
    // More commands or the RADIO_SLEEP follow; the frame of the phase is re-sent if they do not.
    this.arm(this.env.clock.now() + 2 * this.env.air.frameAirMs(CONTROL_REPLY_BYTES) + this.env.model.replyTimeoutMs, () => this.noAnswer());
  }

  /**
   * §9.11 The AP will start this wake-up's transfer within waitMs: keep listening (the radio stays in receive, the
   * cost of a hold) until RADIO_PENDING / RADIO_OFFER comes; past waitMs and the answer's own air time, check in
   * again as if the answer had been lost. Once per wake-up: a second RADIO_WAIT is no answer.
   */
  private onWait(ex: Exchange, m: MessageOf<'RADIO_WAIT'>): void {
    if (ex.waited) return;
    ex.waited = true;
    ex.retries = 0;
    this.stats.radioWaits++;
    const model = this.env.model;
    this.arm(this.env.clock.now() + m.waitMs + model.turnaroundMs + this.env.air.frameAirMs(CONTROL_REPLY_BYTES) + model.replyTimeoutMs, () => this.noAnswer());
  }

  private onSleep(m: MessageOf<'RADIO_SLEEP'>): void {
    const now = this.env.clock.now();
    this.clockOffset = m.nowMs - now;
    const timed = this.unsyncedTimed;
    this.unsyncedTimed = undefined;
    if (timed !== undefined) this.show(timed.d, timed.planes, timed.kind);
    this.endExchange(jitteredMs(this.env.model, m.nextWakeS * 1000, this.env.random));
    if (this.rebootAfterExchange) this.reboot();
  }

  // ---- transfer ----------------------------------------------------------------------------------------

  /** Decisions the label makes from the descriptor alone, before downloading anything (§9.3). */
  private precheck(d: TransferDescriptor): StatusCodeValue | undefined {
    if (d.labelType !== this.type.id || d.page >= this.type.pages) return StatusCode.INVALID_PARAMETER;
    // §9.1 step 3: an encoding the label cannot decode is refused before downloading anything.
    if (!this.decodes(d.encoding)) return StatusCode.UNSUPPORTED_FEATURE;
    const has = this.display.hashOfPage(d.page);
    if (d.displayAt === 0 && has === d.targetHash) {
      // Already shows the target: an image waiting for a later time on this page is now stale.
      this.display.dropTimed(d.page);
      return StatusCode.OK;
    }
    if (d.displayAt > 0 && (this.display.timedHash(d.page) ?? has) === d.targetHash) return StatusCode.OK;
    if (d.kind !== ImageKind.FULL && d.baseHash !== has) return StatusCode.BASE_MISMATCH;
    return undefined;
  }

  private decodes(encoding: number): boolean {
    const bits = this.decoders ?? LEGACY_LABEL_DECODERS;
    switch (encoding) {
      case ImageEncoding.RAW:
        return true;
      case ImageEncoding.RLE:
        return (bits & LabelDecoder.RLE) !== 0;
      case ImageEncoding.ZLIB:
        return (bits & LabelDecoder.ZLIB) !== 0;
      case ImageEncoding.CTX:
        return (bits & LabelDecoder.CTX) !== 0;
      default:
        return false;
    }
  }

  private onPending(ex: Exchange, d: MessageOf<'RADIO_PENDING'>, frameBytes: number): void {
    const { type: _type, ...descriptor } = d;
    this.beginTransfer(ex, descriptor, frameBytes, undefined);
  }

  /**
   * §9.10.4 RADIO_OFFER: the descriptor with the label's own id and type, and part 0 of block 0 taken as if it had
   * come in a RADIO_PART; then the label asks for what is still missing (nothing when the payload fitted).
   */
  private onOffer(ex: Exchange, m: MessageOf<'RADIO_OFFER'>, frameBytes: number): void {
    const d = descriptorOfOffer(m, this.id, this.type.id);
    // §9.12 An offer with part 0, to a label that announced BURST, is followed by the rest of block 0: the label
    // listens until it has ended (its own frames would collide with it) and asks only then for what it still lacks.
    ex.burstEnd = 0;
    const resuming = this.receiver?.descriptor.transferId === d.transferId;
    if (this.takesBursts && !resuming && m.data.length > 0 && this.env.model.maxPartBytes === PART_SIZE) {
      const block0 = Math.min(d.totalSize, BLOCK_SIZE);
      const ms = this.partsAirMs(block0, burstParts(block0, PART_SIZE), PART_SIZE);
      if (ms > 0) ex.burstEnd = this.env.clock.now() + ms;
    }
    this.beginTransfer(ex, d, frameBytes, m.data);
  }

  /** §9.12 The label announced BURST (decoders bit 5) and its APs burst (the model's AP firmware). */
  private get takesBursts(): boolean {
    return this.decoders !== null && (this.decoders & LabelDecoder.BURST) !== 0 && this.env.model.apBurst;
  }

  private beginTransfer(ex: Exchange, descriptor: TransferDescriptor, frameBytes: number, part0: Uint8Array | undefined): void {
    const d = descriptor;
    ex.retries = 0;
    const early = this.precheck(descriptor);
    if (early !== undefined) {
      this.finishTransfer(ex, descriptor.transferId, early, Math.max(ex.burstEnd, this.env.clock.now()) + this.env.model.turnaroundMs);
      return;
    }
    const now = this.env.clock.now();
    const resumable = this.receiver?.descriptor;
    if (resumable !== undefined && resumable.transferId === d.transferId && resumable.totalSize === d.totalSize && this.log?.transferId === d.transferId) {
      this.stats.transferRetries++;
      this.log.wakeUps++;
    } else {
      this.receiver = new TransferReceiver(descriptor, this.env.model.maxPartBytes);
      this.log = { transferId: d.transferId, kind: d.kind, encoding: d.encoding, startedAt: now, wakeUps: 1, requests: [], partsReceived: 0, partsDuplicate: 0, framesRejected: 0, bytesOnAir: 0 };
      this.transfers.push(this.log);
      if (this.transfers.length > TRANSFER_LOG_LENGTH) this.transfers.shift();
    }
    // The AP counted the RADIO_PENDING / RADIO_OFFER when it sent it, before the label knew which transfer it was about.
    this.activeLog = this.log;
    this.log.bytesOnAir += frameBytes;
    if (part0 !== undefined) this.log.radioOffers = (this.log.radioOffers ?? 0) + 1;
    if (part0 !== undefined && part0.length > 0) {
      const outcome = this.receiver?.accept({ type: 'RADIO_PART', transferId: d.transferId, blockIndex: 0, partIndex: 0, data: part0 });
      if (outcome === 'new') this.log.partsReceived++;
      else if (outcome === 'duplicate') this.log.partsDuplicate++;
    }
    ex.phase = 'transfer';
    ex.deadline = now + this.env.model.transferTimeoutMs;
    ex.resend = () => this.requestNext(ex, this.env.clock.now());
    const rx = this.receiver;
    if (ex.burstEnd > now && rx !== undefined) {
      // §9.12 Block 0 comes unasked: a round as after a request, without the request. The last part completes the
      // block (onPart asks for the next); a lost part is asked for when the round's time is up.
      ex.block = 0;
      // Not logged as a request: none was sent (the parts of the round are counted as they come).
      ex.request = { at: now, blockIndex: 0, parts: rx.missingParts(0), received: [] };
      this.arm(Math.min(ex.deadline, ex.burstEnd + this.env.model.replyTimeoutMs), () => this.roundTimedOut(ex));
      return;
    }
    this.requestNext(ex, now + this.env.model.turnaroundMs);
  }

  /** §9.4 Asks for the parts still missing in the first incomplete block, or finishes when none is missing. */
  private requestNext(ex: Exchange, startAt: number): void {
    const rx = this.receiver;
    if (rx === undefined) return;
    if (this.env.clock.now() >= ex.deadline) {
      this.transferTimedOut();
      return;
    }
    const block = rx.firstIncompleteBlock();
    if (block < 0) {
      this.completeTransfer(ex, rx, startAt);
      return;
    }
    const parts = rx.missingParts(block);
    const partsWanted = rx.wantedBitmap(block);
    ex.request = { at: startAt, blockIndex: block, parts, received: [] };
    if (this.log !== undefined && this.log.requests.length < REQUEST_LOG_LENGTH) this.log.requests.push(ex.request);
    ex.block = block;
    const tx = this.send({ type: 'RADIO_BLOCK_REQUEST', transferId: rx.descriptor.transferId, blockIndex: block, partsWanted }, startAt, true);
    const partsMs = this.partsAirMs(rx.blockLength(block), parts, rx.partSize);
    const m = this.env.model;
    this.arm(Math.min(ex.deadline, tx.endAt + m.turnaroundMs + partsMs + m.replyTimeoutMs), () => this.roundTimedOut(ex));
  }

  /** Air time (ms) of the given RADIO_PARTs of a block of `blockLength` bytes sent back to back (§9.4). */
  private partsAirMs(blockLength: number, parts: readonly number[], partSize: number): number {
    let ms = 0;
    for (const p of parts) ms += this.env.air.frameAirMs(RADIO_PART_HEADER + partLength(blockLength, p, partSize));
    return ms;
  }

  private roundTimedOut(ex: Exchange): void {
    if (this.env.clock.now() >= ex.deadline) {
      this.transferTimedOut();
      return;
    }
    // Parts lost here and there are asked for again; nothing at all for 2 s means the AP is gone.
    if (this.env.clock.now() - ex.lastHeardAt >= AP_LOST_MS) {
      this.transferTimedOut();
      return;
    }
    this.requestNext(ex, this.env.clock.now());
  }

  private onPart(ex: Exchange, m: MessageOf<'RADIO_PART'>): void {
    const rx = this.receiver;
    if (ex.phase !== 'transfer' || rx === undefined || m.transferId !== rx.descriptor.transferId) return;
    const outcome = rx.accept(m);
    if (outcome === 'new') {
      if (ex.request !== undefined && ex.request.blockIndex === m.blockIndex) ex.request.received.push(m.partIndex);
      if (this.log !== undefined) this.log.partsReceived++;
    } else if (outcome === 'duplicate' && this.log !== undefined) {
      this.log.partsDuplicate++;
    }
    if (m.blockIndex === ex.block && rx.missingCount(ex.block) === 0) {
      this.requestNext(ex, Math.max(ex.burstEnd, this.env.clock.now()) + this.env.model.turnaroundMs);
    }
  }

  /** §6.4 All blocks are in: apply the payload over the display memory and verify the target hash. */
  private completeTransfer(ex: Exchange, rx: TransferReceiver, startAt: number): void {
    const d = rx.descriptor;
    this.receiver = undefined;
    // §9.8 XFER_DONE reports what the panel shows at this moment, before the refresh that follows.
    const shownBefore = this.display.reportedHash();
    let status: StatusCodeValue = StatusCode.OK;
    let planes: Uint8Array | undefined;
    try {
      planes = applyImage({
        labelType: this.type,
        kind: d.kind,
        encoding: d.encoding,
        region: d.region,
        payload: rx.payload(),
        current: this.display.planesOfPage(d.page),
        baseHash: d.baseHash,
        targetHash: d.targetHash,
        ctxState: this.ctxState,
      });
    } catch (e) {
      status = statusForImageError(e);
    }
    if (planes !== undefined) {
      this.stats.updates++;
      // §6.3.2 A region that changes only black and white refreshes partially, where the panel can.
      const before = this.display.planesOfPage(d.page);
      const partial = before !== null && partialRefreshApplies(this.type, d.kind, d.region, before, planes);
      this.show(d, planes, partial ? 'partial' : 'full');
    }
    this.finishTransfer(ex, d.transferId, status, startAt, shownBefore);
  }

  /** Puts a verified image in display memory, now or at its display time (§6.5). */
  private show(d: TransferDescriptor, planes: Uint8Array, kind: RefreshKind): void {
    if (d.displayAt > 0) {
      const labelNow = this.labelNow();
      if (labelNow === undefined) {
        // Without the time the label cannot honour displayAt; showing early could show a price too soon.
        this.unsyncedTimed = { d, planes, kind };
        return;
      }
      if (d.displayAt > labelNow) {
        this.display.storeAt(d.displayAt - (this.clockOffset ?? 0), d.page, planes, d.targetHash, kind);
        return;
      }
    }
    this.display.store(d.page, planes, d.targetHash, kind);
  }

  private finishTransfer(ex: Exchange, transferId: number, status: StatusCodeValue, startAt: number, displayedHash = this.display.reportedHash()): void {
    if (this.log !== undefined && this.log.transferId === transferId && this.log.finishedAt === undefined) {
      this.log.finishedAt = startAt;
      this.log.status = status;
    }
    ex.phase = 'done';
    ex.retries = 0;
    ex.done = { type: 'RADIO_XFER_DONE', transferId, status, displayedHash };
    ex.resend = () => this.sendDone(ex, this.env.clock.now());
    this.sendDone(ex, startAt);
  }

  private sendDone(ex: Exchange, startAt: number): void {
    if (ex.done === undefined) return;
    this.awaitAnswer(this.send(ex.done, startAt, true));
  }

  private transferTimedOut(): void {
    this.stats.transferTimeouts++;
    // The receive buffer is kept: the next RADIO_PENDING of the same transfer resumes it.
    this.endExchange(this.defaultSleepMs());
  }

  // ---- plumbing ----------------------------------------------------------------------------------------

  private send(message: Message, startAt: number, inTransfer: boolean): Transmission {
    const ap = this.exchange?.ap ?? null;
    const seq = this.txSeq;
    this.txSeq = (seq + 1) & 0xffff;
    const tx = this.env.air.send(message, seq, startAt, ap === null ? () => undefined : (bytes) => ap.onLabelFrame(this, bytes));
    this.accountAir(tx.bytes, inTransfer);
    return tx;
  }

  private arm(atMs: number, fn: () => void): void {
    const ex = this.exchange;
    if (ex === undefined) return;
    ex.timer?.cancel();
    ex.timer = this.env.clock.schedule(atMs, () => {
      ex.timer = undefined;
      if (this.exchange === ex) fn();
    });
  }

  private endExchangeTimers(): void {
    this.exchange?.timer?.cancel();
  }

  private endExchange(sleepMs: number): void {
    this.endExchangeTimers();
    this.exchange = undefined;
    this.activeLog = undefined;
    this.scheduleWake(this.env.clock.now() + sleepMs);
  }

  private defaultSleepMs(): number {
    return jitteredMs(this.env.model, this.env.model.wakeIntervalMs, this.env.random);
  }

  private scheduleWake(atMs: number): void {
    this.nextWakeAt = atMs;
    this.wakeTimer?.cancel();
    this.wakeTimer = this.env.clock.schedule(atMs, () => this.wake());
  }

  private onRefreshed(_kind: RefreshKind, newImage: boolean): void {
    this.stats.refreshes++;
    if (newImage) this.transferShown = true;
    this.battery -= this.env.model.batteryDrainPerRefreshMv;
  }
}
