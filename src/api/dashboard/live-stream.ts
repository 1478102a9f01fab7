/**
 * Live updates for the dashboard by server-sent events (HTML living standard §9.2): one-way, plain HTTP through the
 * same fastify and the same session cookie, reconnects by itself (EventSource) — the page needs nothing more from a
 * WebSocket. While at least one page listens, the audit snapshot is refreshed every `intervalMs`; each stream gets a
 * `summary` event when the store changed (snapshot version) and a comment line every 15 s to keep proxies from
 * closing it. Nobody listening: no timer, no work.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '#contracts';
import type { ApRegistry } from '../../domain/aps/ap-registry.js';
import type { AuditSnapshots, Snapshot } from './audit-snapshot.js';

const KEEPALIVE_MS = 15_000;

export function summaryOf(snap: Snapshot, aps: ApRegistry) {
  const all = aps.all();
  const online = all.filter((a) => a.online).length;
  return {
    // An AP going on- or offline is news too.
    version: `${snap.version}.${online}`,
    generatedAt: snap.report.generatedAt,
    total: snap.report.total,
    counts: snap.report.counts,
    priceMismatches: snap.report.priceMismatches,
    apsOnline: online,
    apsTotal: all.length,
  };
}

export class LiveStream {
  private readonly clients = new Set<{ res: ServerResponse; lastVersion: string | null; lastWrite: number }>();
  private timer: TimerHandle | null = null;

  constructor(private readonly deps: { clock: Clock; log: Logger; snapshots: AuditSnapshots; intervalMs: number; aps: ApRegistry }) {}

  attach(req: FastifyRequest, reply: FastifyReply): void {
    void reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    // The client waits this long before reconnecting after a drop.
    res.write('retry: 2000\n\n');
    const client = { res, lastVersion: null as string | null, lastWrite: this.deps.clock.now() };
    this.clients.add(client);
    req.raw.on('close', () => {
      this.clients.delete(client);
    });
    void this.tick();
  }

  private closed = false;
  closeAll(): void {
    this.closed = true;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Something happened here (an action): push a fresh summary now rather than at the next tick. */
  nudge(): void {
    this.deps.snapshots.invalidate();
    void this.tick();
  }

  private running = false;
  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    try {
      if (this.clients.size === 0) return;
      const snap = await this.deps.snapshots.get();
      const summary = summaryOf(snap, this.deps.aps);
      const now = this.deps.clock.now();
      for (const c of this.clients) {
        if (c.lastVersion !== summary.version) {
          c.res.write(`event: summary\ndata: ${JSON.stringify(summary)}\n\n`);
          c.lastVersion = summary.version;
          c.lastWrite = now;
        } else if (now - c.lastWrite >= KEEPALIVE_MS) {
          c.res.write(': keep-alive\n\n');
          c.lastWrite = now;
        }
      }
    } catch (err) {
      // A pass cut short by the shutdown (database closed) is no news.
      if (!this.closed) this.deps.log.warn({ evt: 'dashboard.live_failed', err: errorMessage(err) }, 'dashboard live update failed');
    } finally {
      this.running = false;
      // A whole-store pass costs seconds on a busy 50,000-label edge: at most a third of the time goes to it, so the
      // dashboard never crowds out dispatch (D32).
      if (this.clients.size > 0 && !this.closed) this.timer = this.deps.clock.setTimeout(() => void this.tick(), Math.max(this.deps.intervalMs, 2 * this.deps.snapshots.lastBuildMs()));
    }
  }
}
