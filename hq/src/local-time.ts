/**
 * Wall-clock time in a named time zone ↔ instants, with the zone rules taken from Intl (the ICU data Node ships),
 * so daylight saving is right for every year without a table of our own. A pricing team writes "29.03.2026" and
 * means midnight in the store's zone (Europe/Berlin), which is +01:00 on that day but +02:00 one day later.
 *
 * A wall time that does not exist (the hour skipped when clocks go forward) or exists twice (the hour repeated
 * when they go back) is refused rather than guessed: a price that switches an hour early or late is a wrong price.
 */

export interface WallTime {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type LocalInstant =
  | { ok: true; utcMs: number }
  | { ok: false; reason: 'nonexistent' | 'ambiguous'; candidates: number[] };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-US with h23: numeric parts only, hour 0–23 (never "24" at midnight).
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when Intl knows the zone (e.g. "Europe/Berlin"); a typo would otherwise surface as a RangeError later. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in minutes east of Greenwich (+60 for CET, +120 for CEST). */
export function zoneOffsetMinutes(utcMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(utcMs));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wallAsUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const wholeSeconds = Math.floor(utcMs / 1000) * 1000;
  return Math.round((wallAsUtc - wholeSeconds) / 60_000);
}

/**
 * The instant a wall time in the zone denotes. Offsets in force a day before and a day after bound the candidates
 * (zones change offset at most once within a day); each candidate is kept only if the zone really shows that wall
 * time at that instant.
 */
export function wallTimeToInstant(wall: WallTime, timeZone: string): LocalInstant {
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const day = 86_400_000;
  const offsets = new Set([zoneOffsetMinutes(wallAsUtc - day, timeZone), zoneOffsetMinutes(wallAsUtc + day, timeZone)]);
  const candidates = [...offsets]
    .map((offset) => wallAsUtc - offset * 60_000)
    .filter((utcMs) => utcMs + zoneOffsetMinutes(utcMs, timeZone) * 60_000 === wallAsUtc)
    .sort((a, b) => a - b);
  if (candidates.length === 1) return { ok: true, utcMs: candidates[0]! };
  return { ok: false, reason: candidates.length === 0 ? 'nonexistent' : 'ambiguous', candidates };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO 8601 with the zone's offset at that instant, e.g. 2026-03-29T00:00:00+01:00 (what the event contract wants). */
export function formatInstantInZone(utcMs: number, timeZone: string): string {
  const offset = zoneOffsetMinutes(utcMs, timeZone);
  const local = new Date(Math.floor(utcMs / 1000) * 1000 + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The calendar day after the given one (for "until the end of that day"). */
export function nextDay(wall: Pick<WallTime, 'year' | 'month' | 'day'>): Pick<WallTime, 'year' | 'month' | 'day'> {
  const d = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
