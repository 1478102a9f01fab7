/**
 * The dispatch engine: brings every label from what it confirmed to what it should show.
 *
 * A label's state is owned by the label store (src/domain/labels/label-store.ts, D17); the dispatcher reads its
 * candidates from the store's in-memory indexes and changes labels only through its named transitions (claim,
 * staged, delivered, retry, …). After a restart, transfers that were under way are forgotten and re-sent, and labels
 * whose confirmed hash differs from the desired one are dispatched again. Only the newest desired image matters: ten
 * price changes in a minute cost one transfer (a newer desired hash cancels a transfer of an older one).
 *
 * Per AP at most min(maxInFlightPerAp, the AP's queue capacity) transfers are staged at once, and a QUEUE_FULL
 * NACK backs the AP off (protocol §7.1), so a store-wide repricing never floods an AP. Of those, no more are sending
 * (a frame awaiting its ACK) than the AP's send window allows, which halves when an ACK times out (send-window.ts,
 * D133), so a slow pipe to the APs is not filled with transfers that time out and must start again. Within the slots
 * a transfer is staged shortly before its label is expected to wake (wake-predictor.ts, D19), so the AP's queue holds the labels
 * that wake soonest; on an AP with wake reports the slots go, cheapest first, to labels expected to wake within the
 * time the AP's slots take to drain through its one channel (air-time.ts, D91) — free slots too while labels of the
 * AP still await their picture (D161: those planned next may wake sooner) — and a label the AP deferred because
 * its channel was busy keeps its transfer (D57): the AP's deferred labels come back every second or so and whichever
 * wakes first when the channel frees takes it (protocol §9.1.1). Failed transfers are retried with exponential backoff and jitter. A label that checks in through
 * another AP is re-routed there; one that reports a reboot, or a hash that is not what we sent, gets its content again
 * without anyone asking.
 */
import type { Clock, Random, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { LoopSlices, type LoopTaskTiming } from '../../core/loop-tasks.js';
import { EdgeError, errorMessage, isEslError } from '#contracts';
import type { Config } from '../../config/config-schema.js';
import {
  ApCapability,
  ImageKind,
  LabelDecoder,
  StatusCode,
  chooseEncoding,
  labelTypeById,
  imageBeginMessage,
  imageBlockMessages,
  type MessageOf,
  type StatusCodeValue,
} from '#protocol';
import type { ApGateway, DeltaEncoder } from '../ports.js';
import type { ApRegistry } from '../aps/ap-registry.js';
import type { ImageStore } from '../labels/image-store.js';
import type { PlannedPicture } from '../labels/label-planner.js';
import type { LabelRecord, LabelStore } from '../labels/label-store.js';
import type { WakeState } from './wake-predictor.js';
import { backoffMs } from './backoff.js';
import { WakePredictor } from './wake-predictor.js';
import { WakeJitter, labelStagingCost, labelWakeKnown, missCause, observeReport, wakeWindow, type CostContext, type MissCause } from './wake-reports.js';
import { ApAirRate, stagingHorizonMs, transferUnits, type TransferShape } from './air-time.js';
import { WakeReportSwitch } from './wake-report-switch.js';
import { TopK } from './top-k.js';
import { EncodingCache } from './encoding-cache.js';
import { DeltaPreparer, deltaBase, encodingKeyOf } from './delta-preparer.js';
import { SendWindow } from './send-window.js';
import { WorkAhead, nextWake, pendingOf, waitsForPicture, type AheadCandidate, type AheadView, type WorkAheadStats } from './work-ahead.js';

/** How long a label whose timed picture's boundary passed waits for the planner's re-plan before a send (D56). */
export const BOUNDARY_REPLAN_GRACE_MS = 60_000;


/** now: the desired picture at once; timed: the next picture, shown at next_at (§6.5); drop: withdraw a timed picture. */
export type TransferMode = 'now' | 'timed' | 'drop';

export interface DispatchStats extends WorkAheadStats {
  transfersStarted: number;
  transfersStaged: number;
  transfersDelivered: number;
  transfersFailed: number;
  bytesSent: number;
  fullImages: number;
  deltaImages: number;
  /** Labels that reported their picture was not the base we assumed (§6.4), answered with a full image. */
  baseMismatches: number;
  /** Candidates held back in passes because their label was predicted to wake later (D19). */
  heldForWake: number;
  /** Transfers started for a label whose wake was predicted, and for one whose wake was not (staged at once). */
  stagedPredicted: number;
  stagedUnpredicted: number;
  /** §5.6 Wake-report entries applied, and staged transfers cancelled because their label slept again without them (D35). */
  wakeReportEntries: number;
  missCancels: number;
  /**
   * Why a staged transfer was cancelled as missed (D57), counted when the cancel is decided: its label woke after the
   * claim but before the AP held every block (staging latency), before its predicted window (a wrong prediction), or
   * while the AP held the transfer yet was told a normal sleep.
   */
  missStaging: number;
  /** D91 Its label woke before the claim, unseen: its wake report was on the way when the staging cost gambled. */
  missUnseen: number;
  missEarly: number;
  missHeld: number;
  /** Deferrals of staged transfers seen in reports and kept (D57: never cancelled). */
  deferralsKept: number;
  /** Claim → TRANSFER_RESULT OK, summed over delivered transfers (mean hold = holdMsSum / holdCount; Little's law). */
  holdMsSum: number;
  holdCount: number;
  /** D102 Transfers whose payload was taken from the encoding cache (staged again, or the same picture and base). */
  encodingsReused: number;
  /** D126 Deltas encoded when planned, and transfers that took such a payload. */
  encodingsPrepared: number;
  preparedUsed: number;
  /**
   * D119 Claim → staged, summed over staged transfers, in two parts: until the payload was encoded (its pictures read,
   * from memory or sqlite) and from there until the AP acknowledged IMAGE_BEGIN and every IMAGE_BLOCK.
   */
  encodeMsSum: number;
  apAckMsSum: number;
  /** D133 Times an AP's send window halved because an ACK did not come in time. */
  windowShrinks: number;
  /** D143 Times a dispatch pass yielded to the event loop before its next AP. */
  passSlices: number;
}

export interface PassPick {
  label: Readonly<LabelRecord>;
  mode: TransferMode;
}

/**
 * One AP's share of a dispatch pass, over the labels of that AP with work (the store's index, not a scan): the
 * desired pictures first (most urgent, then soonest to wake, then oldest change), then withdrawals of timed pictures,
 * then timed pictures to stage (protocol §6.5), at most `free` in all. A label whose wake is predicted later than
 * `stageAt` allows is held back; `nextAt` says when the pass must run again for it (or for a label in backoff). On an
 * AP with wake reports (`cost`) all are staged at once only when the free slots hold all of its work, that still to
 * come included (D161); otherwise selectByCost decides.
 */
export function selectForAp(
  work: Iterable<Readonly<LabelRecord>>,
  o: {
    now: number;
    free: number;
    timedDisplay: boolean;
    stageAt: (l: Readonly<LabelRecord>, now: number) => number;
    wakeKey: (l: Readonly<LabelRecord>, now: number) => number;
    /**
     * An AP with wake reports (D35): expected slot time of staging a label now, the horizon it must be within, and
     * how many transfers the AP holds or is being sent now.
     */
    cost?: SelectionCost & { busy: number };
  },
): { picks: PassPick[]; nextAt: number; held: number } {
  const now = o.now;
  // D101 Candidates as plain arrays (no object per label and pass) in the order send, drop, timed: the order a
  // stable sort keeps among equals.
  const send: Readonly<LabelRecord>[] = [];
  const drop: Readonly<LabelRecord>[] = [];
  const timed: Readonly<LabelRecord>[] = [];
  let nextAt = Infinity;
  let held = 0;
  for (const l of work) {
    if (l.transferState !== null) continue;
    const sendable = l.needsSend && l.labelType !== null;
    const droppable = !sendable && l.dropTimed && l.desiredHash !== null;
    const stageable =
      !sendable && !droppable && o.timedDisplay && l.nextHash !== null && l.nextAt !== null && l.nextAt > now && l.confirmedHash === l.desiredHash && !l.dropTimed && l.labelType !== null;
    if (!sendable && !droppable && !stageable) continue;
    if (l.nextAttemptAt > now) {
      if (l.needsSend) nextAt = Math.min(nextAt, l.nextAttemptAt);
      continue;
    }
    // The label's boundary (§6.5 timed picture at nextAt) has passed and the planner has not re-planned it yet
    // (planned() clears nextAt): its desired picture is the one from before the boundary. A label that already
    // switched to its timed picture would otherwise be sent the old price back (found in bench/full-store's
    // promotion start). Held for a grace period only, so a boundary that is never re-planned cannot stall a label.
    if (sendable && l.nextHash !== null && l.nextAt !== null && l.nextAt <= now && now < l.nextAt + BOUNDARY_REPLAN_GRACE_MS) {
      nextAt = Math.min(nextAt, l.nextAt + BOUNDARY_REPLAN_GRACE_MS);
      continue;
    }
    const at = o.stageAt(l, now);
    if (at > now) {
      held++;
      nextAt = Math.min(nextAt, at);
      continue;
    }
    if (sendable) send.push(l);
    else if (droppable) drop.push(l);
    else timed.push(l);
  }
  const picks: PassPick[] = [];
  if (o.free <= 0) return { picks, nextAt, held };
  // D161 On an AP with wake reports the slots go by cost within the horizon unless they hold all its work, that to
  // come (labels still awaiting their picture) included: only then is a slot given early a slot nobody else wants.
  const candidates = send.length + drop.length + timed.length;
  if (o.cost && candidates + (o.cost.toCome ?? 0) > o.free) {
    const labels = send.concat(drop, timed);
    const modeOf = (i: number): TransferMode => (i < send.length ? 'now' : i < send.length + drop.length ? 'drop' : 'timed');
    const r = selectIndexedByCost(labels, modeOf, o.free, now, o.cost);
    return { picks: r.picks, nextAt: Math.min(nextAt, r.nextAt), held: held + r.held };
  }
  // Most urgent, then soonest to wake, then oldest change; only the free slots' worth is ordered (D101).
  const keys = send.map((l) => o.wakeKey(l, now));
  const first = new TopK(o.free, (a, b) => send[a]!.priority - send[b]!.priority || keys[a]! - keys[b]! || (send[a]!.desiredSince ?? 0) - (send[b]!.desiredSince ?? 0) || a - b);
  for (let i = 0; i < send.length; i++) first.offer(i);
  for (const i of first.sorted()) picks.push({ label: send[i]!, mode: 'now' });
  for (const l of drop) {
    if (picks.length >= o.free) return { picks, nextAt, held };
    picks.push({ label: l, mode: 'drop' });
  }
  const soonest = new TopK(o.free - picks.length, (a, b) => timed[a]!.nextAt! - timed[b]!.nextAt! || a - b);
  for (let i = 0; i < timed.length; i++) soonest.offer(i);
  for (const i of soonest.sorted()) picks.push({ label: timed[i]!, mode: 'timed' });
  return { picks, nextAt, held };
}

/** D123 The shape of transfer a label is expected to take, for its staging horizon. */
export function transferShape(l: Readonly<LabelRecord>): TransferShape {
  return deltaBase(l) !== null ? 'delta' : 'full';
}

/**
 * D107 The panel time a label's next transfer will most likely cost: a label that already shows a picture gets a
 * delta, which a type with partial refresh shows in partialRefreshMs when black alone changes (§6.3.2) — known when
 * this process planned both pictures (their colour digests, colour-digest.ts), else assumed; otherwise the full
 * refresh. A guess for ordering only.
 */
export function expectedRefreshMs(l: Readonly<LabelRecord>): number {
  const type = l.labelType !== null ? labelTypeById(l.labelType) : undefined;
  if (type === undefined) return 0;
  const colourSame = l.desiredColour === null || l.confirmedColour === null || l.desiredColour === l.confirmedColour;
  return type.partialRefresh && l.confirmedHash !== null && colourSame ? type.partialRefreshMs : type.fullRefreshMs;
}

/** How a reporting AP's candidates are weighed (D35, D107). */
export interface SelectionCost {
  /** Expected slot time (ms) of staging the label now; a candidate is eligible when it is at most its horizon. */
  of: (l: Readonly<LabelRecord>, mode: TransferMode, now: number) => number;
  horizonMs: number;
  /** D123 The horizon of this candidate (by the shape of transfer it expects); `horizonMs` for all when absent. */
  horizonOf?: (l: Readonly<LabelRecord>) => number;
  /** Transfers the AP holds or is being sent now. */
  busy?: number;
  /**
   * D161 Labels of the AP still awaiting their new picture (planned soon, a store-wide update under way). While there
   * are any, a slot given to a label beyond the horizon is taken from one of them that may wake sooner.
   */
  toCome?: number;
  /** D161 The label's next wake is known from a report (stagingCost's window, not its guess for an unknown wake). */
  wakeKnown?: (l: Readonly<LabelRecord>) => boolean;
  /**
   * D107 How long the label's panel takes to show its picture after the transfer (ms). Among eligible candidates the
   * longer refresh goes first (by up to the horizon): an update ends when its last panel has refreshed, so the
   * 25–30 s panels must not be the last transfers (Jackson's rule for the largest delivery time).
   */
  refreshMs?: (l: Readonly<LabelRecord>) => number;
}

/**
 * D35 More work than free slots on an AP with wake reports: the slots go to the labels with the smallest expected
 * slot time (wake-reports.ts stagingCost), and only to those within the horizon (the AP's drain time, D91) — a slot
 * kept free for a label that will wake soon serves more labels than one given now to a label that wakes in 20 s. The
 * pass runs again when the next held label may enter the horizon (and at every wake report).
 */
export function selectByCost(
  candidates: readonly { l: Readonly<LabelRecord>; mode: TransferMode }[],
  free: number,
  now: number,
  cost: SelectionCost,
): { picks: PassPick[]; nextAt: number; held: number } {
  return selectIndexedByCost(
    candidates.map((c) => c.l),
    (i) => candidates[i]!.mode,
    free,
    now,
    cost,
  );
}

/**
 * selectByCost over candidates by index. Equal to sorting every candidate by (cost, priority, oldest change, order)
 * and taking the first `free` within the horizon, but only the free slots' worth is kept in order (D101: a top-k
 * heap, TopK), so a pass costs one cost evaluation per candidate and no sort of all of them.
 */
function selectIndexedByCost(
  labels: readonly Readonly<LabelRecord>[],
  modeOf: (i: number) => TransferMode,
  free: number,
  now: number,
  cost: SelectionCost,
): { picks: PassPick[]; nextAt: number; held: number } {
  const n = labels.length;
  const keys = new Float64Array(n);
  const cmp = (a: number, b: number): number =>
    keys[a]! - keys[b]! || labels[a]!.priority - labels[b]!.priority || (labels[a]!.desiredSince ?? 0) - (labels[b]!.desiredSince ?? 0) || a - b;
  const k = Math.max(0, free);
  const within = new TopK(k, cmp);
  // An AP with nothing staged never idles while work waits: the cheapest go now, whatever the horizon (a wrong
  // prediction costs at most a wake interval of one slot, never progress). D161 While more of its work is still being
  // planned, only labels whose wake is not known yet: one whose wake is known is staged within the horizon of it, and
  // until then its slot waits for the labels to come that wake sooner.
  const idle = (cost.busy ?? 0) === 0;
  const beyond = idle ? new TopK(k, cmp) : null;
  const unknownOnly = (cost.toCome ?? 0) > 0 && cost.wakeKnown !== undefined;
  let nextAt = Infinity;
  let unseen = false;
  for (let i = 0; i < n; i++) {
    const key = cost.of(labels[i]!, modeOf(i), now);
    const horizonMs = cost.horizonOf ? cost.horizonOf(labels[i]!) : cost.horizonMs;
    // Eligibility by the slot time alone; the order among the eligible also by the refresh to come (D107).
    keys[i] = cost.refreshMs && Number.isFinite(key) ? key - Math.min(cost.refreshMs(labels[i]!), horizonMs) : key;
    if (key <= horizonMs) within.offer(i);
    else if (Number.isFinite(key)) {
      nextAt = Math.min(nextAt, now + Math.max(100, key - horizonMs));
      if (!unknownOnly || !cost.wakeKnown!(labels[i]!)) beyond?.offer(i);
    } else if (key === Infinity) unseen = true;
  }
  const chosen = within.size === 0 && beyond ? beyond : within;
  const picks: PassPick[] = chosen.sorted().map((i) => ({ label: labels[i]!, mode: modeOf(i) }));
  // A label that most likely woke unseen (Infinity) is reported within a report interval: look again soon.
  if (unseen) nextAt = Math.min(nextAt, now + 500);
  return { picks, nextAt, held: n - picks.length };
}

/** An AP whose wake reports are on (§4.8): when its last report arrived. */
interface ReportingAp {
  lastReportAt: number;
}

/** D159 How often the labels waiting for a picture are looked at again for their appointments. */
const PENDING_REFRESH_MS = 1_000;

export class Dispatcher {
  private running: Promise<void> | null = null;
  /**
   * D159, D161 Per AP, its labels waiting for their picture (counted) and those of them with a long panel refresh
   * (listed), from one walk over the dirty labels: when, and how many labels were dirty then.
   */
  private waiting: { at: number; dirty: number } & ReturnType<typeof pendingOf> = { at: -Infinity, dirty: 0, pending: new Map(), waiting: new Map() };
  private again = false;
  private stopped = false;
  private sweepTimer: TimerHandle | null = null;
  private wakeTimer: TimerHandle | null = null;
  private wakeTimerAt = Infinity;
  private kickTimer: TimerHandle | null = null;
  private lastPassAt = -Infinity;
  /** Dispatch passes run so far (metrics, benchmarks). */
  passes = 0;
  /** Transfers being sent right now (ACKs awaited), per AP. */
  private readonly sending = new Map<string, Set<string>>();
  readonly predictor: WakePredictor;
  readonly stats: DispatchStats = {
    transfersStarted: 0,
    transfersStaged: 0,
    transfersDelivered: 0,
    transfersFailed: 0,
    bytesSent: 0,
    fullImages: 0,
    deltaImages: 0,
    baseMismatches: 0,
    heldForWake: 0,
    stagedPredicted: 0,
    stagedUnpredicted: 0,
    wakeReportEntries: 0,
    missCancels: 0,
    deferralsKept: 0,
    missStaging: 0,
    missUnseen: 0,
    missEarly: 0,
    missHeld: 0,
    holdMsSum: 0,
    holdCount: 0,
    encodingsReused: 0,
    encodingsPrepared: 0,
    preparedUsed: 0,
    encodeMsSum: 0,
    apAckMsSum: 0,
    windowShrinks: 0,
    passSlices: 0,
    aheadPlans: 0,
    appointmentsSent: 0,
    aheadMessages: 0,
    aheadFailures: 0,
  };
  /** §5.6 Store-wide sleep jitter learnt from the wake reports (D35). */
  readonly jitter = new WakeJitter();
  /** APs whose wake reports are on (§4.8), by id. */
  private readonly reporting = new Map<string, ReportingAp>();
  /** Claim → the AP holds every block, moving average (ms): a label waking sooner than this is missed. */
  private stageLatencyMs = 300;
  /** Labels whose report showed them asleep again while their transfer was still being sent (checked once staged). */
  private readonly missedWhileSending = new Set<string>();
  /** Claim → TRANSFER_RESULT OK per AP (ms summed, count): Little's law per AP, for tests and benchmarks. */
  readonly holdByAp = new Map<string, { sum: number; count: number }>();
  /**
   * Per label with a transfer under way on a reporting AP: when the AP held every block (Infinity while sending) and
   * where its predicted wake window opened at the claim. Classifies misses (D57); one entry per label at most.
   */
  private readonly stagingOf = new Map<string, { transferId: number; heldAt: number; windowA: number; units: number }>();
  /** D58 Per reporting AP: its channel's ms per unit of §9.5.2 cost. */
  private readonly airRates = new Map<string, ApAirRate>();
  /** D58 Delivered transfers (units, AP) whose exchange's awakeMs the next wake report tells. */
  private readonly awaitingAir = new Map<string, { apId: string; units: number }>();
  /** Transfers with an IMAGE_CANCEL on its way (not cancelled twice). */
  private readonly cancelling = new Set<number>();
  /** §4.8 Each AP session's WAKE_REPORT_CONFIG, sent until acknowledged (D89). */
  private readonly wakeSwitch: WakeReportSwitch;
  /** D102 Recent payloads by what they encode, so a transfer staged again is not encoded again. */
  readonly encodings = new EncodingCache();
  /** D126 Deltas encoded when planned. */
  private readonly preparer: DeltaPreparer;
  /** D133 Per AP: how many transfers may be sending to it at once. */
  private readonly windows = new Map<string, SendWindow>();
  /** §4.9 Appointments for the labels each AP's channel will pass over at their wake (D146). */
  private readonly workAhead: WorkAhead;

  constructor(
    private readonly deps: {
      labels: LabelStore;
      images: ImageStore;
      gateway: ApGateway;
      aps: ApRegistry;
      clock: Clock;
      random: Random;
      log: Logger;
      config: Config['dispatch'];
      /** Told about every check-in, for telemetry alerts and metrics. */
      onCheckin?: (labelId: string, apId: string, msg: MessageOf<'LABEL_CHECKIN'>) => void;
      /** D143 How long each pass and each delta-preparer turn held the event loop. */
      loopTasks?: LoopTaskTiming;
      /** D148 Encodes the deltas prepared when planned off the event loop (the render worker pool). */
      deltaEncoder?: DeltaEncoder;
    },
  ) {
    this.preparer = new DeltaPreparer({
      labels: deps.labels,
      aps: deps.aps,
      encodings: this.encodings,
      ...(deps.loopTasks ? { loopTasks: deps.loopTasks } : {}),
      ...(deps.deltaEncoder ? { encoder: deps.deltaEncoder } : {}),
    });
    this.predictor = new WakePredictor({ leadMs: deps.config.wakeLeadMs, maxIntervalMs: (deps.config.checkinReportIntervalS * 1000) / 2 });
    this.workAhead = new WorkAhead({
      gateway: deps.gateway,
      aps: deps.aps,
      clock: deps.clock,
      log: deps.log,
      intervalMs: deps.config.workAheadIntervalMs,
      view: (apId, now) => this.aheadView(apId, now),
      stats: this.stats,
    });
    this.wakeSwitch = new WakeReportSwitch({
      ...deps,
      onReporting: (apId) => {
        if (!this.stopped) this.reporting.set(apId, { lastReportAt: this.deps.clock.now() });
      },
    });
  }

  /**
   * D126 The planner's newly planned labels with the pictures at hand (`pictureOf`: planes by hash, the new ones and
   * those the labels show): their deltas are encoded now, not when staged.
   */
  prepare(labelIds: readonly string[], pictureOf: (hash: string) => PlannedPicture | undefined): void {
    if (!this.stopped) this.preparer.prepare(labelIds, pictureOf);
  }

  /** Transfers under way when the edge stopped were forgotten by the store's load: the APs get them after hello. */
  async start(): Promise<void> {
    this.scheduleSweep();
    this.workAhead.start();
    return Promise.resolve();
  }

  stop(): void {
    this.stopped = true;
    this.wakeSwitch.stop();
    this.workAhead.stop();
    if (this.sweepTimer) this.deps.clock.clearTimeout(this.sweepTimer);
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    if (this.kickTimer) this.deps.clock.clearTimeout(this.kickTimer);
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
    const pending = [...this.sending.values()].reduce((n, s) => n + s.size, 0);
    if (pending > 0) await new Promise((r) => setTimeout(r, 20)).then(() => this.idle());
  }

  /**
   * Asks for a dispatch pass. Passes run one at a time and start at most once per `minPassIntervalMs`: every
   * check-in, transfer result and heartbeat kicks, and a large store forwards hundreds of check-ins a second
   * (docs/decisions.md D16).
   */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.kickTimer) return;
    const wait = this.lastPassAt + this.deps.config.minPassIntervalMs - this.deps.clock.now();
    if (wait > 0) {
      this.kickTimer = this.deps.clock.setTimeout(() => {
        this.kickTimer = null;
        this.kick();
      }, wait);
      return;
    }
    this.lastPassAt = this.deps.clock.now();
    this.passes++;
    this.running = this.pass()
      .catch((err) => this.deps.log.error({ evt: 'dispatch.failed', err: errorMessage(err) }, 'dispatch pass failed'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Wake-aware staging is on when a lead is configured (D19). */
  private stageAt = (l: Readonly<LabelRecord>, now: number): number => {
    return this.deps.config.wakeLeadMs > 0 ? this.predictor.stageAt(l, now) : now;
  };
  private wakeKey = (l: Readonly<LabelRecord>, now: number): number => {
    return this.deps.config.wakeLeadMs > 0 ? (this.predictor.nextWake(l, now) ?? now) : now;
  };

  /**
   * One dispatch pass over every online AP. D143: it yields to the event loop between two APs once it has run for
   * SLICE_MS and goes on with the next AP in the next turn (kicks meanwhile coalesce into one more pass): the
   * reference store's passes, 25 APs with up to 2,000 labels of work each, held the loop 18–23 ms on average, a
   * quarter to 40 % of them over 20 ms (bench/full-store edge_loop_tasks).
   */
  private async pass(): Promise<void> {
    const { labels, clock } = this.deps;
    const slices = new LoopSlices(this.deps.loopTasks, 'dispatch_pass');
    let earliest = Infinity;
    for (const listed of this.deps.aps.online()) {
      if (slices.due()) {
        await slices.next();
        this.stats.passSlices++;
        if (this.stopped) return;
      }
      // The AP's state now: it may have gone offline (its labels wait for its next hello) or said hello again (a new
      // state, with its queue capacity) while the pass yielded.
      const ap = this.deps.aps.get(listed.apId);
      if (!ap?.online) continue;
      const now = clock.now();
      if (ap.backoffUntil > now) {
        earliest = Math.min(earliest, ap.backoffUntil);
        continue;
      }
      const capacity = Math.min(this.deps.config.maxInFlightPerAp, ap.queueCapacity || this.deps.config.maxInFlightPerAp);
      // D133 Within the AP's slots, no more transfers sending (frames awaiting ACKs) than its send window allows.
      const sendable = this.windowOf(ap.apId, capacity).limit(capacity) - (this.sending.get(ap.apId)?.size ?? 0);
      const free = Math.min(capacity - labels.inFlightOn(ap.apId), sendable);
      // A full AP is looked at again when a transfer ends (every result and check-in asks for a pass).
      if (free <= 0) continue;
      const rep = this.reporting.get(ap.apId);
      const sel = selectForAp(labels.workOn(ap.apId), {
        now,
        free,
        timedDisplay: (ap.capabilities & ApCapability.TIMED_DISPLAY) !== 0,
        // D35: on an AP with wake reports the cost decides (below), not the check-in predictor of D19.
        stageAt: rep ? (_l, t) => t : this.stageAt,
        wakeKey: rep ? (_l, t) => t : this.wakeKey,
        ...(rep ? { cost: this.selectionCost(ap.apId, rep, capacity, capacity - free) } : {}),
      });
      this.stats.heldForWake += sel.held;
      earliest = Math.min(earliest, sel.nextAt);
      for (const p of sel.picks) {
        const predicted = rep ? p.label.wakeToldMs !== null : this.deps.config.wakeLeadMs > 0 && this.predictor.nextWake(p.label, now) !== null;
        if (predicted) this.stats.stagedPredicted++;
        else this.stats.stagedUnpredicted++;
        this.begin(ap.apId, p.label, p.mode);
      }
    }
    slices.end();
    if (earliest !== Infinity) this.wakeAt(earliest);
  }

  /**
   * D35 Expected slot time (ms) of staging `l` now on a reporting AP, in the pass's cost context (costContext). A
   * timed picture (§6.5) whose refresh must start within two sleeps is staged at once whatever its wake: it must be
   * on the label before displayAt − refresh time (§6.5.1), and a prediction must not cost a promotion its start minute.
   */
  private stagingCost(l: Readonly<LabelRecord>, mode: TransferMode, c: CostContext): number {
    if (mode === 'timed' && l.nextAt !== null) {
      const refreshMs = labelTypeById(l.labelType ?? 0)?.fullRefreshMs ?? 0;
      if (l.nextAt - refreshMs - c.now < 2 * this.nominalToldMs() * (1 + Math.max(0, this.jitter.hi)) + this.stageLatencyMs) return -1;
    }
    return labelStagingCost(l, this.jitter, c);
  }

  /** The store's usual sleep as the wake reports tell it (§5.6), 30 s until they do. */
  private nominalToldMs(): number {
    return this.jitter.nominalToldMs > 0 ? this.jitter.nominalToldMs : 30_000;
  }

  /** D149 What the staging cost of a reporting AP's candidates depends on besides the label, once per AP and pass. */
  private costContext(rep: ReportingAp, now: number): CostContext {
    const interval = this.deps.config.wakeReportIntervalMs;
    return {
      now,
      knownUntil: rep.lastReportAt,
      stageLatencyMs: this.stageLatencyMs,
      missCostMs: interval + this.stageLatencyMs,
      unknownMs: this.nominalToldMs() / 2,
      staleAfterMs: 3 * interval + 2_000,
    };
  }

  private wakeAt(at: number): void {
    // Keep the earliest wake-up; a later request does not push it back.
    if (this.wakeTimer && this.wakeTimerAt <= at && this.wakeTimerAt > this.deps.clock.now()) return;
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    this.wakeTimerAt = at;
    this.wakeTimer = this.deps.clock.setTimeout(() => {
      this.wakeTimer = null;
      this.wakeTimerAt = Infinity;
      this.kick();
    }, Math.max(0, at - this.deps.clock.now()));
  }

  /** Claims the label in the store (synchronously, so the AP's window counts it at once) and sends it. */
  private begin(apId: string, label: Readonly<LabelRecord>, mode: TransferMode): void {
    const targetHash = mode === 'timed' ? label.nextHash! : label.desiredHash!;
    const displayAt = mode === 'timed' ? label.nextAt! : 0;
    const transferId = this.deps.labels.claim(label.id, { mode, apId, hash: targetHash, displayAt, now: this.deps.clock.now() });
    if (transferId === 0) return;
    if (this.reporting.has(apId)) this.stagingOf.set(label.id, { transferId, heldAt: Infinity, windowA: wakeWindow(label, this.jitter)?.a ?? -Infinity, units: 0 });
    else this.stagingOf.delete(label.id);
    this.stats.transfersStarted++;
    const set = this.sending.get(apId) ?? new Set<string>();
    this.sending.set(apId, set);
    set.add(label.id);
    void this.send(apId, label, mode, transferId, targetHash, displayAt).finally(() => {
      set.delete(label.id);
      this.kick();
    });
  }

  private async send(apId: string, label: Readonly<LabelRecord>, mode: TransferMode, transferId: number, targetHash: string, displayAt: number): Promise<void> {
    const { images, gateway, log, labels } = this.deps;
    const claimedAt = this.deps.clock.now();
    this.missedWhileSending.delete(label.id);
    const window = this.windowOf(apId);
    /** When the frame whose ACK is awaited was sent (-1: none yet). */
    let sentAt = -1;
    try {
      const ap = this.deps.aps.get(apId);
      const type = label.labelType !== null ? labelTypeById(label.labelType) : undefined;
      const noImage = () => new EdgeError('RENDER_FAILED', `no image ${targetHash} or label type ${label.labelType} for ${label.id}`);
      if (!ap || !type) throw noImage();
      const key = encodingKeyOf(label, ap.capabilities, targetHash)!;
      const baseHash = key.baseHash;
      // D126 Encoded when planned, or D102 a transfer staged again (after a miss) or for another label with the same
      // picture and base: not encoded again, the payload depends only on the key.
      const encoded = await this.encodings.obtain(
        key,
        async () => {
          // D126 Planned a moment ago and not yet encoded: from the planner's pictures, without reading them back.
          const early = this.preparer.encodeWaiting(label.id, key);
          if (early) return early;
          const target = await images.load(targetHash);
          if (!target) throw noImage();
          const base = baseHash !== null ? await images.load(baseHash) : undefined;
          const basePlanes = base && base.labelType === type.id ? base.planes : undefined;
          // §6.6.1: the smallest payload both the AP and the label decode (label.decoders: its last check-in).
          // D149 The pictures are named by their hashes: the encoder does not hash them again.
          return chooseEncoding({ ap: ap.capabilities, label: label.decoders }, type, target.planes, basePlanes, {
            target: targetHash,
            ...(basePlanes && baseHash !== null ? { base: baseHash } : {}),
          });
        },
        label.id,
      );
      this.stats.encodingsReused = this.encodings.hits;
      this.stats.encodingsPrepared = this.preparer.stats.prepared + this.preparer.stats.early;
      this.stats.preparedUsed = this.encodings.preparedHits + this.preparer.stats.early;
      const encodedAt = this.deps.clock.now();
      if (encoded.kind === ImageKind.FULL) this.stats.fullImages++;
      else this.stats.deltaImages++;

      const begin = imageBeginMessage({ transferId, labelId: label.id, labelType: type.id, displayAt, priority: mode === 'timed' ? 1 : 0 }, encoded);
      const info = this.stagingOf.get(label.id);
      if (info?.transferId === transferId) {
        // §9.10.1 RADIO_OFFER when both the AP and the label take it; D58 the AP's channel time of this transfer.
        const offer = (ap.capabilities & ApCapability.RADIO_OFFER) !== 0 && ((label.decoders ?? 0) & LabelDecoder.OFFER) !== 0;
        // §9.12 Both sides announce the burst: the AP's capability and the label's decoders bit 5.
        const burst = offer && (ap.capabilities & ApCapability.RADIO_BURST) !== 0 && ((label.decoders ?? 0) & LabelDecoder.BURST) !== 0;
        info.units = transferUnits(begin, offer, burst);
        this.airOf(apId).noteTransfer(info.units, transferShape(label));
      }
      sentAt = this.deps.clock.now();
      const status = await gateway.send(apId, begin);
      if (status !== StatusCode.OK) return this.nacked(apId, label.id, transferId, status);
      for (const block of imageBlockMessages(transferId, encoded.payload, ap.maxBlockSize)) {
        sentAt = this.deps.clock.now();
        const s = await gateway.send(apId, block);
        if (s !== StatusCode.OK) return this.nacked(apId, label.id, transferId, s);
        this.stats.bytesSent += block.data.length;
      }
      window.transferDone();
      labels.staged(label.id, transferId);
      this.stats.transfersStaged++;
      this.stats.encodeMsSum += encodedAt - claimedAt;
      this.stats.apAckMsSum += this.deps.clock.now() - encodedAt;
      if (info?.transferId === transferId) info.heldAt = this.deps.clock.now();
      this.stageLatencyMs += 0.1 * (this.deps.clock.now() - claimedAt - this.stageLatencyMs);
      if (this.missedWhileSending.delete(label.id)) this.cancelMiss(apId, label.id, transferId);
      log.debug({ evt: 'transfer.staged', labelId: label.id, apId, transferId, kind: encoded.kind, bytes: encoded.payload.length, mode, targetHash, displayAt }, 'transfer staged');
    } catch (err) {
      if (sentAt >= 0 && isEslError(err, 'AP_ACK_TIMEOUT')) window.timedOut(sentAt, this.deps.clock.now());
      log.warn({ evt: 'transfer.send_failed', labelId: label.id, apId, transferId, err: errorMessage(err) }, 'transfer could not be sent');
      this.retryLater(label.id, transferId, errorMessage(err));
    }
  }

  /** D133 The AP's send window, made with the AP's usable slots when first asked for. */
  private windowOf(apId: string, capacity = this.deps.config.maxInFlightPerAp): SendWindow {
    let w = this.windows.get(apId);
    if (!w) {
      w = new SendWindow({ capacity, onShrink: () => this.stats.windowShrinks++ });
      this.windows.set(apId, w);
    }
    return w;
  }

  private nacked(apId: string, labelId: string, transferId: number, status: StatusCodeValue): void {
    const now = this.deps.clock.now();
    if (status === StatusCode.QUEUE_FULL || status === StatusCode.BUSY) {
      // Backpressure: the AP is full. Hold this AP back and retry the label without counting an attempt.
      const ap = this.deps.aps.get(apId);
      if (ap) ap.backoffUntil = now + 2_000 + Math.floor(this.deps.random() * 1_000);
      this.deps.labels.released(labelId, transferId, ap?.backoffUntil ?? now + 2_000);
      return;
    }
    this.retryLater(labelId, transferId, `AP answered status ${status}`);
  }

  private retryLater(labelId: string, transferId: number, reason: string): void {
    const l = this.deps.labels.get(labelId);
    if (!l || l.transferId !== transferId) return;
    const delay = backoffMs(l.attempts + 1, this.deps.config, this.deps.random);
    this.stats.transfersFailed++;
    this.deps.labels.retry(labelId, transferId, { nextAttemptAt: this.deps.clock.now() + delay, reason });
    this.wakeAt(this.deps.clock.now() + delay);
  }

  // ---- inbound from the APs -------------------------------------------------------------------------

  labelCheckin(apId: string, msg: MessageOf<'LABEL_CHECKIN'>): Promise<StatusCodeValue> {
    const { labels, clock, log } = this.deps;
    const now = clock.now();
    const out = labels.checkin(apId, msg, now);
    labels.observeWake(msg.labelId, (s) => this.observeCheckin(apId, s, now));
    if (out.baseMismatch) this.stats.baseMismatches++;
    if (out.cancelAt) {
      const c = out.cancelAt;
      this.deps.gateway.send(c.apId, { type: 'IMAGE_CANCEL', transferId: c.transferId }).catch(() => undefined);
    }
    if (out.previousAp && out.previousAp !== apId) log.info({ evt: 'label.roamed', labelId: msg.labelId, from: out.previousAp, to: apId }, 'label moved to another AP');
    if (out.rebooted) log.info({ evt: 'label.rebooted', labelId: msg.labelId, apId }, 'label reported a reboot; content will be re-sent');
    this.deps.aps.touch(apId, now);
    this.deps.onCheckin?.(msg.labelId, apId, msg);
    this.kick();
    return Promise.resolve(StatusCode.OK);
  }

  transferResult(apId: string, msg: MessageOf<'TRANSFER_RESULT'>): Promise<StatusCodeValue> {
    const { labels, clock } = this.deps;
    const l = labels.get(msg.labelId);
    const mismatch = msg.status === StatusCode.BASE_MISMATCH || msg.status === StatusCode.HASH_MISMATCH;
    if (!l) return Promise.resolve(StatusCode.OK);
    if (l.transferId !== msg.transferId) {
      // An older transfer (already replaced or cleared): nothing to undo, but what it says about the label holds.
      if (mismatch) labels.forceFull(msg.labelId);
      return Promise.resolve(StatusCode.OK);
    }
    if (msg.status === StatusCode.CANCELLED && this.cancelling.has(msg.transferId)) {
      // Our own IMAGE_CANCEL of a missed transfer (D35), its result perhaps ahead of the ACK: free, no attempt counted.
      this.releaseMissed(msg.labelId, msg.transferId);
      return Promise.resolve(StatusCode.OK);
    }
    if (msg.status === StatusCode.OK) {
      this.stats.transfersDelivered++;
      const now = clock.now();
      // The label was awake to take the image: a sighting (D19).
      labels.observeWake(msg.labelId, (s) => this.observeCheckin(apId, s, now));
      if (l.transferAt !== null) {
        this.stats.holdMsSum += now - l.transferAt;
        this.stats.holdCount++;
        const h = this.holdByAp.get(apId) ?? { sum: 0, count: 0 };
        h.sum += now - l.transferAt;
        h.count++;
        this.holdByAp.set(apId, h);
      }
      if (l.dropTimed && l.transferHash === l.confirmedHash) labels.withdrawn(msg.labelId, msg.transferId);
      else labels.delivered(msg.labelId, msg.transferId, now);
      this.encodings.release(msg.labelId);
      const info = this.stagingOf.get(msg.labelId);
      if (info?.transferId === msg.transferId && info.units > 0 && this.reporting.has(apId)) this.awaitingAir.set(msg.labelId, { apId, units: info.units });
      this.stagingOf.delete(msg.labelId);
    } else {
      this.deps.log.warn({ evt: 'transfer.failed', labelId: msg.labelId, apId, transferId: msg.transferId, status: msg.status }, 'label reported a failed transfer');
      // §6.4: a label whose picture is not what we assumed gets a full image next.
      if (mismatch) {
        this.stats.baseMismatches++;
        labels.mismatched(msg.labelId, msg.transferId, msg.displayedHash);
      } else {
        this.retryLater(msg.labelId, msg.transferId, `label reported status ${msg.status}`);
      }
    }
    this.kick();
    return Promise.resolve(StatusCode.OK);
  }

  /** D19: a check-in or result is a sighting for the check-in predictor, unless the label's AP reports its wakes. */
  private observeCheckin(apId: string, s: WakeState, now: number): void {
    if (this.reporting.has(apId) && (s.wakeToldMs ?? null) !== null) return;
    // Seen through an AP without wake reports (it roamed): the reported sleep no longer tells its next wake.
    s.wakeToldMs = null;
    this.predictor.observe(s, now);
  }

  /** An AP said hello: it starts with an empty queue, so whatever we had staged there is gone. */
  apRestarted(apId: string): Promise<void> {
    this.deps.labels.apRestarted(apId);
    this.reporting.delete(apId);
    // D133 A new session starts with a full send window: what made its ACKs time out (a hung AP, a lost link) is over.
    this.windows.delete(apId);
    // §4.8.1 Reports are off after every AP_HELLO: switched on again, until acknowledged (D89).
    this.wakeSwitch.apHello(apId);
    // §4.9.1 Its appointments were lost with its RAM.
    this.workAhead.apHello(apId);
    this.kick();
    return Promise.resolve();
  }

  /** An AP went offline: a wake-report config still unacknowledged waits for its next hello (D89). */
  apOffline(apId: string): void {
    this.wakeSwitch.apOffline(apId);
  }

  /**
   * §5.6 WAKE_REPORT: each entry is a label's sleep that started agoMs before the report arrived (clocks need not
   * agree). It teaches the label's next wake window (D35), and a staged transfer its label went back to sleep
   * without is cancelled, so its slot serves a label that wakes sooner (the label is staged again before its next
   * window). A short nextWakeS is a deferral (the AP's channel was busy): that label comes back soon, nothing to do.
   */
  wakeReport(apId: string, msg: MessageOf<'WAKE_REPORT'>): Promise<void> {
    const { labels, clock } = this.deps;
    const now = clock.now();
    const rep = this.reporting.get(apId);
    if (!rep) return Promise.resolve();
    rep.lastReportAt = now;
    const horizon = this.deps.config.wakeHorizonMs;
    for (const e of msg.entries) {
      const sleptAt = now - e.agoMs;
      const entry = { sleptAt, wokeAt: sleptAt - e.awakeMs, toldMs: e.nextWakeS * 1000 };
      labels.observeWake(e.labelId, (s) => observeReport(s, this.jitter, entry));
      this.stats.wakeReportEntries++;
      const took = this.awaitingAir.get(e.labelId);
      if (took) {
        // The exchange that took the transfer (its sleep follows RADIO_XFER_DONE): its length teaches the AP's rate.
        this.awaitingAir.delete(e.labelId);
        if (took.apId === apId) this.airOf(apId).observe(took.units, e.awakeMs);
      }
      const l = labels.get(e.labelId);
      // Every entry is news (each exchange is reported once), also one of a wake before the claim whose report was
      // still on its way: that label sleeps a whole interval without the transfer (D91 missUnseen), so it is cancelled
      // like any other miss.
      if (!this.deps.config.wakeCancelMisses || !l || l.transferAp !== apId || l.transferAt === null) continue;
      if (l.transferState !== 'staged' && l.transferState !== 'sending') continue;
      const cause = this.missCause(l, entry);
      // D57 §5.6.2: a deferral is not a miss. The AP keeps the transfer and told the label to come back when its
      // channel is free; a cancel would free a slot the AP has already planned air time for, and the re-staged
      // transfer would race the label's short sleep (a lost race costs a whole wake interval).
      if (cause === 'deferral') {
        this.stats.deferralsKept++;
        continue;
      }
      const w = wakeWindow(l, this.jitter);
      if (!w || w.a - now <= horizon) continue;
      this.stats[cause]++;
      if (l.transferState === 'staged') this.cancelMiss(apId, l.id, l.transferId!);
      else this.missedWhileSending.add(l.id);
    }
    this.kick();
    return Promise.resolve();
  }

  /**
   * D146 An AP's labels with a transfer to come, for the plan of its channel (work-ahead.ts): each with its expected
   * next wake (the middle of its window, a sleep later for each window already past unseen) and the mean air time of
   * its shape of transfer on this AP. Only an AP with wake reports and a learnt air time is planned.
   */
  private aheadView(apId: string, now: number): ReturnType<AheadView> {
    if (!this.reporting.has(apId)) return null;
    const air = this.airOf(apId).meanTransferMs;
    if (air.delta === 0 && air.full === 0) return null;
    const sleepMs = this.nominalToldMs();
    const candidates: AheadCandidate[] = [];
    for (const l of this.deps.labels.workOn(apId)) {
      if (!l.needsSend || l.labelType === null || l.nextAttemptAt > now) continue;
      const state = l.transferState;
      if (state === 'delivered' || (state !== null && l.transferAp !== apId)) continue;
      const w = wakeWindow(l, this.jitter);
      if (w === null) continue;
      const { wakeAt, latestAt } = nextWake(w, now, sleepMs);
      const shape = transferShape(l);
      const airMs = air[shape] || air.delta || air.full;
      candidates.push({ labelId: l.id, wakeAt, latestAt, airMs, refreshMs: expectedRefreshMs(l), appointable: state === null });
    }
    // The lists are up to a second old: a label planned or claimed since is left to the channel's plan.
    const pending = (this.waitingNow(now).pending.get(apId) ?? []).filter((p) => {
      const l = this.deps.labels.get(p.labelId);
      return l !== undefined && waitsForPicture(l);
    });
    return { candidates, startAt: now + this.stageLatencyMs, sleepMs, pending };
  }

  private airOf(apId: string): ApAirRate {
    let r = this.airRates.get(apId);
    if (!r) {
      r = new ApAirRate();
      this.airRates.set(apId, r);
    }
    return r;
  }

  /**
   * D35 How a reporting AP's candidates are weighed: by expected slot time, each held to the horizon of the shape of
   * transfer it expects (a delta or a full image, D123), longer panel refreshes first among equals (D107).
   */
  private selectionCost(apId: string, rep: ReportingAp, capacity: number, busy: number): SelectionCost & { busy: number } {
    const horizons = { full: this.horizonMs(apId, capacity, 'full'), delta: this.horizonMs(apId, capacity, 'delta') };
    const context = this.costContext(rep, this.deps.clock.now());
    return {
      of: (l, mode, t) => {
        context.now = t;
        return this.stagingCost(l, mode, context);
      },
      horizonMs: horizons.full,
      horizonOf: (l) => horizons[transferShape(l)],
      refreshMs: expectedRefreshMs,
      busy,
      toCome: this.toComeOn(apId, context.now),
      wakeKnown: (l) => labelWakeKnown(l, this.jitter, context),
    };
  }

  /** D161 The AP's labels still waiting for their picture (none when nothing is dirty, without a walk). */
  private toComeOn(apId: string, now: number): number {
    return this.deps.labels.dirtyCount === 0 ? 0 : (this.waitingNow(now).waiting.get(apId) ?? 0);
  }

  /**
   * D159, D161 The labels waiting for their picture (work-ahead.ts pendingOf), from one walk over the dirty labels at
   * most once a second for every AP — the plans of the APs take turns over the interval — or sooner when many more
   * became dirty (an update's first dispatch pass must see it).
   */
  private waitingNow(now: number): ReturnType<typeof pendingOf> {
    const dirty = this.deps.labels.dirtyCount;
    const w = this.waiting;
    if (now - w.at >= PENDING_REFRESH_MS || dirty > 1.1 * w.dirty + 10) {
      const walk = pendingOf(this.deps.labels.dirtyLabels(), {
        now,
        sleepMs: this.nominalToldMs(),
        window: (l) => wakeWindow(l, this.jitter),
        refreshMs: expectedRefreshMs,
      });
      this.waiting = { at: now, dirty, ...walk };
    }
    return this.waiting;
  }

  /** D91 The staging horizon of a reporting AP for transfers of `shape` (air-time.ts stagingHorizonMs, D123). */
  private horizonMs(apId: string, capacity: number, shape: TransferShape): number {
    return stagingHorizonMs(capacity, this.airOf(apId).meanTransferMs[shape], this.deps.config.wakeHorizonMs, this.stageLatencyMs);
  }

  /** D57 Why a label with a transfer on its AP slept without it (wake-reports.ts missCause). */
  private missCause(l: Readonly<LabelRecord>, e: { wokeAt: number; toldMs: number }): MissCause {
    const info = this.stagingOf.get(l.id);
    return missCause(e, this.jitter.nominalToldMs, info?.transferId === l.transferId ? info : undefined, l.transferAt ?? -Infinity);
  }

  /** §4.3 IMAGE_CANCEL of a transfer its label missed; once the AP dropped it the label is free again (no attempt counted). */
  private cancelMiss(apId: string, labelId: string, transferId: number): void {
    if (this.cancelling.has(transferId)) return;
    this.cancelling.add(transferId);
    this.deps.gateway
      .send(apId, { type: 'IMAGE_CANCEL', transferId })
      .then((status) => {
        if (status === StatusCode.OK) this.releaseMissed(labelId, transferId);
      })
      .catch(() => undefined)
      // The AP's TRANSFER_RESULT CANCELLED follows its ACK (§4.3); keep the id a little for it.
      .finally(() => this.deps.clock.setTimeout(() => this.cancelling.delete(transferId), 60_000));
  }

  private releaseMissed(labelId: string, transferId: number): void {
    const l = this.deps.labels.get(labelId);
    if (!l || l.transferId !== transferId || l.transferState !== 'staged') return;
    this.stats.missCancels++;
    this.deps.labels.released(labelId, transferId);
    this.kick();
  }

  // ---- periodic sweep -------------------------------------------------------------------------------

  private scheduleSweep(): void {
    if (this.stopped) return;
    const every = Math.max(1_000, Math.min(30_000, Math.floor(this.deps.config.transferTimeoutMs / 4)));
    this.sweepTimer = this.deps.clock.setTimeout(() => {
      try {
        this.sweep();
      } catch (err) {
        this.deps.log.error({ evt: 'dispatch.sweep_failed', err: errorMessage(err) }, 'sweep failed');
      }
      this.scheduleSweep();
    }, every);
  }

  /** Transfers staged or delivered too long ago without the label confirming: cancel and retry. */
  sweep(): void {
    const now = this.deps.clock.now();
    for (const t of this.deps.labels.withTransfers()) {
      if ((t.transferState !== 'staged' && t.transferState !== 'delivered') || t.transferAt === null || t.transferAt >= now - this.deps.config.transferTimeoutMs) continue;
      if (t.transferState === 'staged') this.deps.gateway.send(t.transferAp!, { type: 'IMAGE_CANCEL', transferId: t.transferId! }).catch(() => undefined);
      this.retryLater(t.id, t.transferId!, `transfer ${t.transferState} but not confirmed within ${this.deps.config.transferTimeoutMs} ms`);
    }
    this.kick();
  }
}
