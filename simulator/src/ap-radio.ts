/**
 * The radio side of a simulated access point (firmware-protocol/README.md §5.3, §9): answers label check-ins,
 * forwards them to the edge when something changed, runs one image transfer at a time over its channel, hands
 * queued commands to labels and tells them when to wake next.
 */
import {
  DuplicateWindow,
  Sensor,
  StatusCode,
  decodeFrame,
  partsInBlock,
  wantedParts,
  type Message,
  type MessageOf,
  type StatusCodeValue,
} from '../../firmware-protocol/src/index.js';
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
  /** Frames from this label already acted on (§7.2); labels number their frames continuously. */
  window: DuplicateWindow;
  /** What was last forwarded to the edge (§5.3 forwarding rule). */
  reported: { hash: string; page: number; batteryMv: number; wakeReason: number; atMs: number } | undefined;
  /** The transfer whose RADIO_XFER_DONE was already reported (a re-sent XFER_DONE is not reported twice). */
  lastDoneTransferId: number;
}

interface ChannelHolder {
  st: ApLabelState;
  transfer: StagedTransfer;
  since: number;
  estimateMs: number;
  timeout: TimerHandle;
}

export interface ApRadioStats {
  checkinsHeard: number;
  checkinsForwarded: number;
  transfersStarted: number;
  transfersFinished: number;
  /** Transfers cut off on the radio (label out of awake time); they stay staged for the next wake-up. */
  transfersTimedOut: number;
  /** Labels told to come back soon because the channel was busy with another transfer. */
  deferrals: number;
  framesRejected: number;
  framesDuplicate: number;
}

/** Battery change that makes an unchanged check-in worth forwarding at once (§5.3). */
const BATTERY_REPORT_DELTA_MV = 50;
/** The AP's check-in report interval until the edge sets one in EDGE_HELLO. */
export const DEFAULT_CHECKIN_REPORT_INTERVAL_S = 300;

export class ApRadio implements LabelPeer {
  powered = true;
  /** §5.3 An unchanged check-in is forwarded at most this often per label. */
  checkinReportIntervalMs = DEFAULT_CHECKIN_REPORT_INTERVAL_S * 1000;
  /** The AP's clock is the edge's (EDGE_HELLO.serverTimeMs) : AP time = simulated time + offset. */
  clockOffsetMs = 0;
  readonly stats: ApRadioStats = {
    checkinsHeard: 0,
    checkinsForwarded: 0,
    transfersStarted: 0,
    transfersFinished: 0,
    transfersTimedOut: 0,
    deferrals: 0,
    framesRejected: 0,
    framesDuplicate: 0,
  };
  private readonly states = new Map<string, ApLabelState>();
  private readonly commands = new Map<string, QueuedCommand[]>();
  private holder: ChannelHolder | undefined;
  /** Simulated time by which the channel should be through with the current and the deferred transfers. */
  private horizon = 0;

  constructor(
    readonly apId: string,
    private readonly env: ApRadioEnvironment,
    private readonly transfers: TransferStore,
    private readonly uplink: (m: RadioUplinkMessage) => void,
  ) {}

  apNow(simMs = this.env.clock.now()): number {
    return Math.round(simMs + this.clockOffsetMs);
  }

  /** Distinct labels heard since the AP powered up. */
  get labelsSeen(): number {
    return this.states.size;
  }

  /** The transfer on air now, if any. */
  get transferOnAir(): number | undefined {
    return this.holder?.transfer.descriptor.transferId;
  }

  /** LED_FLASH / PAGE_SWITCH / READ_SENSOR / LABEL_COMMAND: kept for the label's next wake-up (§4). */
  queueCommand(command: QueuedCommand): StatusCodeValue {
    if (command.type === 'READ_SENSOR' && command.sensor !== Sensor.TEMPERATURE && command.sensor !== Sensor.BATTERY) {
      return StatusCode.UNSUPPORTED_FEATURE;
    }
    const queue = this.commands.get(command.labelId) ?? [];
    if (queue.length >= this.env.model.maxCommandsPerLabel) return StatusCode.QUEUE_FULL;
    queue.push(command);
    this.commands.set(command.labelId, queue);
    return StatusCode.OK;
  }

  /** The edge cancelled or replaced a transfer: stop serving it (the label's next request ends its exchange). */
  abortTransfer(transferId: number): void {
    if (this.holder?.transfer.descriptor.transferId === transferId) this.releaseChannel();
  }

  /** Power loss: everything in RAM is gone. */
  powerOff(): void {
    this.powered = false;
    this.releaseChannel();
    this.states.clear();
    this.commands.clear();
    this.horizon = 0;
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
    const m = decoded.frame.message;
    switch (m.type) {
      case 'RADIO_CHECKIN':
        if (m.labelId === label.id) this.onCheckin(st, m);
        return;
      case 'RADIO_BLOCK_REQUEST':
        this.onBlockRequest(st, m, bytes.length);
        return;
      case 'RADIO_XFER_DONE':
        this.onXferDone(st, m, bytes.length);
        return;
      default:
        return;
    }
  }

  // ---- exchange ----------------------------------------------------------------------------------------

  private onCheckin(st: ApLabelState, m: MessageOf<'RADIO_CHECKIN'>): void {
    this.stats.checkinsHeard++;
    this.maybeForward(st, m);
    this.answerSensorReads(m);
    const startAt = this.env.clock.now() + this.env.model.turnaroundMs;
    // A label that checks in again has abandoned whatever transfer it was in.
    if (this.holder?.st === st) this.releaseChannel();
    const t = this.transfers.forLabel(m.labelId);
    if (t !== undefined && this.transfers.isComplete(t)) {
      if (this.holder === undefined) {
        this.startTransfer(st, t, startAt);
        return;
      }
      this.stats.deferrals++;
      this.closeExchange(st, this.deferralS(t), startAt);
      return;
    }
    this.closeExchange(st, this.normalWakeS(), startAt);
  }

  /** §5.3 Forward when hash, page, wake reason or battery (beyond ±50 mV) changed, on first contact, or when due. */
  private maybeForward(st: ApLabelState, m: MessageOf<'RADIO_CHECKIN'>): void {
    const now = this.env.clock.now();
    const r = st.reported;
    const due =
      r === undefined ||
      r.hash !== m.displayedHash ||
      r.page !== m.page ||
      r.wakeReason !== m.wakeReason ||
      Math.abs(r.batteryMv - m.batteryMv) > BATTERY_REPORT_DELTA_MV ||
      now - r.atMs >= this.checkinReportIntervalMs;
    if (!due) return;
    st.reported = { hash: m.displayedHash, page: m.page, batteryMv: m.batteryMv, wakeReason: m.wakeReason, atMs: now };
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
      pendingTransferId: this.transfers.forLabel(m.labelId)?.descriptor.transferId ?? 0,
    });
  }

  /** READ_SENSOR is answered from the values the label reports in every check-in (temperature, battery). */
  private answerSensorReads(m: MessageOf<'RADIO_CHECKIN'>): void {
    const queue = this.commands.get(m.labelId);
    if (queue === undefined) return;
    const rest: QueuedCommand[] = [];
    for (const c of queue) {
      if (c.type !== 'READ_SENSOR') {
        rest.push(c);
        continue;
      }
      const value = c.sensor === Sensor.TEMPERATURE ? m.temperatureC : m.batteryMv;
      this.uplink({ type: 'SENSOR_VALUE', labelId: m.labelId, sensor: c.sensor, value });
    }
    if (rest.length === 0) this.commands.delete(m.labelId);
    else this.commands.set(m.labelId, rest);
  }

  private startTransfer(st: ApLabelState, t: StagedTransfer, startAt: number): void {
    t.radioAttempts++;
    this.stats.transfersStarted++;
    this.startHolding(st, t);
    const { descriptor } = t;
    this.sendTo(st, { type: 'RADIO_PENDING', ...descriptor }, startAt, t);
  }

  private onBlockRequest(st: ApLabelState, m: MessageOf<'RADIO_BLOCK_REQUEST'>, frameBytes: number): void {
    const now = this.env.clock.now();
    const startAt = now + this.env.model.turnaroundMs;
    const t = this.transfers.get(m.transferId);
    const block = t?.blocks[m.blockIndex];
    if (t === undefined || t.descriptor.labelId !== st.label.id || block === undefined) {
      // Cancelled or replaced since RADIO_PENDING: end the exchange; the next wake-up gets the newer transfer.
      if (this.holder?.st === st) this.releaseChannel();
      this.closeExchange(st, this.normalWakeS(), startAt);
      return;
    }
    if (this.holder === undefined) {
      this.startHolding(st, t);
    } else if (this.holder.st !== st) {
      this.stats.deferrals++;
      this.closeExchange(st, this.deferralS(t), startAt);
      return;
    }
    t.bytesOnAir += frameBytes;
    const partSize = this.env.model.maxPartBytes;
    let at = startAt;
    for (const p of wantedParts(m.partsWanted, partsInBlock(block.length, partSize))) {
      const data = block.subarray(p * partSize, Math.min(block.length, (p + 1) * partSize));
      at = this.sendTo(st, { type: 'RADIO_PART', transferId: m.transferId, blockIndex: m.blockIndex, partIndex: p, data }, at, t).endAt;
    }
  }

  private onXferDone(st: ApLabelState, m: MessageOf<'RADIO_XFER_DONE'>, frameBytes: number): void {
    const t = this.transfers.get(m.transferId);
    const ours = t !== undefined && t.descriptor.labelId === st.label.id ? t : undefined;
    if (ours !== undefined) ours.bytesOnAir += frameBytes;
    if (st.lastDoneTransferId !== m.transferId) {
      st.lastDoneTransferId = m.transferId;
      this.stats.transfersFinished++;
      // Any answer of the label is final (§6.4); only a radio timeout keeps a transfer for another wake-up.
      this.uplink({
        type: 'TRANSFER_RESULT',
        transferId: m.transferId,
        labelId: st.label.id,
        status: m.status,
        displayedHash: m.displayedHash,
        bytesOnAir: Math.min(0xffffffff, ours?.bytesOnAir ?? frameBytes),
      });
      if (ours !== undefined) this.transfers.drop(m.transferId);
    }
    if (this.holder?.st === st) this.releaseChannel();
    this.closeExchange(st, this.normalWakeS(), this.env.clock.now() + this.env.model.turnaroundMs);
  }

  /** §9.6, §9.7 Queued commands, then RADIO_SLEEP with the AP's clock. */
  private closeExchange(st: ApLabelState, nextWakeS: number, startAt: number): void {
    let at = startAt;
    const queue = this.commands.get(st.label.id);
    if (queue !== undefined) {
      this.commands.delete(st.label.id);
      for (const command of queue) at = this.sendTo(st, { type: 'RADIO_COMMAND', command }, at).endAt;
    }
    this.sendTo(st, { type: 'RADIO_SLEEP', nextWakeS, nowMs: this.apNow(at) }, at);
  }

  // ---- channel -----------------------------------------------------------------------------------------

  private startHolding(st: ApLabelState, t: StagedTransfer): void {
    this.holder?.timeout.cancel();
    this.holder = {
      st,
      transfer: t,
      since: this.env.clock.now(),
      estimateMs: this.estimateMs(t),
      // The label gives up after transferTimeoutMs; the AP frees its channel a little later.
      timeout: this.env.clock.setTimeout(() => this.channelTimedOut(), this.env.model.transferTimeoutMs + 1_000),
    };
  }

  private releaseChannel(): void {
    this.holder?.timeout.cancel();
    this.holder = undefined;
  }

  private channelTimedOut(): void {
    this.stats.transfersTimedOut++;
    this.holder = undefined;
  }

  /** Expected air time of a whole transfer: its parts, their fixed costs, a request per block, PENDING and DONE. */
  private estimateMs(t: StagedTransfer): number {
    const { air, model } = this.env;
    let parts = 0;
    for (const b of t.blocks) parts += partsInBlock(b?.length ?? t.blockSize, model.maxPartBytes);
    const perRound = air.frameAirMs(16) + 2 * model.turnaroundMs;
    const ms = air.frameAirMs(t.descriptor.totalSize / parts + 8) * parts + (t.blocks.length + 2) * perRound;
    return ms / Math.max(0.05, 1 - model.frameLoss);
  }

  /**
   * nextWakeS for a label whose transfer must wait: about when the channel is expected to be free, after the
   * current transfer and the labels already sent away (each reserves its estimated air time).
   */
  private deferralS(t: StagedTransfer): number {
    const now = this.env.clock.now();
    const holderEnd = this.holder === undefined ? now : this.holder.since + this.holder.estimateMs;
    this.horizon = Math.max(this.horizon, holderEnd, now);
    const waitMs = this.horizon - now;
    this.horizon += this.estimateMs(t);
    return Math.max(1, Math.min(this.normalWakeS(), Math.ceil(waitMs / 1000)));
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
      st = { label, txSeq: Math.floor(this.env.random() * 0x10000), window: new DuplicateWindow(16), reported: undefined, lastDoneTransferId: -1 };
      this.states.set(label.id, st);
    }
    return st;
  }

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
