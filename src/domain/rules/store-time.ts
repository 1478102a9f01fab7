/**
 * Store-local calendar time for the rules (Europe/Berlin by default), with the zone rules from Intl (the ICU data
 * Node ships), so daylight saving is right in every year without a table of our own. Rules speak in wall time
 * ("19:30–21:30", "best before 2026-12-02"); the engine turns that into instants here, and only here.
 *
 * A wall time that does not exist on a spring-forward day (02:00–02:59 in Berlin) is moved forward by the gap (02:30
 * → 03:30 CEST, as java.time and Temporal do); one that exists twice on a fall-back day means its first occurrence.
 * Store windows lie in opening hours, far from both; midnight (best-before days) always exists in Berlin.
 */

export interface LocalDate {
  year: number;
  month: number; // 1–12
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall clock of the zone at an instant; weekday ISO 1 (Monday) – 7 (Sunday). */
export function wallClock(utcMs: number, timeZone: string): LocalDate & { hour: number; minute: number; second: number; weekday: number } {
  const parts = formatter(timeZone).formatToParts(new Date(utcMs));
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  return { year: Number(get('year')), month: Number(get('month')), day: Number(get('day')), hour: Number(get('hour')), minute: Number(get('minute')), second: Number(get('second')), weekday: WEEKDAYS[get('weekday')] ?? 1 };
}

function offsetMs(utcMs: number, timeZone: string): number {
  const w = wallClock(utcMs, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(utcMs / 1000) * 1000;
}

/** The instant of a wall time in the zone (see the header for DST gaps and repeats). */
export function localInstant(d: LocalDate, hour: number, minute: number, timeZone: string): number {
  const wallAsUtc = Date.UTC(d.year, d.month - 1, d.day, hour, minute);
  const day = 86_400_000;
  const candidates = [...new Set([offsetMs(wallAsUtc - day, timeZone), offsetMs(wallAsUtc + day, timeZone)])]
    .map((o) => wallAsUtc - o)
    .filter((u) => u + offsetMs(u, timeZone) === wallAsUtc)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // In the spring-forward gap the wall time does not exist: it is read with the offset before the gap, i.e. moved
  // forward by the gap's length (02:30 → 03:30 CEST), as java.time and Temporal do.
  return wallAsUtc - offsetMs(wallAsUtc - day, timeZone);
}

export function parseLocalDate(s: string): LocalDate {
  const [y, m, d] = s.split('-').map(Number);
  return { year: y!, month: m!, day: d! };
}

export function formatLocalDate(d: LocalDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export function addDays(d: LocalDate, n: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

export function localDateOf(utcMs: number, timeZone: string): LocalDate {
  const w = wallClock(utcMs, timeZone);
  return { year: w.year, month: w.month, day: w.day };
}

/** Midnight at the start of a local day (a day is 23 or 25 hours long on DST days). */
export function startOfLocalDay(d: LocalDate, timeZone: string): number {
  return localInstant(d, 0, 0, timeZone);
}

/** ISO weekday of a calendar date. */
export function isoWeekday(d: LocalDate): number {
  const wd = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
  return wd === 0 ? 7 : wd;
}

/** The first whole minute at or after `at` (the timed display switches labels on the minute, D13). */
export function ceilMinute(at: number): number {
  return Math.ceil(at / 60_000) * 60_000;
}
