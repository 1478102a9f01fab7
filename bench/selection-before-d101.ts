/**
 * The dispatch pass's selection by cost as it was before D101: every candidate keyed, sorted, filtered. Kept as the
 * reference that bench/dispatch-selection.ts measures the top-k selection against, and that
 * test/dispatch/top-k.test.ts checks it picks exactly the same labels as.
 *
 * D35 More work than free slots on an AP with wake reports: the slots go to the labels with the smallest expected
 * slot time (wake-reports.ts stagingCost), and only to those within the horizon (the AP's drain time, D91).
 */
import type { PassPick, TransferMode } from '../src/domain/dispatch/dispatcher.js';
import type { LabelRecord } from '../src/domain/labels/label-store.js';

export function selectByCostBeforeD101(
  candidates: readonly { l: Readonly<LabelRecord>; mode: TransferMode }[],
  free: number,
  now: number,
  cost: { of: (l: Readonly<LabelRecord>, mode: TransferMode, now: number) => number; horizonMs: number; busy?: number },
): { picks: PassPick[]; nextAt: number; held: number } {
  const keyed = candidates.map((c) => ({ ...c, key: cost.of(c.l, c.mode, now) }));
  keyed.sort((a, b) => a.key - b.key || a.l.priority - b.l.priority || (a.l.desiredSince ?? 0) - (b.l.desiredSince ?? 0));
  let eligible = keyed.filter((c) => c.key <= cost.horizonMs);
  // An AP with nothing staged never idles while work waits: the cheapest go now, whatever the horizon.
  if (eligible.length === 0 && (cost.busy ?? 0) === 0) eligible = keyed.filter((c) => c.key !== Infinity);
  const picks: PassPick[] = eligible.slice(0, Math.max(0, free)).map((c) => ({ label: c.l, mode: c.mode }));
  let nextAt = Infinity;
  for (const c of keyed) if (c.key > cost.horizonMs && Number.isFinite(c.key)) nextAt = Math.min(nextAt, now + Math.max(100, c.key - cost.horizonMs));
  // A label that most likely woke unseen (Infinity) is reported within a report interval: look again soon.
  if (keyed.some((c) => c.key === Infinity)) nextAt = Math.min(nextAt, now + 500);
  return { picks, nextAt, held: keyed.length - picks.length };
}
