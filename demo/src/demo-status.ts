/**
 * The demo terminal's live status line: labels consistent / pending / other, price mismatches, APs online and the
 * last event, redrawn in place once a second on a terminal (one line, no scroll), or printed when it changes at most
 * every 30 s when stdout is a file or pipe. The full JSON logs go to a file (demo.ts), so the banner stays readable.
 */
import type { Daemon } from '../../src/daemon.js';
import { runAudit } from '../../src/domain/audit/price-audit.js';

export function statusLine(counts: Record<string, number>, mismatches: number, apsOnline: number, apsTotal: number, last: { id: string; type: string; status: string; received_at: number } | undefined): string {
  const other = Object.entries(counts)
    .filter(([k]) => k !== 'consistent' && k !== 'pending' && k !== 'unbound')
    .reduce((n, [, v]) => n + v, 0);
  const at = last ? new Date(last.received_at).toTimeString().slice(0, 8) : '';
  return (
    `labels: ${counts.consistent ?? 0} consistent, ${counts.pending ?? 0} pending, ${other} stale/failed/unreachable` +
    ` | mismatches ${mismatches} | APs ${apsOnline}/${apsTotal}` +
    (last ? ` | last event ${at} ${last.type} ${last.id} ${last.status}` : '')
  );
}

export function startStatusLine(daemon: Daemon, out: NodeJS.WriteStream = process.stdout): () => void {
  let lastPrinted = '';
  let lastPrintAt = 0;
  let stopped = false;
  const tty = out.isTTY === true;
  const tick = async () => {
    const c = daemon.config;
    const report = await runAudit(daemon, { now: Date.now(), slaSeconds: c.audit.slaSeconds, unreachableAfterS: c.audit.unreachableAfterS, maxAttempts: c.dispatch.maxAttempts });
    const last = await daemon.db.get<{ id: string; type: string; status: string; received_at: number }>('SELECT id, type, status, received_at FROM events ORDER BY received_at DESC LIMIT 1');
    const aps = daemon.aps.all();
    const line = statusLine(report.counts, report.priceMismatches, aps.filter((a) => a.online).length, aps.length, last);
    if (stopped) return;
    if (tty) out.write(`\r\x1b[K${line.slice(0, Math.max(20, (out.columns ?? 120) - 1))}`);
    else if (line !== lastPrinted && Date.now() - lastPrintAt >= 30_000) {
      out.write(`${line}\n`);
      lastPrintAt = Date.now();
    }
    lastPrinted = line;
  };
  // Host time on purpose (D22, D53): a status line for the person at the terminal of `npm run demo`, whose daemon
  // always runs on the system clock; it decides nothing in the edge.
  const timer = setInterval(() => void tick().catch(() => undefined), 1_000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    if (tty) out.write('\n');
  };
}
