/**
 * The radio side of a simulated access point (firmware-protocol/README.md §5.3, §9): answers label check-ins,
 * forwards them to the edge by the forwarding rule, runs one image transfer at a time over its channel, hands
 * queued commands to labels (one per exchange) and tells them when to wake next.
 *
 * Recovery from lost frames is driven by the label (virtual-label.ts): it re-sends its check-in, block request
 * or RADIO_XFER_DONE when no answer comes, and the AP answers every frame it hears. That produces the same
 * exchanges as the AP-side repetition of §9.1 step 4, without both sides repeating at once.
 */
import {
  BLANK_HASH,
  DuplicateWindow,
  LabelCommandCode,
  LabelDecoder,
  PART_SIZE,
  offerOf,
  RADIO_PART_HEADER,
  Sensor,
  StatusCode,
  WakeReason,
  decodeFrame,
  burstParts,
  partOf,
  partsInBlock,
  wantedParts,
  type Message,
  type MessageOf,
  type StatusCodeValue,
  type WorkAheadEntry,
} from '#protocol';
import type { RadioAir, Transmission } from './radio-air.js';
import type { RadioModel } from './radio-model.js';
import type { Random } from './rng.js';
import type { SimClock, TimerHandle } from './sim-clock.js';
import type { StagedTransfer, TransferStore } from './transfer-store.js';
import type { LabelPeer, VirtualLabel } from './virtual-label.js';

export type QueuedCommand = MessageOf<'RADIO_COMMAND'>['command'];
/** Messages the radio side sends to the edge. */
export type RadioUplinkMessage = MessageOf<'LABEL_CHECKIN'> | MessageOf<'TRANSFER_RESULT'> | MessageOf<'SENSOR_VALUE'>;

export interface ApRadioEnvironment {
  clock: SimClock;
  model: RadioModel;
  random: Random;
  air: RadioAir;
}

interface ApLabelState {
  label: VirtualLabel;
  txSeq: number;
  /** Frames from this label already acted on (§7.2); a label numbers its frames continuously. */
  window: DuplicateWindow;
  /** What was last forwarded to the edge (§5.3 forwarding rule). */
  reported: { hash: string; page: number; labelType: number; batteryMv: number; atMs: number } | undefined;
  /** The transfer whose RADIO_XFER_DONE was already reported (a re-sent XFER_DONE is not reported twice). */
  lastDoneTransferId: number;
  lastHeardAt: number;
  /** §9.10 From the label's last check-in: it takes RADIO_OFFER (decoders bit 3), and the type it reported. */
  offer: { takes: boolean; labelType: number; burst: boolean };
  /** §9.11 From the label's last check-in: it stays listening on RADIO_WAIT (decoders bit 4). */
  waits: boolean;
  /** When the AP last told it RADIO_WAIT (-Infinity before): a label is held at most once per wake-up (§9.1.1). */
  heldAt: number;
  /** When this wake-up's RADIO_CHECKIN was heard (§5.6 awakeMs counts from it). */
  wokeAt: number;
  /** The nextWakeS of the last RADIO_SLEEP sent to it (0 before any): shorter than the normal one is a deferral. */
  lastToldS: number;
  /** When that RADIO_SLEEP was sent (simulated ms), for benchmarks' diagnosis of labels that missed a wake. */
  lastSleptAt: number;
  /** §4.9 The appointment the AP held for it at that check-in (NaN: none), whether it was used or not. */
  lastAppointmentDue: number;
  /** The RADIO_SLEEP before the last: when (simulated ms, NaN before) and how long. */
  prevSleptAt: number;
  prevToldS: number;
  /** §4.9.1 The appointment last told to it and when it was told (-Infinity before): repeated to a check-in within APPOINTMENT_REPEAT_MS. */
  usedAppointmentDue: number;
  usedAppointmentAt: number;
}

/** §5.6 One exchange that ended with RADIO_SLEEP, kept for the next WAKE_REPORT (simulated times). */
export interface WakeSighting {
  labelId: string;
  /** When the RADIO_SLEEP ended on air: the label's sleep starts there. */
  sleptAt: number;
  awakeMs: number;
  nextWakeS: number;
}

interface ChannelHolder {
  st: ApLabelState;
  transfer: StagedTransfer;
  since: number;
  estimateMs: number;
  /** The label's awake-time limit (plus a margin): the attempt is over whatever happens. */
  timeout: TimerHandle;
  /** Nothing heard from the label for a while after the AP's last frame: it is gone (§9.1 step 4). */
  idle: TimerHandle;
  /** Anything heard from the label since its offer (§9.1 step 5: the AP repeats an offer that got no answer). */
  heard: boolean;
  /** Times the offer was sent again without an answer (at most OFFER_REPEATS). */
  repeats: number;
}

export interface ApRadioStats {
  checkinsHeard: number;
  checkinsForwarded: number;
  transfersStarted: number;
  transfersFinished: number;
  /** Radio attempts cut off (label out of awake time or gone); the transfer stays staged for the next wake-up. */
  transfersTimedOut: number;
  /** Labels told to come back soon because the channel was busy with another transfer. */
  deferrals: number;
  commandsSent: number;
  framesRejected: number;
  framesDuplicate: number;
  /** §9.10 Transfers offered with RADIO_OFFER (the others with RADIO_PENDING). */
  offersSent: number;
  /** Transfers started at a wake-up that followed a deferral (§9.1.1), and at any other wake-up. */
  startsAfterDeferral: number;
  startsAtWake: number;
  /** Simulated ms the channel was held by a transfer (one at a time, §9.1), summed as holds end. */
  channelBusyMs: number;
  /** Transfer attempts that ended because the label fell silent (§9.1 step 5), each holding the channel apSilenceMs idle. */
  holderSilences: number;
  /** §9.1 step 5 Offers sent again because the label said nothing after one (its RADIO_OFFER / RADIO_PENDING was lost). */
  offersRepeated: number;
  /** §9.12 Offers followed by the rest of block 0 unasked. */
  bursts: number;
  /** nextWakeS told to deferred labels, summed (mean deferral = this ÷ deferrals). */
  deferralSSum: number;
  /**
   * §9.1.1 hold: labels told RADIO_WAIT; transfers started for a held label when the channel freed; holds that ended
   * otherwise — the label checked in again (its wait was over, or the RADIO_WAIT was lost), its wait was over when
   * the channel freed, or its transfer had been cancelled meanwhile.
   */
  holds: number;
  startsAfterHold: number;
  holdsCheckedIn: number;
  holdsExpired: number;
  holdsCancelled: number;
  /** Simulated ms held labels waited from their RADIO_WAIT to their transfer's start, summed. */
  holdWaitMsSum: number;
  /** §4.9 Labels told to come back at their appointment; appointments already due when their label checked in. */
  appointments: number;
  appointmentsLate: number;
  /** §4.9.1 Appointments told again to a repeated check-in of the same wake-up (its RADIO_SLEEP was lost). */
  appointmentsRepeated: number;
}

/** §9.1.1 A label kept listening (RADIO_WAIT) for the channel: served in order when the channel frees. */
interface HeldLabel {
  st: ApLabelState;
  transferId: number;
  heldAt: number;
  /** The label listens until then (end of RADIO_WAIT + waitMs); the AP must start its transfer before. */
  until: number;
  estimateMs: number;
}

/** §5.3 A battery change of this much is forwarded at once. */
const BATTERY_REPORT_DELTA_MV = 50;
/** The AP's check-in report interval until the edge sets one in EDGE_HELLO. */
export const DEFAULT_CHECKIN_REPORT_INTERVAL_S = 300;
/** §5.4 The AP gives a transfer up (TIMEOUT) after this many wake-ups without completion. */
export const MAX_TRANSFER_ATTEMPTS = 10;
/** §9.1.1 A label checking in this soon after a hold is still in the same wake-up: it is not held again. */
const HOLD_ONCE_MS = 5_000;
/** §9.1 step 5 An unanswered frame is repeated at most 3 times. */
const OFFER_REPEATS = 3;
/**
 * §4.9.1 A used appointment is told again to a check-in within this time: the label did not hear the RADIO_SLEEP
 * (§9.1 step 5: it repeats its check-in after 50 ms, at most 3 times), and must not lose its appointment to a lost frame.
 */
const APPOINTMENT_REPEAT_MS = 1_000;
/** §4.9.1 Appointments an AP keeps at most (the reference AP: a few times its labels). */
export const MAX_APPOINTMENTS = 8_192;
/** §5.2 labelsSeen counts labels heard within this window. */
const LABELS_SEEN_WINDOW_MS = 3_600_000;

export class ApRadio implements LabelPeer {
  powered = true;
  /** §5.3 An unchanged TIMER check-in is forwarded at most this often per label. */
  checkinReportIntervalMs = DEFAULT_CHECKIN_REPORT_INTERVAL_S * 1000;
  /** The AP's clock is the edge's (EDGE_HELLO.serverTimeMs, §6.5): AP time = simulated time + offset. */
  clockOffsetMs = 0;
  /** §9.10 The AP serves RADIO_OFFER (capability RADIO_OFFER, §5.1) to the labels that announce it. */
  servesOffers = true;
  readonly stats: ApRadioStats = {
    checkinsHeard: 0,
    checkinsForwarded: 0,
    transfersStarted: 0,
    transfersFinished: 0,
    transfersTimedOut: 0,
    deferrals: 0,
    commandsSent: 0,
    framesRejected: 0,
    framesDuplicate: 0,
    offersSent: 0,
    startsAfterDeferral: 0,
    startsAtWake: 0,
    channelBusyMs: 0,
    holderSilences: 0,
    offersRepeated: 0,
    bursts: 0,
    deferralSSum: 0,
    holds: 0,
    startsAfterHold: 0,
    holdsCheckedIn: 0,
    holdsExpired: 0,
    holdsCancelled: 0,
    holdWaitMsSum: 0,
    appointments: 0,
    appointmentsLate: 0,
    appointmentsRepeated: 0,
  };
  private readonly states = new Map<string, ApLabelState>();
  private readonly commands = new Map<string, QueuedCommand[]>();
  /** Sensors read by READ_SENSOR, reported from the label's next check-in (§9.6). */
  private readonly sensorReads = new Map<string, number[]>();
  /** Labels whose next check-in is forwarded whatever the rule says (LABEL_COMMAND PING). */
  private readonly pinged = new Set<string>();
  private holder: ChannelHolder | undefined;
  /** §5.6 Wake reports are on (WAKE_REPORT_CONFIG): exchanges ending with RADIO_SLEEP are kept until reported. */
  reportWakes = false;
  private sightings: WakeSighting[] = [];
  /**
   * §9.1.1 The transfers whose labels were deferred and have not started since, with their estimated air time (ms),
   * oldest deferral first: a deferred label waits behind the transfer on air and these, never behind itself.
   */
  private readonly deferred = new Map<number, number>();
  /** §4.9 The edge's appointments by label id: this AP's clock time at which the label should come back. */
  private readonly appointments = new Map<string, number>();
  /** §9.1.1 Labels held with RADIO_WAIT, first held first; served as the channel frees. */
  private held: HeldLabel[] = [];
  private serveHeldAt: TimerHandle | undefined;

  constructor(
    readonly apId: string,
    private readonly env: ApRadioEnvironment,
    private readonly transfers: TransferStore,
    private readonly uplink: (m: RadioUplinkMessage) => void,
  ) {}

  apNow(simMs = this.env.clock.now()): number {
    return Math.round(simMs + this.clockOffsetMs);
  }

  /** §5.2 Distinct labels heard in the last hour. */
  labelsSeen(): number {
    const since = this.env.clock.now() - LABELS_SEEN_WINDOW_MS;
    let n = 0;
    for (const st of this.states.values()) if (st.lastHeardAt >= since) n++;
    return n;
  }

  /** The nextWakeS last told to this label (0 before any RADIO_SLEEP): benchmarks judge the edge's picks with it. */
  lastToldS(labelId: string): number {
    return this.states.get(labelId)?.lastToldS ?? 0;
  }

  /** §9.1.1, §9.11 The AP holds labels with RADIO_WAIT (capability RADIO_WAIT): the model's apHoldMaxMs is not 0. */
  get holdsLabels(): boolean {
    return this.env.model.apHoldMaxMs > 0;
  }

  /** §4.9 The AP keeps the edge's appointments (capability WORK_AHEAD). */
  get keepsAppointments(): boolean {
    return this.env.model.apWorkAhead;
  }

  /**
   * §4.9 WORK_AHEAD: the appointment of each listed label, as this AP's clock time (arrival + inMs); a new entry for a
   * label replaces its old one, and beyond MAX_APPOINTMENTS the oldest go first (a Map keeps insertion order).
   */
  workAhead(entries: readonly WorkAheadEntry[]): void {
    const now = this.env.clock.now();
    for (const e of entries) {
      this.appointments.delete(e.labelId);
      this.appointments.set(e.labelId, now + e.inMs);
    }
    for (const id of this.appointments.keys()) {
      if (this.appointments.size <= MAX_APPOINTMENTS) break;
      this.appointments.delete(id);
    }
  }

  /**
   * §4.9.1 nextWakeS for a label that checked in with nothing waiting: the whole seconds to its appointment when that
   * is at least 1 and less than the normal sleep (the entry is used up); an appointment a full sleep or more away is
   * kept for a later check-in, one already due is dropped.
   */
  private appointmentS(st: ApLabelState, at: number): number | undefined {
    const due = this.appointments.get(st.label.id);
    if (due === undefined) {
      // §4.9.1 The same wake-up's check-in again (the label missed the RADIO_SLEEP): told the same appointment.
      if (at - st.usedAppointmentAt >= APPOINTMENT_REPEAT_MS) return undefined;
      const again = Math.round((st.usedAppointmentDue - at) / 1000);
      if (again < 1) return undefined;
      this.stats.appointmentsRepeated++;
      return again;
    }
    const s = Math.round((due - at) / 1000);
    if (s >= this.normalWakeS()) return undefined;
    this.appointments.delete(st.label.id);
    if (s < 1) {
      this.stats.appointmentsLate++;
      return undefined;
    }
    this.stats.appointments++;
    st.usedAppointmentDue = due;
    st.usedAppointmentAt = at;
    return s;
  }

  /**
   * For benchmarks' diagnosis of a label that missed its wake: the last RADIO_SLEEP this AP told it (simulated ms,
   * whole seconds), the appointment (§4.9) it held for the label at that check-in, if any, and the sleep before.
   */
  lastSleep(labelId: string): { sleptAt: number; toldS: number; appointmentDue: number | null; before: { sleptAt: number; toldS: number } | null } | undefined {
    const st = this.states.get(labelId);
    if (st === undefined || Number.isNaN(st.lastSleptAt)) return undefined;
    const before = Number.isNaN(st.prevSleptAt) ? null : { sleptAt: st.prevSleptAt, toldS: st.prevToldS };
    return { sleptAt: st.lastSleptAt, toldS: st.lastToldS, appointmentDue: Number.isNaN(st.lastAppointmentDue) ? null : st.lastAppointmentDue, before };
  }

  /** §9.12 The AP bursts block 0 after RADIO_OFFER (capability RADIO_BURST): it serves offers and the model says so. */
  get sendsBursts(): boolean {
    return this.servesOffers && this.env.model.apBurst;
  }

  /** The transfer on air now, if any. */
  get transferOnAir(): number | undefined {
    return this.holder?.transfer.descriptor.transferId;
  }

  /**
   * LED_FLASH / PAGE_SWITCH / READ_SENSOR / LABEL_COMMAND (§4.4–§4.7): kept for the label's next wake-up. Checked
   * against the label type when the AP has heard the label.
   */
  queueCommand(command: QueuedCommand): StatusCodeValue {
    const type = this.states.get(command.labelId)?.label.type;
    switch (command.type) {
      case 'LED_FLASH':
        if (type !== undefined && !type.led) return StatusCode.UNSUPPORTED_FEATURE;
        break;
      case 'PAGE_SWITCH':
        if (type !== undefined && command.page >= type.pages) return StatusCode.INVALID_PARAMETER;
        break;
      case 'READ_SENSOR':
        // Simulated labels measure temperature and battery (both in every check-in); none has a light sensor.
        if (command.sensor !== Sensor.TEMPERATURE && command.sensor !== Sensor.BATTERY) return StatusCode.INVALID_PARAMETER;
        break;
      case 'LABEL_COMMAND':
        if (command.command > LabelCommandCode.UNASSOCIATE) return StatusCode.INVALID_PARAMETER;
        if (command.command === LabelCommandCode.PING) {
          // "Check in now": the label checks in at its next wake-up anyway; the AP forwards that check-in at once.
          this.pinged.add(command.labelId);
          return StatusCode.OK;
        }
        break;
    }
    const queue = this.commands.get(command.labelId) ?? [];
    if (queue.length >= this.env.model.maxCommandsPerLabel) return StatusCode.QUEUE_FULL;
    queue.push(command);
    this.commands.set(command.labelId, queue);
    return StatusCode.OK;
  }

  /** True when the transfer is being received by its label right now (it then finishes, §4.3). */
  isOnAir(transferId: number): boolean {
    return this.holder?.transfer.descriptor.transferId === transferId;
  }

  /** A transfer was replaced: stop serving it (the label's next request ends its exchange). */
  abortTransfer(transferId: number): void {
    if (this.isOnAir(transferId)) this.releaseChannel();
  }

  /** Power loss: everything in RAM is gone. */
  powerOff(): void {
    this.powered = false;
    this.releaseChannel();
    this.states.clear();
    this.commands.clear();
    this.sensorReads.clear();
    this.pinged.clear();
    this.deferred.clear();
    this.appointments.clear();
    this.held = [];
    this.serveHeldAt?.cancel();
    this.serveHeldAt = undefined;
    this.reportWakes = false;
    this.sightings = [];
  }

  /**
   * §5.6 The sightings whose RADIO_SLEEP has ended by `now`, oldest first, removed from the buffer; those still on
   * air wait for the next report.
   */
  takeSightings(now: number): WakeSighting[] {
    const i = this.sightings.findIndex((x) => x.sleptAt > now);
    const out = i < 0 ? this.sightings : this.sightings.slice(0, i);
    this.sightings = i < 0 ? [] : this.sightings.slice(i);
    return out;
  }

  /** §5.6.1 Reports switched off or the link to the edge is down: nothing is kept. */
  stopWakeReports(): void {
    this.reportWakes = false;
    this.sightings = [];
  }

  powerOn(): void {
    this.powered = true;
  }

  onLabelFrame(label: VirtualLabel, bytes: Uint8Array): void {
    if (!this.powered) return;
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) {
      this.stats.framesRejected++;
      return;
    }
    const st = this.state(label);
    if (st.window.seen(decoded.frame.seq)) {
      this.stats.framesDuplicate++;
      return;
    }
    st.lastHeardAt = this.env.clock.now();
    if (this.holder?.st === st) this.holder.heard = true;
    const m = decoded.frame.message;
    switch (m.type) {
      case 'RADIO_CHECKIN':
        if (m.labelId === label.id) this.onCheckin(st, m);
        return;
      case 'RADIO_BLOCK_REQUEST':
        this.onBlockRequest(st, m);
        return;
      case 'RADIO_XFER_DONE':
        this.onXferDone(st, m);
        return;
      default:
        return;
    }
  }

  // ---- exchange ----------------------------------------------------------------------------------------

  private onCheckin(st: ApLabelState, m: MessageOf<'RADIO_CHECKIN'>): void {
    this.stats.checkinsHeard++;
    st.offer = { takes: ((m.decoders ?? 0) & LabelDecoder.OFFER) !== 0, labelType: m.labelType, burst: ((m.decoders ?? 0) & LabelDecoder.BURST) !== 0 };
    st.waits = ((m.decoders ?? 0) & LabelDecoder.WAIT) !== 0;
    // A check-in again after a hold is the same wake-up, not a new one (§5.6 awakeMs counts from the first).
    const held = this.unhold(st);
    const heldBefore = held || this.env.clock.now() - st.heldAt < HOLD_ONCE_MS;
    if (!heldBefore) st.wokeAt = this.env.clock.now();
    this.maybeForward(st, m);
    this.reportSensorReads(m);
    const startAt = this.env.clock.now() + this.env.model.turnaroundMs;
    // A label that checks in again has abandoned the transfer it was in.
    if (this.holder?.st === st) this.transferAttemptEnded();
    const t = this.transfers.nextFor(m.labelId);
    if (t !== undefined && this.holder === undefined) {
      this.startTransfer(st, t, startAt);
      return;
    }
    // §9.1 step 2: no transfer now, so at most one command (oldest first), then RADIO_SLEEP.
    let at = startAt;
    const command = this.takeCommand(m.labelId);
    if (command !== undefined) at = this.sendTo(st, { type: 'RADIO_COMMAND', command }, at).endAt;
    if (t !== undefined && command === undefined && !heldBefore && this.mayHold(st, t, at)) return;
    if (t !== undefined) {
      this.stats.deferrals++;
      st.lastAppointmentDue = Number.NaN;
      this.sleep(st, this.deferralS(t), at);
    } else {
      const held = this.appointments.get(st.label.id);
      const appointment = this.appointmentS(st, at);
      // The diagnosis wants the appointment this sleep came from: the one held, or the one told again to a repeated
      // check-in (§4.9.1), which the AP no longer holds.
      st.lastAppointmentDue = held ?? (appointment !== undefined ? st.usedAppointmentDue : Number.NaN);
      this.sleep(st, appointment ?? this.normalWakeS(), at);
    }
  }

  /**
   * §5.3 Forward at once when the wake reason is not TIMER, or displayedHash, page or labelType differ from the
   * last forwarded check-in, or the battery moved by 50 mV or more; other check-ins once per report interval.
   */
  private maybeForward(st: ApLabelState, m: MessageOf<'RADIO_CHECKIN'>): void {
    const now = this.env.clock.now();
    const r = st.reported;
    const due =
      this.pinged.delete(m.labelId) ||
      r === undefined ||
      m.wakeReason !== WakeReason.TIMER ||
      r.hash !== m.displayedHash ||
      r.page !== m.page ||
      r.labelType !== m.labelType ||
      Math.abs(r.batteryMv - m.batteryMv) >= BATTERY_REPORT_DELTA_MV ||
      now - r.atMs >= this.checkinReportIntervalMs;
    if (!due) return;
    st.reported = { hash: m.displayedHash, page: m.page, labelType: m.labelType, batteryMv: m.batteryMv, atMs: now };
    this.stats.checkinsForwarded++;
    const rssi = this.rssiOf(st.label);
    this.uplink({
      type: 'LABEL_CHECKIN',
      labelId: m.labelId,
      labelType: m.labelType,
      displayedHash: m.displayedHash,
      page: m.page,
      batteryMv: m.batteryMv,
      rssi,
      lqi: Math.max(0, Math.min(255, Math.round(((rssi + 100) * 255) / 60))),
      temperatureC: m.temperatureC,
      wakeReason: m.wakeReason,
      pendingTransferId: this.transfers.forLabel(m.labelId)[0]?.descriptor.transferId ?? 0,
      // §5.3 An AP with capability CTX passes the label's decoder bits on; absent stays absent (a legacy label).
      ...(m.decoders !== undefined ? { decoders: m.decoders } : {}),
    });
  }

  /** §9.6 READ_SENSOR was delivered at an earlier exchange; the values come with this check-in. */
  private reportSensorReads(m: MessageOf<'RADIO_CHECKIN'>): void {
    const sensors = this.sensorReads.get(m.labelId);
    if (sensors === undefined) return;
    this.sensorReads.delete(m.labelId);
    for (const sensor of sensors) {
      // §4.6 units: temperature in 0.01 °C, battery in mV.
      const value = sensor === Sensor.TEMPERATURE ? m.temperatureC * 100 : m.batteryMv;
      this.uplink({ type: 'SENSOR_VALUE', labelId: m.labelId, sensor, value });
    }
  }

  private takeCommand(labelId: string): QueuedCommand | undefined {
    const queue = this.commands.get(labelId);
    const command = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.commands.delete(labelId);
    if (command === undefined) return undefined;
    this.stats.commandsSent++;
    if (command.type === 'READ_SENSOR') this.sensorReads.set(labelId, [...(this.sensorReads.get(labelId) ?? []), command.sensor]);
    return command;
  }

  private startTransfer(st: ApLabelState, t: StagedTransfer, startAt: number, held = false): void {
    this.deferred.delete(t.descriptor.transferId);
    // §4.9.1 The work the appointment was for has begun.
    this.appointments.delete(st.label.id);
    t.radioAttempts++;
    this.stats.transfersStarted++;
    if (held) this.stats.startsAfterHold++;
    else if (st.lastToldS > 0 && st.lastToldS < this.normalWakeS()) this.stats.startsAfterDeferral++;
    else this.stats.startsAtWake++;
    this.hold(st, t);
    this.sendOffer(st, t, startAt);
  }

  /**
   * The offer of `t` to the holder (RADIO_OFFER or RADIO_PENDING), and on a transfer's first offer the rest of block 0
   * unasked (§9.12): the label's first RADIO_BLOCK_REQUEST and its turnarounds were air time spent on asking for what
   * it always asks for (every part of block 0 but part 0). A re-offer at a later wake-up is not followed: the label
   * may hold some of block 0 already and asks for what it lacks (§9.10.5).
   */
  private sendOffer(st: ApLabelState, t: StagedTransfer, startAt: number, repeat = false): void {
    const offer = this.offerFor(st, t, !repeat);
    const { endAt } = this.sendTo(st, offer, startAt, t);
    this.watchHolder(endAt);
    if (offer.type === 'RADIO_OFFER' && offer.data.length > 0 && st.offer.burst && this.sendsBursts && t.radioAttempts === 1) {
      this.env.clock.schedule(endAt, () => this.burst(st, t, endAt));
    }
  }

  /** §9.12 Parts 1… of block 0, back to back from the end of the offer, while the label still holds the channel. */
  private burst(st: ApLabelState, t: StagedTransfer, from: number): void {
    const block0 = t.blocks[0];
    if (this.holder?.st !== st || this.holder.transfer !== t || block0 === undefined) return;
    const at = this.sendParts(st, t, 0, burstParts(block0.length, this.env.model.maxPartBytes), from);
    this.stats.bursts++;
    this.watchHolder(at);
  }

  /** §9.4 The given parts of block `blockIndex` of `t`, back to back from `from`; returns when the last ends on air. */
  private sendParts(st: ApLabelState, t: StagedTransfer, blockIndex: number, parts: Iterable<number>, from: number): number {
    const block = t.blocks[blockIndex]!;
    const partSize = this.env.model.maxPartBytes;
    let at = from;
    for (const p of parts) {
      const data = partOf(block, p, partSize);
      at = this.sendTo(st, { type: 'RADIO_PART', transferId: t.descriptor.transferId, blockIndex, partIndex: p, data }, at, t).endAt;
    }
    return at;
  }

  // ---- §9.10 compact offer (RADIO_OFFER) -----------------------------------------------------------------

  /**
   * §9.10.3 RADIO_OFFER with part 0 of block 0 inline when this AP serves it and the label announced it and
   * checked in with the descriptor's labelType; otherwise RADIO_PENDING (§9.3), which a label of another type
   * refuses with INVALID_PARAMETER as before. Part 0 is inlined on every offer, re-offers too: the label keeps
   * what it had (resume, §9.1 step 5) and requests only the parts it still lacks.
   */
  private offerFor(st: ApLabelState, t: StagedTransfer, count = true): Message {
    const d = t.descriptor;
    if (!this.servesOffers || !st.offer.takes || st.offer.labelType !== d.labelType) return { type: 'RADIO_PENDING', ...d };
    // Part 0 is the first 99 bytes (§9.4); a model with smaller parts sends none inline (the label asks for it).
    const block0 = t.blocks[0];
    const part0 = this.env.model.maxPartBytes === PART_SIZE && block0 !== undefined ? block0.subarray(0, Math.min(block0.length, PART_SIZE)) : new Uint8Array(0);
    if (count) this.stats.offersSent++;
    return offerOf(d, part0);
  }

  private onBlockRequest(st: ApLabelState, m: MessageOf<'RADIO_BLOCK_REQUEST'>): void {
    const startAt = this.env.clock.now() + this.env.model.turnaroundMs;
    const t = this.transfers.get(m.transferId);
    const block = t?.blocks[m.blockIndex];
    if (t === undefined || t.descriptor.labelId !== st.label.id || block === undefined) {
      // Replaced or given up since RADIO_PENDING: end the exchange; the next wake-up gets what is staged then.
      if (this.holder?.st === st) this.releaseChannel();
      this.sleep(st, this.normalWakeS(), startAt);
      return;
    }
    if (this.holder === undefined) {
      this.deferred.delete(t.descriptor.transferId);
      this.hold(st, t);
    } else if (this.holder.st !== st) {
      this.stats.deferrals++;
      this.sleep(st, this.deferralS(t), startAt);
      return;
    }
    const wanted = wantedParts(m.partsWanted, partsInBlock(block.length, this.env.model.maxPartBytes));
    this.watchHolder(this.sendParts(st, t, m.blockIndex, wanted, startAt));
  }

  /** §9.8 The label's verdict is final: forwarded as TRANSFER_RESULT and the transfer dropped; then RADIO_SLEEP. */
  private onXferDone(st: ApLabelState, m: MessageOf<'RADIO_XFER_DONE'>): void {
    const t = this.transfers.get(m.transferId);
    if (t !== undefined && t.descriptor.labelId === st.label.id && st.lastDoneTransferId !== m.transferId) {
      st.lastDoneTransferId = m.transferId;
      this.stats.transfersFinished++;
      this.transfers.drop(m.transferId);
      this.uplink({
        type: 'TRANSFER_RESULT',
        transferId: m.transferId,
        labelId: st.label.id,
        status: m.status,
        displayedHash: m.displayedHash,
        bytesOnAir: Math.min(0xffffffff, t.bytesOnAir),
      });
    }
    if (this.holder?.st === st) this.releaseChannel();
    // D37 option: wake right after the refresh that follows an applied image, so the confirmation comes sooner.
    const quick = this.env.model.ackWakeAfterTransfer && m.status === StatusCode.OK ? Math.ceil(st.label.type.fullRefreshMs / 1000) + 1 : 0;
    this.sleep(st, quick > 0 ? Math.min(quick, this.normalWakeS()) : this.normalWakeS(), this.env.clock.now() + this.env.model.turnaroundMs);
  }

  /** §9.7 RADIO_SLEEP with the AP's clock ends the exchange. */
  private sleep(st: ApLabelState, nextWakeS: number, at: number): void {
    const tx = this.sendTo(st, { type: 'RADIO_SLEEP', nextWakeS, nowMs: this.apNow(at) }, at);
    st.prevSleptAt = st.lastSleptAt;
    st.prevToldS = st.lastToldS;
    st.lastToldS = nextWakeS;
    st.lastSleptAt = at;
    // §5.6 What the AP heard and said, nothing more: the sleep's end on air, the exchange's length, nextWakeS.
    if (this.reportWakes) {
      this.sightings.push({ labelId: st.label.id, sleptAt: tx.endAt, awakeMs: Math.max(0, tx.endAt - st.wokeAt), nextWakeS });
    }
  }

  // ---- channel -----------------------------------------------------------------------------------------

  private hold(st: ApLabelState, t: StagedTransfer): void {
    this.releaseChannel();
    const now = this.env.clock.now();
    this.holder = {
      st,
      transfer: t,
      since: now,
      estimateMs: this.estimateMs(t),
      // The label gives up after transferTimeoutMs awake; the AP frees its channel a little later.
      timeout: this.env.clock.setTimeout(() => this.transferAttemptEnded(), this.env.model.transferTimeoutMs + 1_000),
      idle: this.env.clock.schedule(now + this.env.model.apSilenceMs, () => this.silenceEnded()),
      heard: false,
      repeats: 0,
    };
  }

  /** Re-arms the silence watchdog after the AP's last frame to the holder ends at `lastFrameEnd`. */
  private watchHolder(lastFrameEnd: number): void {
    const h = this.holder;
    if (h === undefined) return;
    h.idle.cancel();
    // §9.1 step 5 An offer nobody answered was lost (the label's answer comes within its turnaround, or its request for
    // lost parts within replyTimeoutMs of the burst's end): the AP sends it again after a quarter of its silence
    // window, at most OFFER_REPEATS times. A label waiting on RADIO_WAIT (§9.11) cannot ask for it sooner — it does
    // not know when its transfer starts and listens out its whole wait — so without the repeat the channel stood idle
    // the whole window and the label checked in again after it (docs/decisions.md D158).
    if (!h.heard && h.repeats < OFFER_REPEATS) {
      h.idle = this.env.clock.schedule(lastFrameEnd + this.env.model.apSilenceMs / (OFFER_REPEATS + 1), () => this.repeatOffer());
      return;
    }
    h.idle = this.env.clock.schedule(lastFrameEnd + this.env.model.apSilenceMs / (h.heard ? 1 : OFFER_REPEATS + 1), () => this.silenceEnded());
  }

  /** §9.1 step 5 The holder said nothing since its offer: the offer (and its burst, §9.12) again. */
  private repeatOffer(): void {
    const h = this.holder;
    if (h === undefined || h.heard) return;
    h.repeats++;
    this.stats.offersRepeated++;
    this.sendOffer(h.st, h.transfer, this.env.clock.now(), true);
  }

  private releaseChannel(): void {
    if (this.holder === undefined) return;
    this.stats.channelBusyMs += this.env.clock.now() - this.holder.since;
    this.holder.timeout.cancel();
    this.holder.idle.cancel();
    this.holder = undefined;
    // §9.1.1 The channel is free: the first held label takes it (after whatever this instant still hands out).
    if (this.held.length > 0 && this.serveHeldAt === undefined) {
      this.serveHeldAt = this.env.clock.schedule(this.env.clock.now(), () => {
        this.serveHeldAt = undefined;
        this.serveHeld();
      });
    }
  }

  // ---- §9.1.1 hold (RADIO_WAIT, §9.11) -------------------------------------------------------------------

  /**
   * §9.1.1 Holds a label that woke to a busy channel when its transfer can start within apHoldMaxMs: the rest of the
   * transfer on air plus those of the labels held before it. The label listens for waitMs (that estimate plus
   * apHoldMaxMs of slack for frame loss), so a transfer that overruns its estimate still finds it awake. False: the
   * caller defers it. Held at most once per wake-up (heldAt), so a label is never kept listening twice in a row.
   */
  private mayHold(st: ApLabelState, t: StagedTransfer, at: number): boolean {
    const cap = this.env.model.apHoldMaxMs;
    const h = this.holder;
    if (cap <= 0 || !st.waits || h === undefined) return false;
    const now = this.env.clock.now();
    let waitMs = Math.max(0, h.since + h.estimateMs - now);
    for (const x of this.held) waitMs += x.estimateMs;
    if (waitMs > cap) return false;
    const told = Math.min(0xffff, Math.ceil(waitMs + cap));
    const tx = this.sendTo(st, { type: 'RADIO_WAIT', waitMs: told }, at);
    st.heldAt = now;
    this.stats.holds++;
    this.held.push({ st, transferId: t.descriptor.transferId, heldAt: now, until: tx.endAt + told, estimateMs: this.estimateMs(t) });
    return true;
  }

  /** Drops the label's hold, if any (it checked in again: it stopped listening). True when it was held. */
  private unhold(st: ApLabelState): boolean {
    const i = this.held.findIndex((x) => x.st === st);
    if (i < 0) return false;
    this.held.splice(i, 1);
    this.stats.holdsCheckedIn++;
    return true;
  }

  /** The channel is free: start the first held label whose hold is still running and whose transfer is still staged. */
  private serveHeld(): void {
    while (this.holder === undefined && this.held.length > 0) {
      const x = this.held.shift()!;
      const now = this.env.clock.now();
      const startAt = now + this.env.model.turnaroundMs;
      if (startAt >= x.until) {
        this.stats.holdsExpired++; // the label stopped listening; its next check-in is served as any other
        continue;
      }
      const t = this.transfers.nextFor(x.st.label.id);
      if (t === undefined) {
        // Cancelled or replaced by nothing while it listened: let it sleep rather than listen in vain.
        this.stats.holdsCancelled++;
        this.sleep(x.st, this.normalWakeS(), startAt);
        continue;
      }
      this.stats.holdWaitMsSum += startAt - x.heldAt;
      // §5.6 A held label's awakeMs counts from its transfer's start: the wait was the channel's, and the edge
      // learns the AP's air rate from the exchanges that carried transfers (D92).
      x.st.wokeAt = startAt;
      this.startTransfer(x.st, t, startAt, true);
    }
  }

  /** §9.1 step 5 The holder said nothing for apSilenceMs after the AP's last frame: it has gone back to sleep. */
  private silenceEnded(): void {
    if (this.holder === undefined) return;
    this.stats.holderSilences++;
    this.transferAttemptEnded();
  }

  /**
   * A radio attempt ended without RADIO_XFER_DONE. The transfer stays staged for the next wake-up, unless it has
   * had its MAX_TRANSFER_ATTEMPTS: then the AP gives it up with TRANSFER_RESULT TIMEOUT (§5.4).
   */
  private transferAttemptEnded(): void {
    const h = this.holder;
    if (h === undefined) return;
    this.releaseChannel();
    this.stats.transfersTimedOut++;
    const t = h.transfer;
    if (t.radioAttempts >= MAX_TRANSFER_ATTEMPTS && this.transfers.get(t.descriptor.transferId) === t) {
      this.transfers.drop(t.descriptor.transferId);
      this.reportEnded(t, StatusCode.TIMEOUT);
    }
  }

  /** TRANSFER_RESULT for a transfer that ended without the label's verdict (TIMEOUT, CANCELLED). */
  reportEnded(t: StagedTransfer, status: StatusCodeValue): void {
    this.uplink({
      type: 'TRANSFER_RESULT',
      transferId: t.descriptor.transferId,
      labelId: t.descriptor.labelId,
      status,
      displayedHash: BLANK_HASH,
      bytesOnAir: Math.min(0xffffffff, t.bytesOnAir),
    });
  }

  /** Expected air time of a whole transfer: its parts, their fixed costs, a request per block, PENDING and DONE. */
  private estimateMs(t: StagedTransfer): number {
    const { air, model } = this.env;
    let parts = 0;
    for (const b of t.blocks) parts += partsInBlock(b?.length ?? t.blockSize, model.maxPartBytes);
    const perRound = air.frameAirMs(16) + 2 * model.turnaroundMs;
    const ms = air.frameAirMs(t.descriptor.totalSize / parts + RADIO_PART_HEADER) * parts + (t.blocks.length + 2) * perRound;
    return ms / Math.max(0.05, 1 - model.frameLoss);
  }

  /**
   * §9.1.1 nextWakeS for a label whose transfer must wait. `pool` (D91): until the transfer on air is expected to end,
   * at least 1 s — the deferred labels of this AP form a pool that comes back every second or so, and whichever of
   * them wakes first after the channel frees takes it, so the channel idles only for the gap to the next wake-up of
   * the pool (1 s ÷ its size) rather than for the misfit between a whole-second appointment and the queue ahead.
   * `queue` (D59): also behind the transfers deferred before it and not started since (each counts its estimated
   * air time once: a label deferred again goes to the back; a transfer dropped meanwhile no longer counts).
   */
  private deferralS(t: StagedTransfer): number {
    const now = this.env.clock.now();
    const id = t.descriptor.transferId;
    let waitMs = this.holder === undefined ? 0 : Math.max(0, this.holder.since + this.holder.estimateMs - now);
    if (this.env.model.apDeferral === 'queue') {
      this.deferred.delete(id);
      for (const [other, ms] of this.deferred) {
        if (this.transfers.get(other) === undefined) this.deferred.delete(other);
        else waitMs += ms;
      }
      this.deferred.set(id, this.estimateMs(t));
    }
    const s = Math.max(1, Math.min(this.normalWakeS(), Math.ceil(waitMs / 1000)));
    this.stats.deferralSSum += s;
    return s;
  }

  private normalWakeS(): number {
    return Math.max(1, Math.min(0xffff, Math.round(this.env.model.wakeIntervalMs / 1000)));
  }

  private rssiOf(label: VirtualLabel): number {
    const { model, random } = this.env;
    const base = label.homeApId === this.apId ? model.rssiHomeDbm : model.rssiNeighbourDbm;
    const spread = Math.round((2 * random() - 1) * model.rssiSpreadDb);
    return Math.max(-128, Math.min(127, base + spread));
  }

  private state(label: VirtualLabel): ApLabelState {
    let st = this.states.get(label.id);
    if (st === undefined) {
      st = {
        label,
        txSeq: Math.floor(this.env.random() * 0x10000),
        window: new DuplicateWindow(16),
        reported: undefined,
        lastDoneTransferId: 0,
        lastHeardAt: this.env.clock.now(),
        offer: { takes: false, labelType: -1, burst: false },
        waits: false,
        heldAt: -Infinity,
        wokeAt: this.env.clock.now(),
        lastToldS: 0,
        lastSleptAt: Number.NaN,
        lastAppointmentDue: Number.NaN,
        prevSleptAt: Number.NaN,
        prevToldS: 0,
        usedAppointmentDue: 0,
        usedAppointmentAt: Number.NEGATIVE_INFINITY,
      };
      this.states.set(label.id, st);
    }
    return st;
  }

  /** Sends a frame to a label; frames of a transfer count towards its bytesOnAir (what the AP sent, §5.4). */
  private sendTo(st: ApLabelState, message: Message, startAt: number, transfer?: StagedTransfer): Transmission {
    const seq = st.txSeq;
    st.txSeq = (seq + 1) & 0xffff;
    const label = st.label;
    const tx = this.env.air.send(message, seq, startAt, (bytes) => label.onApFrame(this, bytes));
    label.accountAir(tx.bytes, transfer !== undefined);
    if (transfer !== undefined) transfer.bytesOnAir += tx.bytes;
    return tx;
  }
}
