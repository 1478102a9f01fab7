/** What a scenario run reports (JSON, `--report`), and its one-line live progress display. */
import type { Assessment, Comparison } from './scenario-compare.js';
import type { Observation } from './scenario-observer.js';
import { msToClock } from './scenario-schema.js';
import type { StoreFile } from './store-file.js';
import type { RadioMediumStats } from './radio-medium.js';
import type { SimStats, StoreSimulator } from './store-simulator.js';

export interface ScenarioLabelReport {
  labelId: string;
  labelType: number;
  /** The AP whose area the label is in at the end (a move-label step changes it). */
  apId: string;
  gtin: string;
  reachable: boolean;
  /** Ground truth: hash of what the panel shows. */
  displayedHash: string;
  desiredHash: string | null;
  auditStatus: string | null;
  /** The price the edge wants the label to show / the label confirmed showing. */
  tillPriceCents: number | null;
  shownPriceCents: number | null;
  updates: number;
  bytesOnAir: number;
  batteryMv: number;
  refreshes: number;
  transferRetries: number;
}

export interface StepReport {
  index: number;
  at: string;
  type: string;
  /** Simulated seconds from the start of the timeline when the step ran (later than `at` if a step before it took long). */
  ranAtS: number;
  ok: boolean;
  summary: string;
  error?: string;
  targets?: string[];
}

export interface CheckpointReport {
  index: number;
  at: string;
  withinS: number;
  ok: boolean;
  /** Simulated seconds from the checkpoint to convergence; null when it did not converge in time. */
  convergedAfterS: number | null;
  /** What was still waiting at the deadline. */
  waiting?: Assessment['waiting'];
  waitingTotal?: number;
}

export interface ConvergenceReport {
  converged: boolean;
  afterS: number | null;
  waiting: Assessment['waiting'];
  waitingTotal: number;
}

export interface ApReport {
  apId: string;
  labels: number;
  powerOn: boolean;
  online: boolean;
  checkinsForwarded: number;
  transfersFinished: number;
  deferrals: number;
}

export interface ScenarioReport {
  scenario: string;
  description?: string;
  file?: string;
  edge: string;
  chain: string;
  store: string;
  speed: number;
  seed: number;
  startedAt: string;
  finishedAt: string;
  wallMs: number;
  /** Simulated seconds of each phase. */
  simulated: { warmupS: number; timelineS: number; settleS: number; totalS: number };
  warmup: ConvergenceReport;
  steps: StepReport[];
  checkpoints: CheckpointReport[];
  end: ConvergenceReport;
  events: { messages: number; events: number; bytes: number; priceChanges: number; seedApplied: number; seedDuplicate: number };
  radio: SimStats;
  /** The medium's counters from the end of the warm-up on: what the timeline's radio faults did (the warm-up's clean frames diluted the whole run's ratios). */
  radioTimeline: RadioMediumStats;
  totals: { labels: number; reachable: number; updates: number; bytesOnAir: number; bytesOnAirPerLabel: number; refreshes: number; minBatteryMv: number };
  aps: ApReport[];
  comparison: Comparison;
  /** Warm-up and end converged, every checkpoint and step passed, and ground truth agrees with the audit. */
  ok: boolean;
  /** Why ok is false, one line each. */
  problems: string[];
  labels: ScenarioLabelReport[];
}

export type ScenarioPhase = 'seeding' | 'warm-up' | 'timeline' | 'settling' | 'comparing' | 'done';

export interface ScenarioProgress {
  scenario: string;
  phase: ScenarioPhase;
  /** Simulated ms since the simulator started. */
  simulatedMs: number;
  /** Steps run so far / in the timeline. */
  stepsRun: number;
  steps: number;
  assessment: Assessment | undefined;
  stats: SimStats;
}

export function scenarioProgressLine(p: ScenarioProgress): string {
  const a = p.assessment;
  return (
    `${p.scenario} ${p.phase} | sim ${msToClock(p.simulatedMs)} | steps ${p.stepsRun}/${p.steps}` +
    (a === undefined ? '' : ` | converged ${a.convergedLabels}/${a.reachable} reachable of ${a.labels} | consistent ${a.auditCounts.consistent}`) +
    ` | on air ${(p.stats.bytesOnAir / 1024).toFixed(1)} kB | frames lost ${p.stats.framesLost}, corrupted ${p.stats.framesCorrupted}`
  );
}

/** The problems a report's parts add up to (empty = ok). */
export function reportProblems(r: Pick<ScenarioReport, 'warmup' | 'steps' | 'checkpoints' | 'end' | 'comparison'>, background: string[]): string[] {
  const out: string[] = [];
  if (!r.warmup.converged) out.push(`warm-up: ${r.warmup.waitingTotal} reachable labels did not converge`);
  for (const s of r.steps) if (!s.ok) out.push(`step ${s.index} (${s.type} at ${s.at}) failed: ${s.error ?? 'unknown error'}`);
  for (const c of r.checkpoints) if (!c.ok) out.push(`checkpoint ${c.index} at ${c.at}: ${c.waitingTotal ?? '?'} reachable labels not converged within ${c.withinS} s`);
  out.push(...background);
  if (!r.end.converged) out.push(`end: ${r.end.waitingTotal} reachable labels did not converge`);
  const cmp = r.comparison;
  if (cmp.mismatches.length > 0) out.push(`ground truth disagrees with the audit for ${cmp.mismatches.length} labels (${[...new Set(cmp.mismatches.map((m) => m.kind))].join(', ')})`);
  if (cmp.priceMismatches.length > 0) out.push(`${cmp.priceMismatches.length} labels: the edge's desired picture does not carry the price sent`);
  return out;
}

/** Per label: the ground truth and the edge's view of it, in store order. */
export function labelReports(sim: StoreSimulator, store: StoreFile, final: Observation): ScenarioLabelReport[] {
  return store.labels.map((l, i) => {
    const gt = sim.groundTruth(l.labelId)!;
    const o = final.observations[i]!;
    const a = o.audit;
    return {
      labelId: l.labelId,
      labelType: l.labelType,
      apId: sim.label(l.labelId).homeApId,
      gtin: l.gtin,
      reachable: o.reachable,
      displayedHash: gt.hash,
      desiredHash: a?.desiredHash ?? null,
      auditStatus: a?.status ?? null,
      tillPriceCents: a?.tillPriceCents ?? null,
      shownPriceCents: a?.shownPriceCents ?? null,
      updates: gt.updates,
      bytesOnAir: gt.bytesOnAir,
      batteryMv: gt.batteryMv,
      refreshes: gt.refreshes,
      transferRetries: gt.transferRetries,
    };
  });
}

export function apReports(sim: StoreSimulator, store: StoreFile, labels: readonly ScenarioLabelReport[]): ApReport[] {
  return store.aps.map((a) => {
    const st = sim.apStats(a.apId);
    return {
      apId: a.apId,
      labels: labels.filter((l) => l.apId === a.apId).length,
      powerOn: sim.ap(a.apId).powerOn,
      online: st.online,
      checkinsForwarded: st.radio.checkinsForwarded,
      transfersFinished: st.radio.transfersFinished,
      deferrals: st.radio.deferrals,
    };
  });
}

export function totalsOf(labels: readonly ScenarioLabelReport[], stats: SimStats, reachable: number): ScenarioReport['totals'] {
  return {
    labels: labels.length,
    reachable,
    updates: labels.reduce((n, l) => n + l.updates, 0),
    bytesOnAir: stats.bytesOnAir,
    bytesOnAirPerLabel: labels.length === 0 ? 0 : Math.round(stats.bytesOnAir / labels.length),
    refreshes: labels.reduce((n, l) => n + l.refreshes, 0),
    minBatteryMv: labels.length === 0 ? 0 : Math.min(...labels.map((l) => l.batteryMv)),
  };
}

/** Counter differences between two snapshots of the radio medium. */
export function radioSince(before: Readonly<RadioMediumStats>, now: Readonly<RadioMediumStats>): RadioMediumStats {
  return {
    framesSent: now.framesSent - before.framesSent,
    framesLost: now.framesLost - before.framesLost,
    framesCorrupted: now.framesCorrupted - before.framesCorrupted,
    framesDuplicated: now.framesDuplicated - before.framesDuplicated,
    bytesSent: now.bytesSent - before.bytesSent,
  };
}
