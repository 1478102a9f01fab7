/**
 * §4.9 Appointments for the labels an AP's channel will pass over at their wake-up (WORK_AHEAD, D146).
 *
 * A label takes data only at its wake-up (§9.1), and an AP's channel carries one transfer at a time. When a label
 * wakes while the channel is planned busy with others and nothing is staged for it, it sleeps a whole interval
 * (30 s in the reference store). At the end of a store-wide update each AP then has a few hundred labels left whose
 * wakes are spread over a whole interval while their transfers take a fraction of it: the channel idles while they
 * sleep (D145: the repricing's last ~5 % took 25–30 s). The edge knows each AP's remaining work and each label's
 * next wake (§5.6.2), so it plans the channel in the order the labels wake — a label is served at its wake when the
 * channel is free by then, else it gets an appointment at the end of the planned work — and tells the AP those
 * appointments. The AP gives a listed label that checks in with nothing waiting a RADIO_SLEEP up to its appointment
 * instead of the full sleep; the edge then learns that wake from the wake report like any other and stages the
 * transfer just before it. A wrong appointment costs one early wake-up of a label, a lost WORK_AHEAD only the gain.
 */
import { ApCapability, StatusCode, WORK_AHEAD_MAX_ENTRIES, type WorkAheadEntry } from '#protocol';
import { errorMessage } from '#contracts';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ApGateway } from '../ports.js';
import type { ApRegistry } from '../aps/ap-registry.js';

/** A label with work on the AP, as the plan sees it. */
export interface AheadCandidate {
  labelId: string;
  /** Expected next wake (edge epoch ms). */
  wakeAt: number;
  /** The latest that wake is expected (the end of its window, §5.6.2), at or after wakeAt. */
  latestAt: number;
  /** Expected air time of its transfer on this AP's channel (ms). */
  airMs: number;
  /** How long its panel takes to show the picture after the transfer (ms; D107). */
  refreshMs: number;
  /** false: its transfer is on the AP already (the AP holds or defers it when the channel is busy; §9.1.1). */
  appointable: boolean;
}

export interface AheadPlanOptions {
  now: number;
  /** When the channel can take a transfer staged now (now + the staging latency). */
  startAt: number;
  /** The labels' normal sleep (ms): a label passed over comes back this much later without an appointment. */
  sleepMs: number;
  /** A label passed over by less than this is served right after by the AP's hold or deferral (§9.1.1). */
  minAheadMs: number;
  /**
   * No appointment sooner than this after the latest the label's wake is expected: the whole seconds the AP tells
   * (§4.9.1) must stay ≥ 1 however late in its window the label wakes, and the edge must hear of the short sleep
   * (§5.6, one report interval) and stage the transfer (its latency) before the label is back.
   */
  leadMs: number;
  /** The plan looks this far ahead (an appointment is at most 65,535 ms after the WORK_AHEAD, §4.9). */
  horizonMs: number;
}

/**
 * The channel of one AP planned in the order its labels wake (list scheduling). A label waking when the channel is
 * free by then is served at its wake. One waking while the channel is planned busy (by ≥ minAheadMs; less, and the
 * AP's hold or deferral serves it right after) waits for a slot: whenever the planned channel frees before the next
 * wake, the slot goes to the waiting label with the longest panel refresh, then the earliest wake (D107, Jackson's
 * rule: an update ends when its last panel has refreshed, so the 25–30 s panels must not take the last slots). A slot
 * less than 0.9 sleep after the label's wake becomes its appointment; a later one is not worth it — the label comes
 * back after its sleep and is planned again then. A label whose transfer the AP holds takes its turn right after its
 * wake (the AP holds or defers it). An appointment is never sooner than leadMs after the latest the label's wake is
 * expected. Every label served at or near its wake also gets a fallback appointment leadMs after that latest wake:
 * should that wake pass without its transfer (staged too late, a wrong prediction), it comes back then instead of
 * after a whole sleep; served, it never uses it (§4.9.1: dropped when a transfer starts). Returns the appointments
 * (edge epoch ms) by label id.
 */
export function planAppointments(candidates: readonly AheadCandidate[], o: AheadPlanOptions): Map<string, number> {
  const out = new Map<string, number>();
  const wakes = new Heap<Planned>((a, b) => a.at - b.at);
  const waiting = new Heap<Planned>((a, b) => b.c.refreshMs - a.c.refreshMs || a.at - b.at);
  for (const c of candidates) if (Number.isFinite(c.wakeAt) && c.airMs > 0) wakes.push({ at: c.wakeAt, c });
  const end = o.now + o.horizonMs;
  let t = o.startAt;
  /** The latest `p`'s wake is expected (its window moves with it when it is planned a sleep later). */
  const latest = (p: Planned): number => p.c.latestAt + (p.at - p.c.wakeAt);
  /** Slots for the waiting labels while the planned channel is free before the next wake (a label sent back to
   * its next wake may come before `until`). */
  const fill = (until: number): void => {
    while (t < Math.min(until, wakes.peek()?.at ?? Infinity) && t <= end) {
      const w = waiting.pop();
      if (w === undefined) return;
      const slot = Math.max(t, latest(w) + o.leadMs);
      if (slot - w.at < 0.9 * o.sleepMs) {
        out.set(w.c.labelId, slot);
        t = slot + w.c.airMs;
      } else {
        wakes.push({ at: w.at + o.sleepMs, c: w.c });
      }
    }
  };
  for (;;) {
    fill(end);
    const next = wakes.pop();
    if (next === undefined || next.at > end || t > end) break;
    const { at, c } = next;
    const fallback = latest(next) + o.leadMs;
    if (at >= t) {
      t = at + c.airMs;
      out.set(c.labelId, fallback);
    } else if (!c.appointable || t - at < o.minAheadMs) {
      t += c.airMs;
      out.set(c.labelId, Math.max(fallback, t));
    } else {
      waiting.push(next);
    }
  }
  return out;
}

interface Planned {
  at: number;
  c: AheadCandidate;
}

/** D159 A label whose new picture is still being planned, as the appointments for it see it. */
export interface PendingLabel {
  labelId: string;
  /** Its expected next wake (edge epoch ms): the middle of its window, a sleep later for each window passed unseen. */
  wakeAt: number;
}

/** What pendingOf reads of a label (a LabelRecord is one). */
export interface PendingSource {
  readonly id: string;
  readonly apId: string | null;
  readonly labelType: number | null;
  readonly dirty: number;
  readonly needsSend: boolean;
  readonly transferState: string | null;
}

/** D159 The label waits for its new picture (a change known, not planned yet) with nothing in flight on an AP. */
export function waitsForPicture(l: PendingSource): boolean {
  return l.dirty > 0 && !l.needsSend && l.transferState === null && l.apId !== null && l.labelType !== null;
}

/**
 * D159 The labels still waiting for their new picture (dirty) whose panel takes longer than half a sleep to show it,
 * by AP, each with its expected next wake. A store-wide update is planned for a minute or more (D156) while every
 * label wakes every sleep: such a panel planned just after its wake waits a whole sleep for the next and then its
 * refresh, 25–30 s — it ends the update. The AP tells it an appointment a third of a sleep after each wake instead,
 * so it is back soon after its picture is ready. Other labels (a 1-s panel) keep their sleep: their next wake still
 * comes before the update's end, and their wake-ups are not worth the reports. Returns those by AP (`pending`) and,
 * from the same walk, how many labels of each AP wait for their picture at all (`waiting`, D161).
 */
export function pendingOf<L extends PendingSource>(
  labels: Iterable<L>,
  o: { now: number; sleepMs: number; window: (l: L) => { a: number; b: number } | null; refreshMs: (l: L) => number },
): { pending: Map<string, PendingLabel[]>; waiting: Map<string, number> } {
  const pending = new Map<string, PendingLabel[]>();
  // D161 Every label waiting for its picture, counted by AP in the same walk: the AP's work still to come.
  const waiting = new Map<string, number>();
  for (const l of labels) {
    const ap = l.apId;
    if (ap === null || !waitsForPicture(l)) continue;
    waiting.set(ap, (waiting.get(ap) ?? 0) + 1);
    if (o.refreshMs(l) <= o.sleepMs / 2) continue;
    const w = o.window(l);
    if (w === null) continue;
    let list = pending.get(ap);
    if (!list) pending.set(ap, (list = []));
    list.push({ labelId: l.id, wakeAt: nextWake(w, o.now, o.sleepMs).wakeAt });
  }
  return { pending, waiting };
}

/**
 * The label's expected next wake from its window [a, b] (§5.6.2): its middle, not before now, and the latest it is
 * expected. A window already closed without a report of the wake means the label woke unseen and sleeps again: the
 * window moves a sleep on for each.
 */
export function nextWake(w: { a: number; b: number }, now: number, sleepMs: number): { wakeAt: number; latestAt: number } {
  let wakeAt = (w.a + w.b) / 2;
  let latestAt = w.b;
  while (latestAt < now) {
    wakeAt += sleepMs;
    latestAt += sleepMs;
  }
  return { wakeAt: Math.max(wakeAt, now), latestAt };
}

/** D146 Counters: plans made, appointments sent, WORK_AHEAD frames, and frames not acknowledged OK. */
export interface WorkAheadStats {
  aheadPlans: number;
  appointmentsSent: number;
  aheadMessages: number;
  aheadFailures: number;
}

/** What the dispatcher knows of one AP for a plan, or null when it cannot plan it (no wake reports, no air rate yet). */
export type AheadView = (
  apId: string,
  now: number,
) => { candidates: AheadCandidate[]; startAt: number; sleepMs: number; pending?: readonly PendingLabel[] } | null;

/** An appointment sent again only when the new plan moves it by more than this. */
const RESEND_SHIFT_MS = 1_000;
const MIN_AHEAD_MS = 2_000;
const LEAD_MS = 3_000;
/** §4.9 inMs is a u16. */
const HORIZON_MS = 60_000;
/** D159 A label waiting for its picture is told to come back after this fraction of a sleep (10 s of 30). */
const PENDING_CYCLE_PARTS = 3;
/** The planning timer turns at most this often, however many APs share the interval. */
const MIN_TURN_MS = 20;

/**
 * Plans every AP with capability WORK_AHEAD about each `intervalMs` — one AP per turn of its timer, so a store of
 * many APs is planned in short stretches of the event loop — and sends it the appointments that are new or moved
 * (start/stop like the dispatcher's other parts). What an AP was sent is forgotten at its hello (its appointments
 * are gone with its RAM, §4.9.1) and for the entries of a WORK_AHEAD that was not acknowledged.
 */
export class WorkAhead {
  private readonly sent = new Map<string, Map<string, number>>();
  private readonly refused = new Set<string>();
  private timer: TimerHandle | null = null;
  private stopped = false;
  private cursor = 0;

  constructor(
    private readonly deps: {
      gateway: ApGateway;
      aps: Pick<ApRegistry, 'online'>;
      clock: Clock;
      log: Logger;
      intervalMs: number;
      view: AheadView;
      stats: WorkAheadStats;
    },
  ) {}

  start(): void {
    if (this.deps.intervalMs > 0) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** The AP said hello: its appointments are gone, and it may announce the capability now. */
  apHello(apId: string): void {
    this.sent.delete(apId);
    this.refused.delete(apId);
  }

  private schedule(): void {
    if (this.stopped) return;
    const turnMs = Math.max(MIN_TURN_MS, Math.floor(this.deps.intervalMs / Math.max(1, this.planned().length)));
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      const aps = this.planned();
      if (aps.length > 0) this.planOne(aps[this.cursor++ % aps.length]!);
      this.schedule();
    }, turnMs);
  }

  /** The online APs with the capability that have not refused it. */
  private planned(): string[] {
    return this.deps.aps
      .online()
      .filter((ap) => (ap.capabilities & ApCapability.WORK_AHEAD) !== 0 && !this.refused.has(ap.apId))
      .map((ap) => ap.apId);
  }

  /** One round over every AP at once (tests, and a caller that wants the plans now). */
  planAll(): void {
    for (const apId of this.planned()) this.planOne(apId);
  }

  private planOne(apId: string): void {
    const now = this.deps.clock.now();
    const v = this.deps.view(apId, now);
    if (v === null) return;
    this.deps.stats.aheadPlans++;
    const plan = planAppointments(v.candidates, { now, startAt: v.startAt, sleepMs: v.sleepMs, minAheadMs: MIN_AHEAD_MS, leadMs: LEAD_MS, horizonMs: HORIZON_MS });
    // D159 A label still waiting for its picture comes back a third of a sleep after its wake (§4.9.1: told only when
    // nothing is staged for it, so a label planned and staged in time is served at that wake as any other).
    for (const p of v.pending ?? []) if (!plan.has(p.labelId)) plan.set(p.labelId, p.wakeAt + v.sleepMs / PENDING_CYCLE_PARTS);
    this.send(apId, plan, now);
  }

  private send(apId: string, plan: Map<string, number>, now: number): void {
    let sent = this.sent.get(apId);
    if (!sent) {
      sent = new Map();
      this.sent.set(apId, sent);
    }
    // What was sent and is no longer planned (served, or its appointment passed) is forgotten: the AP drops it at use.
    for (const [id, at] of sent) if (!plan.has(id) || at < now) sent.delete(id);
    const entries: WorkAheadEntry[] = [];
    for (const [labelId, at] of plan) {
      const before = sent.get(labelId);
      if (before !== undefined && Math.abs(before - at) <= RESEND_SHIFT_MS) continue;
      const inMs = Math.round(at - now);
      if (inMs < 0 || inMs > 0xffff) continue;
      entries.push({ labelId, inMs });
      sent.set(labelId, at);
    }
    for (let i = 0; i < entries.length; i += WORK_AHEAD_MAX_ENTRIES) this.sendChunk(apId, entries.slice(i, i + WORK_AHEAD_MAX_ENTRIES));
  }

  private sendChunk(apId: string, entries: WorkAheadEntry[]): void {
    this.deps.stats.aheadMessages++;
    this.deps.stats.appointmentsSent += entries.length;
    const forget = (): void => {
      const sent = this.sent.get(apId);
      if (sent) for (const e of entries) sent.delete(e.labelId);
    };
    this.deps.gateway.send(apId, { type: 'WORK_AHEAD', entries }).then(
      (status) => {
        if (status === StatusCode.OK) return;
        forget();
        this.deps.stats.aheadFailures++;
        if (status === StatusCode.UNSUPPORTED_FEATURE) {
          this.refused.add(apId);
          this.deps.log.warn({ evt: 'ap.work_ahead_refused', apId, status }, 'AP refused WORK_AHEAD; its labels sleep without appointments');
        }
      },
      (err: unknown) => {
        // A lost appointment costs the gain, never an update: the next plan sends it again.
        forget();
        this.deps.stats.aheadFailures++;
        this.deps.log.debug({ evt: 'ap.work_ahead_failed', apId, err: errorMessage(err) }, 'WORK_AHEAD not acknowledged');
      },
    );
  }
}

/** A binary heap: pop gives the item that comes first under `before` (negative: a before b). */
class Heap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => number) {}

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const h = this.items;
    let j = h.length;
    h.push(x);
    while (j > 0) {
      const p = (j - 1) >> 1;
      if (this.before(h[p]!, x) <= 0) break;
      h[j] = h[p]!;
      j = p;
    }
    h[j] = x;
  }

  pop(): T | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && this.before(h[r]!, h[l]!) < 0 ? r : l;
        if (this.before(h[m]!, last) >= 0) break;
        h[j] = h[m]!;
        j = m;
      }
      h[j] = last;
    }
    return top;
  }
}
