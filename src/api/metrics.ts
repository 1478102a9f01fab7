/**
 * Prometheus metrics (prom-client) on /metrics. One registry per daemon instance — no global default registry —
 * so several daemons in one test process do not collide.
 */
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../persistence/database.js';
import type { Dispatcher } from '../domain/dispatch/dispatcher.js';
import type { LabelStore } from '../domain/labels/label-store.js';
import type { ApHub } from '../transport/ap-hub.js';
import type { GroupCommitStats } from '../domain/events/group-commit.js';
import type { ApRegistry } from '../domain/aps/ap-registry.js';
import { STAGE_BUCKETS_MS, type StageLatency } from '../core/stage-latency.js';

export interface Metrics {
  /** For features that register their own metrics (HTTP auth failures, storage pruning). */
  registry: Registry;
  contentType: string;
  render(): Promise<string>;
  /** Rows the storage pruner deleted (esl_edge_storage_pruned_rows_total{table,reason}). */
  storagePruned(table: string, reason: string, rows: number): void;
}

export function createMetrics(deps: {
  db: Database;
  labels: LabelStore;
  dispatcher: Dispatcher;
  hub: ApHub;
  extra?: Registry[];
  intake?: { groupCommitStats: Readonly<GroupCommitStats> };
  aps?: Pick<ApRegistry, 'all'>;
  /** Stage latencies of event acknowledgements (D80), exported as one histogram labelled by stage. */
  ackTiming?: StageLatency<string>;
  /** D143 How long the edge's synchronous stretches held the event loop, by task. */
  loopTasks?: StageLatency<string>;
}): Metrics {
  const registry = new Registry();
  if (deps.ackTiming) registry.registerMetric(stageHistogramMetric('esl_edge_intake_ack_stage_ms', 'Time an MQTT event spends in each stage from the broker reading its PUBLISH to its PUBACK (ms; D80)', deps.ackTiming) as never);
  registry.registerMetric(
    stageHistogramMetric('esl_edge_db_queue_ms', "Database jobs: time waiting for the one connection (urgent_wait, normal_wait) and holding it (hold); hold's sum per second is the queue's busy share (ms; D137)", deps.db.queueTiming) as never,
  );
  if (deps.loopTasks)
    registry.registerMetric(stageHistogramMetric('esl_edge_loop_task_ms', 'How long one synchronous stretch of a task held the event loop: a slice of a dispatch pass, a delta-preparer turn, a slice of a planner chunk after rendering and after its commit, the handling of one AP frame (ms; D143, D147)', deps.loopTasks) as never);
  collectDefaultMetrics({ register: registry, prefix: 'esl_edge_' });
  new Gauge({
    name: 'esl_edge_labels',
    help: 'Labels by dispatch state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const c = deps.labels.counts();
      this.reset();
      const states: [string, number][] = [
        ['no_content', c.noContent],
        ['consistent', c.consistent],
        ['transferring', c.transferring],
        ['waiting', c.waiting],
      ];
      for (const [state, n] of states) if (n > 0) this.set({ state }, n);
    },
  });
  const stat = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  stat('esl_edge_transfers_started', 'Image transfers started since start-up', () => deps.dispatcher.stats.transfersStarted);
  stat('esl_edge_transfers_failed', 'Image transfers failed since start-up', () => deps.dispatcher.stats.transfersFailed);
  stat('esl_edge_image_bytes_sent', 'Image payload bytes sent to APs since start-up', () => deps.dispatcher.stats.bytesSent);
  stat('esl_edge_ap_frames_in', 'Frames received from APs', () => deps.hub.counters.framesIn);
  stat('esl_edge_ap_decode_errors', 'Undecodable frames received from APs', () => deps.hub.counters.decodeErrors);
  if (deps.aps) {
    const aps = deps.aps;
    // D89: an AP that announced wake reports (§4.8) but does not send them is staged by the D19 fallback only.
    new Gauge({
      name: 'esl_edge_ap_wake_reports_on',
      help: 'Per AP that announced capability WAKE_REPORT: 1 when its wake reports are on, 0 while they are not (pending, refused, offline)',
      labelNames: ['ap'],
      registers: [registry],
      collect() {
        this.reset();
        for (const a of aps.all()) if (a.wakeReports !== 'unsupported' && a.wakeReports !== 'disabled') this.set({ ap: a.apId }, a.wakeReports === 'on' ? 1 : 0);
      },
    });
  }
  if (deps.intake) {
    const gc = deps.intake.groupCommitStats;
    stat('esl_edge_intake_commits', 'Event intake transactions committed (group commit ticks) since start-up', () => gc.ticks);
    stat('esl_edge_intake_events_committed', 'Events and dead letters committed by the intake since start-up', () => gc.jobs);
    stat('esl_edge_intake_max_events_per_commit', 'Most events committed by one intake transaction since start-up', () => gc.maxTickJobs);
  }
  const dead = new Gauge({
    name: 'esl_edge_dead_letters',
    help: 'Dead-letter records',
    registers: [registry],
    async collect() {
      const r = await deps.db.get<{ n: number }>('SELECT count(*) AS n FROM dead_letters');
      this.set(r?.n ?? 0);
    },
  });
  void dead;
  // Storage bounds (D26): what the pruner deleted, and how large the file is against storage.maxDbBytes.
  const pruned = new Counter({ name: 'esl_edge_storage_pruned_rows_total', help: 'Rows deleted by the storage pruner, by table and reason (age, size, rows, delivered, superseded)', labelNames: ['table', 'reason'], registers: [registry] });
  new Gauge({
    name: 'esl_edge_db_bytes',
    help: 'Bytes in use in the store database (pages in use × page size), against storage.maxDbBytes',
    registers: [registry],
    async collect() {
      const r = await deps.db.get<{ n: number }>('SELECT (page_count - freelist_count) * page_size AS n FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()');
      this.set(r?.n ?? 0);
    },
  });
  // Components with their own registry (the embedded broker's login and refusal counters) are merged in at each
  // scrape: Registry.merge copies the metrics registered so far, and features register theirs after start-up.
  const extra = deps.extra ?? [];
  return {
    registry,
    contentType: registry.contentType,
    render: () => (extra.length > 0 ? Registry.merge([registry, ...extra]) : registry).metrics(),
    storagePruned: (table, reason, rows) => pruned.inc({ table, reason }, rows),
  };
}

/**
 * A StageLatency as a Prometheus histogram (cumulative `le` buckets, `_sum`, `_count`), in the shape prom-client's
 * Registry formats (`get()` → { name, help, type, values }); its own Histogram would re-hash labels per value.
 */
function stageHistogramMetric(name: string, help: string, source: StageLatency<string>) {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const h of source.snapshot()) {
        let cumulative = 0;
        h.counts.forEach((n, i) => {
          cumulative += n;
          values.push({ metricName: `${name}_bucket`, labels: { stage: h.stage, le: i < STAGE_BUCKETS_MS.length ? STAGE_BUCKETS_MS[i]! : '+Inf' }, value: cumulative });
        });
        values.push({ metricName: `${name}_sum`, labels: { stage: h.stage }, value: h.sumMs });
        values.push({ metricName: `${name}_count`, labels: { stage: h.stage }, value: h.count });
      }
      return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values });
    },
  };
}
