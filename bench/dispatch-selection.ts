/**
 * One AP's share of a dispatch pass during a repricing, before and after D101, in the same run: 2,000 labels with
 * work on the AP (the reference store's density, 50,000 on 25 APs), each with a wake window learnt from reports
 * (§5.6), selected with the real staging cost (wake-reports.ts) for `free` slots. "before" is the selection as it was
 * at a882a06 (every candidate keyed in an object, all sorted; copied below), "after" is `selectForAp` (a top-k heap,
 * no object per candidate). Both must pick the same labels; the figure is µs per pass and the ratio. Then (D149) the
 * staging cost as the dispatcher computed it until D149 (a window and a context object per candidate) against
 * `labelStagingCost` in one context per pass, both through `selectForAp` (lines with `"cost": "d149"`).
 *
 *   npm run bench -- dispatch-selection      [--labels N --passes P]
 */
import { LabelColumns, LabelRecord } from '../src/domain/labels/label-record.js';
import { BOUNDARY_REPLAN_GRACE_MS, selectForAp, type PassPick, type TransferMode } from '../src/domain/dispatch/dispatcher.js';
import { WakeJitter, labelStagingCost, stagingCost, wakeWindow, type CostContext } from '../src/domain/dispatch/wake-reports.js';
import { selectByCostBeforeD101 } from './selection-before-d101.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const LABELS = arg('labels', 2_000);
const PASSES = arg('passes', 2_000);
const T0 = Date.UTC(2026, 10, 30, 17, 0);

type Sel = typeof selectForAp;
function selectForApBefore(
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
    cost?: { of: (l: Readonly<LabelRecord>, mode: TransferMode, now: number) => number; horizonMs: number; busy: number };
  },
): { picks: PassPick[]; nextAt: number; held: number } {
  const now = o.now;
  const send: { l: Readonly<LabelRecord>; key: number }[] = [];
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
    if (sendable) send.push({ l, key: o.wakeKey(l, now) });
    else if (droppable) drop.push(l);
    else timed.push(l);
  }
  const picks: PassPick[] = [];
  if (o.free <= 0) return { picks, nextAt, held };
  if (o.cost && send.length + drop.length + timed.length > o.free) {
    const r = selectByCostBeforeD101([...send.map((c) => ({ l: c.l, mode: 'now' as const })), ...drop.map((l) => ({ l, mode: 'drop' as const })), ...timed.map((l) => ({ l, mode: 'timed' as const }))], o.free, now, o.cost);
    return { picks: r.picks, nextAt: Math.min(nextAt, r.nextAt), held: held + r.held };
  }
  send.sort((a, b) => a.l.priority - b.l.priority || a.key - b.key || (a.l.desiredSince ?? 0) - (b.l.desiredSince ?? 0));
  for (const c of send) {
    if (picks.length >= o.free) return { picks, nextAt, held };
    picks.push({ label: c.l, mode: 'now' });
  }
  for (const l of drop) {
    if (picks.length >= o.free) return { picks, nextAt, held };
    picks.push({ label: l, mode: 'drop' });
  }
  timed.sort((a, b) => a.nextAt! - b.nextAt!);
  for (const l of timed) {
    if (picks.length >= o.free) break;
    picks.push({ label: l, mode: 'timed' });
  }
  return { picks, nextAt, held };
}

const cols = new LabelColumns();
const jitter = new WakeJitter();
for (let i = 0; i < 200; i++) jitter.add(((i % 21) - 10) / 140);
const labels: LabelRecord[] = [];
for (let i = 0; i < LABELS; i++) {
  const l = new LabelRecord(`0000D15B${i.toString(16).padStart(8, '0')}`, cols);
  l.labelType = 3;
  l.apId = 'AP-1';
  l.desiredHash = 'bbbbbbbbbbbbbbbb';
  l.confirmedHash = 'aaaaaaaaaaaaaaaa';
  l.desiredSince = T0 - 60_000 + i;
  l.priority = 2;
  // Slept some time in the last 30 s, told a 30-s sleep (one in ten a short deferral).
  l.wakeToldMs = i % 10 === 0 ? 1_000 : 30_000;
  l.wakeAt = T0 - ((i * 7919) % 30_000);
  labels.push(l);
}
/** The staging cost's context at `now` (what the dispatcher's costContext gives for one AP). */
const context = (now: number): CostContext => ({ now, knownUntil: now - 500, stageLatencyMs: 300, missCostMs: 1_300, unknownMs: 15_000, staleAfterMs: 5_000 });
/** The cost as the dispatcher computed it until D149: a window and a context object per candidate. */
const cost = {
  of: (l: Readonly<LabelRecord>, _m: TransferMode, now: number) => stagingCost(wakeWindow(l, jitter), context(now)),
  horizonMs: 9_000,
  busy: 60,
};
/** D149 One context per pass (the dispatcher's selectionCost), the cost without a window object. */
const costPerPass = (now: number): typeof cost => {
  const c = context(now);
  return {
    ...cost,
    of: (l, _m, t) => {
      c.now = t;
      return labelStagingCost(l, jitter, c);
    },
  };
};

function time(sel: Sel, free: number, costAt: (now: number) => typeof cost = () => cost): { usPerPass: number; picks: PassPick[] } {
  let picks: PassPick[] = [];
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < PASSES; p++) {
    // The pass moves through time as a repricing does (200 ms between passes).
    const now = T0 + (p % 150) * 200;
    picks = sel(labels, { now, free, timedDisplay: true, stageAt: (_l, t) => t, wakeKey: (_l, t) => t, cost: costAt(now) }).picks;
  }
  return { usPerPass: Number(process.hrtime.bigint() - t0) / 1e3 / PASSES, picks };
}

/** A selection and the cost it prices candidates with. */
interface Side {
  sel: Sel;
  cost?: (now: number) => typeof cost;
}

/**
 * `before` against `after` for 4 and 64 free slots: both warmed up (JIT), then alternated five times so that the
 * machine's load falls on both alike; one line of medians per slot count, and a failed exit when their picks differ.
 */
function compare(tag: Record<string, string>, before: Side, after: Side): void {
  for (const free of [4, 64]) {
    time(before.sel, free, before.cost);
    time(after.sel, free, after.cost);
    const tb: number[] = [];
    const ta: number[] = [];
    let same = true;
    for (let round = 0; round < 5; round++) {
      const b = time(before.sel, free, before.cost);
      const a = time(after.sel, free, after.cost);
      tb.push(b.usPerPass);
      ta.push(a.usPerPass);
      same &&= JSON.stringify(b.picks.map((p) => p.label.id)) === JSON.stringify(a.picks.map((p) => p.label.id));
    }
    const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
    process.stdout.write(
      `${JSON.stringify({ bench: 'dispatch-selection', ...tag, labels: LABELS, free, passes: PASSES, before_us_per_pass: +med(tb).toFixed(1), after_us_per_pass: +med(ta).toFixed(1), ratio: +(med(tb) / med(ta)).toFixed(2), same_picks: same })}\n`,
    );
    if (!same) process.exitCode = 1;
  }
}

compare({}, { sel: selectForApBefore }, { sel: selectForAp });
compare({ cost: 'd149' }, { sel: selectForAp }, { sel: selectForAp, cost: costPerPass });
