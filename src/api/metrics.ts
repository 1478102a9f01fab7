/**
 * Prometheus metrics (prom-client) on /metrics. One registry per daemon instance — no global default registry —
 * so several daemons in one test process do not collide.
 */
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../persistence/database.js';
import type { Dispatcher } from '../domain/dispatch/dispatcher.js';
import type { LabelStore } from '../domain/labels/label-store.js';
import type { ApHub } from '../transport/ap-hub.js';

export interface Metrics {
  contentType: string;
  render(): Promise<string>;
}

export function createMetrics(deps: { db: Database; labels: LabelStore; dispatcher: Dispatcher; hub: ApHub }): Metrics {
  const registry = new Registry();
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
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
