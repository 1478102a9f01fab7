/**
 * The demo terminal's live status line: labels consistent / pending / other, price mismatches, APs online and the
 * last event, redrawn in place once a second on a terminal (one line, no scroll), or printed when it changes at most
 * every 30 s when stdout is a file or pipe. The full JSON logs go to a file (demo.ts), so the banner stays readable.
 */
import type { Daemon } from '../../src/daemon.js';
import { systemClock, type Clock, type TimerHandle } from '../../src/core/clock.js';
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

/** Where the status line goes: a terminal (redrawn in place) or a file or pipe (a new line per change). */
export interface StatusOut {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): unknown;
}

/**
 * Decides what reaches `out` for each freshly computed line. On a terminal every line redraws the one status line.
 * On a file or pipe a line is printed when it differs from the last line *printed* and the 30-s quiet period since
 * that print has passed; a change seen during the quiet period is held, and the latest line is printed at the first
 * show() after the period ends (D104: remembering a held line as printed left a pipe showing a stale state for good).
 */
export function statusPrinter(out: StatusOut, clock: Pick<Clock, 'now'>, quietMs = 30_000): { show(line: string): void; end(): void } {
  const tty = out.isTTY === true;
  let lastPrinted: string | undefined;
  let lastPrintAt = 0;
  return {
    show(line) {
      if (tty) {
        out.write(`\r\x1b[K${line.slice(0, Math.max(20, (out.columns ?? 120) - 1))}`);
        return;
      }
      const now = clock.now();
      if (line === lastPrinted || (lastPrinted !== undefined && now - lastPrintAt < quietMs)) return;
      out.write(`${line}\n`);
      lastPrinted = line;
      lastPrintAt = now;
    },
    end() {
      if (tty) out.write('\n');
    },
  };
}

// Host time by default, on purpose (D22, D53): a status line for the person at the terminal of `npm run demo`, whose
// daemon always runs on the system clock; it decides nothing in the edge. Tests pass a ManualClock.
export function startStatusLine(daemon: Daemon, out: StatusOut = process.stdout, clock: Clock = systemClock, everyMs = 1_000): () => void {
  const printer = statusPrinter(out, clock);
  let stopped = false;
  let timer: TimerHandle | undefined;
  const tick = async () => {
    const c = daemon.config;
    const report = await runAudit(daemon, { now: clock.now(), slaSeconds: c.audit.slaSeconds, unreachableAfterS: c.audit.unreachableAfterS, maxAttempts: c.dispatch.maxAttempts });
    const last = await daemon.db.get<{ id: string; type: string; status: string; received_at: number }>('SELECT id, type, status, received_at FROM events ORDER BY received_at DESC LIMIT 1');
    const aps = daemon.aps.all();
    const line = statusLine(report.counts, report.priceMismatches, aps.filter((a) => a.online).length, aps.length, last);
    if (!stopped) printer.show(line);
  };
  // The next tick is armed when this one ends, so a slow audit never stacks ticks (systemClock's timers are unref'd).
  const arm = () => {
    timer = clock.setTimeout(() => {
      void tick()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) arm();
        });
    }, everyMs);
  };
  arm();
  return () => {
    stopped = true;
    if (timer) clock.clearTimeout(timer);
    printer.end();
  };
}
