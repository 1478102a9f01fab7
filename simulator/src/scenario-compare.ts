/**
 * The truth test of a scenario: what every simulated panel physically shows (its ground truth, decoded from the
 * planes it received) against what the edge's price audit believes. Pure functions over one snapshot of both.
 *
 * - A label has converged when the edge calls it consistent, its panel shows the edge's desired picture, and that
 *   picture carries the last price this run sent for its product (so a price event the edge has not planned yet
 *   cannot pass for convergence).
 * - The comparison holds when, for every label, "the audit says consistent" ⇔ "the panel shows the desired hash":
 *   an audit that calls a wrong panel consistent would hide a wrong price from the store; one that calls a right
 *   panel inconsistent would send pictures for nothing.
 */
import type { ContentHash } from '#protocol';
import { AuditStatusSchema } from '#contracts';
import type { AuditEntry, AuditSnapshot, AuditStatus } from './scenario-edge.js';

/** One scenario label: the simulator's side and the edge's side, read at the same moment. */
export interface LabelObservation {
  labelId: string;
  gtin: string;
  /** Some AP that hears it is powered and connected to the edge. */
  reachable: boolean;
  /** Hash of what the panel shows (ground truth). */
  displayedHash: ContentHash;
  /** The price this run last sent for the label's product, if it sent one. */
  expectedPriceCents: number | undefined;
  audit: AuditEntry | undefined;
}

export type WaitReason = 'unknown-to-edge' | 'not-consistent' | 'panel-differs' | 'price-not-planned';

export interface Assessment {
  converged: boolean;
  labels: number;
  reachable: number;
  /** Reachable labels that converged. */
  convergedLabels: number;
  /** Audit status counts over the scenario's labels. */
  auditCounts: Record<AuditStatus, number>;
  /** Reachable labels not converged yet, with why (the first few). */
  waiting: { labelId: string; reason: WaitReason }[];
  waitingTotal: number;
}

export function waitReason(o: LabelObservation): WaitReason | undefined {
  if (o.audit === undefined) return 'unknown-to-edge';
  if (o.expectedPriceCents !== undefined && o.audit.tillPriceCents !== o.expectedPriceCents) return 'price-not-planned';
  if (o.audit.status !== 'consistent') return 'not-consistent';
  if (o.displayedHash !== o.audit.desiredHash) return 'panel-differs';
  return undefined;
}

function emptyCounts(): Record<AuditStatus, number> {
  return Object.fromEntries(AuditStatusSchema.options.map((s) => [s, 0])) as Record<AuditStatus, number>;
}

export function assess(observations: readonly LabelObservation[], keepWaiting = 10): Assessment {
  const auditCounts = emptyCounts();
  const waiting: Assessment['waiting'] = [];
  let reachable = 0;
  let convergedLabels = 0;
  let waitingTotal = 0;
  for (const o of observations) {
    if (o.audit !== undefined) auditCounts[o.audit.status]++;
    if (!o.reachable) continue;
    reachable++;
    const reason = waitReason(o);
    if (reason === undefined) convergedLabels++;
    else {
      waitingTotal++;
      if (waiting.length < keepWaiting) waiting.push({ labelId: o.labelId, reason });
    }
  }
  return { converged: waitingTotal === 0, labels: observations.length, reachable, convergedLabels, auditCounts, waiting, waitingTotal };
}

export type MismatchKind =
  /** The audit says consistent, but the panel shows something else: the audit would hide a wrong label. */
  | 'audit-consistent-panel-differs'
  /** The panel shows the desired picture, but the audit does not say consistent. */
  | 'panel-desired-audit-not-consistent'
  /** The edge has no audit entry for a label of the store. */
  | 'unknown-to-edge';

export interface Mismatch {
  labelId: string;
  kind: MismatchKind;
  auditStatus: AuditStatus | null;
  desiredHash: string | null;
  confirmedHash: string | null;
  displayedHash: string;
}

/** A label whose desired picture does not carry the price this run sent for its product. */
export interface PriceMismatch {
  labelId: string;
  gtin: string;
  sentPriceCents: number;
  edgePriceCents: number | null;
}

export interface Comparison {
  /** No mismatch of either kind. */
  ok: boolean;
  labels: number;
  /** Labels the audit calls consistent. */
  auditConsistent: number;
  /** Labels whose panel shows the edge's desired hash (ground truth). */
  panelsShowDesired: number;
  auditCounts: Record<AuditStatus, number>;
  mismatches: Mismatch[];
  priceMismatches: PriceMismatch[];
}

export function compare(observations: readonly LabelObservation[]): Comparison {
  const auditCounts = emptyCounts();
  const mismatches: Mismatch[] = [];
  const priceMismatches: PriceMismatch[] = [];
  let auditConsistent = 0;
  let panelsShowDesired = 0;
  for (const o of observations) {
    const a = o.audit;
    if (a === undefined) {
      mismatches.push({ labelId: o.labelId, kind: 'unknown-to-edge', auditStatus: null, desiredHash: null, confirmedHash: null, displayedHash: o.displayedHash });
      continue;
    }
    auditCounts[a.status]++;
    const consistent = a.status === 'consistent';
    const shows = a.desiredHash !== null && o.displayedHash === a.desiredHash;
    if (consistent) auditConsistent++;
    if (shows) panelsShowDesired++;
    if (consistent !== shows) {
      mismatches.push({
        labelId: o.labelId,
        kind: consistent ? 'audit-consistent-panel-differs' : 'panel-desired-audit-not-consistent',
        auditStatus: a.status,
        desiredHash: a.desiredHash,
        confirmedHash: a.confirmedHash,
        displayedHash: o.displayedHash,
      });
    }
    if (o.expectedPriceCents !== undefined && a.tillPriceCents !== o.expectedPriceCents) {
      priceMismatches.push({ labelId: o.labelId, gtin: o.gtin, sentPriceCents: o.expectedPriceCents, edgePriceCents: a.tillPriceCents });
    }
  }
  return {
    ok: mismatches.length === 0 && priceMismatches.length === 0,
    labels: observations.length,
    auditConsistent,
    panelsShowDesired,
    auditCounts,
    mismatches,
    priceMismatches,
  };
}

/** Audit entries by label id. */
export function auditByLabel(snapshot: AuditSnapshot): Map<string, AuditEntry> {
  return new Map(snapshot.labels.map((e) => [e.labelId, e]));
}
