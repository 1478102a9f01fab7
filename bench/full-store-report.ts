/**
 * What the full-store benchmark reports per update (one JSON line each) and the readable table printed after them.
 */

export interface UpdateReport {
  update: 'fill' | 'full-repricing' | 'promotion-start' | 'small-change';
  /** All reachable labels consistent (edge-confirmed and, in the ground truth, on the panel) before the time-out. */
  complete: boolean;
  /** The edge also had every label's acknowledgement within --confirm-wait-s after the ground truth was complete. */
  confirmed_all: boolean;
  /** Labels the update changes, and how many of them did not show their new picture when the update ended. */
  labels_expected: number;
  labels_missing: number;
  /** Labels whose desired picture the edge changed in the update's window. */
  labels_changed: number;
  /** Simulated seconds from the update (event, or the promotion's start instant) until the last panel shows its new picture. */
  consistent_s: number;
  /** … until the edge has the last label's acknowledgement (its next check-in after the refresh). */
  confirmed_s: number;
  /** Reference-store lower bound (full-store-probe.ts) and the ratio measured / bound (panel time). */
  bound_s: number;
  ratio: number;
  /** Per label, from its own event (small change) or from the update's instant: panel shows / edge confirmed. */
  panel_p50_s: number;
  panel_p99_s: number;
  /**
   * Over the update's own labels only: when each showed its new picture, from its event (small change) or the
   * update's instant (the promotion's start minute: "shows the promotion within X s of the start").
   */
  expected_shown_p50_s: number;
  expected_shown_p99_s: number;
  confirmed_p50_s: number;
  confirmed_p99_s: number;
  /** Simulated seconds until the edge had planned (rendered) the last changed label. */
  planned_s: number;
  /**
   * The till's price feed (price-feed.ts): simulated seconds from the update until the feed's last row of it was
   * written, read once the rule engine has no product left to announce (null: still some after --till-wait-s), and
   * the rows written. A promotion announced ahead has its rows before its start (negative). Measured after the
   * edge's CPU and memory figures above, so waiting for it changes none of them.
   */
  till_feed_s: number | null;
  till_feed_rows: number;
  bytes_on_air: number;
  bytes_per_label: number;
  frames_on_air: number;
  /** All radio bytes of the store in the window, check-ins and sleeps of idle labels included. */
  radio_bytes_all: number;
  full_images: number;
  delta_images: number;
  transfers_failed: number;
  /** Labels whose panel (ground truth) differs from what the edge wants at the end. */
  ground_truth_mismatches: number;
  edge_cpu_s: number;
  edge_cpu_per_wall_s: number;
  /** Edge CPU averaged over the update, in cores (CPU s / wall s; at 1× wall = simulated). */
  edge_cpu_cores: number;
  edge_rss_peak_mb: number;
  sim_cpu_s: number;
  wall_s: number;
  simulated_s: number;
  /** The edge's event-loop delay, p99, in simulated ms (wall ms × speed). */
  edge_lag_p99_sim_ms: number;
  /** Fraction of the time the edge's event loop was busy. */
  edge_event_loop_busy: number;
  /** Wait in the edge's database queue (a trivial read every second wall, 250 ms before D137), p99, simulated ms (wall ms × speed). */
  edge_db_wait_p99_sim_ms: number;
  /** D137 Share of wall time the edge's database queue was held by a job (1 = never free). */
  edge_db_busy: number;
  /** D137 p99 of every database job's wait for the queue, simulated ms (bucket bound × speed). */
  edge_db_job_wait_p99_sim_ms: number;
  /** How late the simulator's clock ran its events, p99, simulated ms. */
  sim_lateness_p99_ms: number;
  /** Mean fill of the APs' staging queues over the first 80 % of the update (1 = every queue full). */
  ap_queue_fill: number;
  /**
   * Fraction of the samples (one per simulated second, first 80 % of the update) in which an AP was starved: a label
   * of the update waited (> 2 s after its change, time to plan it) neither shown nor staged while its AP had a free
   * slot and no transfer on air — the edge, not the radio, held the update back (full-store-probe.ts).
   */
  ap_starved: number;
  /**
   * D156 Wake-ups, in the same window, of the update's labels that had waited > 2 s and were not shown; and those of
   * them that found their AP's channel free, a slot free and nothing staged for them (the edge missed a wake-up the
   * radio offered); ap_starved_wakes is their share. Reported beside ap_starved with `--starved-wakes on`, not part
   * of edge_keeps_up.
   */
  ap_wakes_waiting?: number;
  ap_wakes_starved?: number;
  ap_starved_wakes?: number;
  /**
   * The edge is not the bottleneck (D37): its event loop answered within 1 simulated s (p99), a read waited less
   * than 2 simulated s in its database queue (p99), it planned the update within the radio's bound (or 5 s), and
   * whenever work waited the APs were busy or every waiting label was staged (ap_starved ≤ 5 %). When false, the
   * times above measure the edge's throughput at speed × its real speed: run slower.
   */
  edge_keeps_up: boolean;
}

/** Bounds of edge_keeps_up (D37). */
export const KEEPS_UP = { lagP99SimMs: 1_000, dbWaitP99SimMs: 2_000, plannedMinS: 5, starvedMax: 0.05 } as const;

export function edgeKeepsUp(r: Omit<UpdateReport, 'edge_keeps_up'>): boolean {
  return (
    r.edge_lag_p99_sim_ms <= KEEPS_UP.lagP99SimMs &&
    r.edge_db_wait_p99_sim_ms < KEEPS_UP.dbWaitP99SimMs &&
    r.planned_s <= Math.max(KEEPS_UP.plannedMinS, r.bound_s) &&
    r.ap_starved <= KEEPS_UP.starvedMax
  );
}

const COLUMNS: [string, (r: UpdateReport) => string][] = [
  ['update', (r) => r.update + (r.complete ? '' : ` (INCOMPLETE: ${r.labels_missing} missing)`)],
  ['labels', (r) => String(r.labels_changed)],
  ['consistent s', (r) => r.consistent_s.toFixed(1)],
  ['confirmed s', (r) => r.confirmed_s.toFixed(1)],
  ['bound s', (r) => r.bound_s.toFixed(1)],
  ['ratio', (r) => r.ratio.toFixed(2)],
  ['p50/p99 panel s', (r) => `${r.panel_p50_s.toFixed(1)}/${r.panel_p99_s.toFixed(1)}`],
  ['p50/p99 own labels s', (r) => `${r.expected_shown_p50_s.toFixed(1)}/${r.expected_shown_p99_s.toFixed(1)}`],
  ['p50/p99 confirmed s', (r) => `${r.confirmed_p50_s.toFixed(1)}/${r.confirmed_p99_s.toFixed(1)}`],
  ['bytes on air', (r) => r.bytes_on_air.toLocaleString('en')],
  ['B/label', (r) => String(Math.round(r.bytes_per_label))],
  ['edge CPU s', (r) => r.edge_cpu_s.toFixed(1)],
  ['edge cores', (r) => r.edge_cpu_cores.toFixed(2)],
  ['edge RSS MB', (r) => String(r.edge_rss_peak_mb)],
  ['sim CPU s', (r) => r.sim_cpu_s.toFixed(1)],
  ['wall s', (r) => r.wall_s.toFixed(1)],
  ['edge keeps up', (r) => (r.edge_keeps_up ? 'yes' : 'NO')],
];

export function table(reports: readonly UpdateReport[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...reports.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
