/**
 * Wake-report cost (protocol §5.6.3, D34): bytes a WAKE_REPORT costs an AP's uplink, and the edge CPU per entry —
 * decoding the frame and applying each entry to its label's wake state (label store record lookup, residual, window)
 * — for 2,000 labels per AP (66.7 entries/s at a 30 s sleep) and for 200,000 labels on 100 APs. The baseline in the
 * same run is the bare decode of the same frames, so a loaded machine shifts both.
 *
 *   npm run build && node dist/bench/wake-report.js
 *
 * Prints one JSON object per line ({"bench":"wake-report", ...}).
 */
import { decodeFrame, encodeFrame, type WakeReportEntry } from '#protocol';
import { WakeJitter, observeReport, wakeWindow } from '../src/domain/dispatch/wake-reports.js';
import type { WakeState } from '../src/domain/dispatch/wake-predictor.js';

const LABELS = 200_000;
const APS = 100;
const SLEEP_S = 30;
const perApPerS = LABELS / APS / SLEEP_S;
const id = (i: number) => (0xd0de00000000 + i).toString(16).toUpperCase().padStart(16, '0');

// One report per AP per second: the entries of that second (uniform wake phases).
const frames: Uint8Array[] = [];
const entriesPerFrame = Math.round(perApPerS);
for (let f = 0; f < 3_000; f++) {
  const entries: WakeReportEntry[] = [];
  for (let k = 0; k < entriesPerFrame; k++) entries.push({ labelId: id((f * entriesPerFrame + k) % LABELS), agoMs: (k * 15) % 1000, awakeMs: 12, nextWakeS: SLEEP_S });
  frames.push(encodeFrame({ version: 1, seq: f & 0xffff, ackRequested: false, message: { type: 'WAKE_REPORT', entries } }));
}
const states = new Map<string, WakeState>();
for (let i = 0; i < LABELS; i++) states.set(id(i), { wakeAt: -1, wakeIntervalMs: 0, wakeSamples: 0, wakeToldMs: null });
const jitter = new WakeJitter();

function run(apply: boolean): number {
  const t0 = performance.now();
  let now = Date.UTC(2026, 10, 30);
  let sink = 0;
  for (const bytes of frames) {
    now += 1000 / APS;
    const r = decodeFrame(bytes);
    if (!r.ok || r.frame.message.type !== 'WAKE_REPORT') throw new Error('bad frame');
    if (!apply) {
      sink += r.frame.message.entries.length;
      continue;
    }
    for (const e of r.frame.message.entries) {
      const s = states.get(e.labelId)!;
      const sleptAt = now - e.agoMs;
      observeReport(s, jitter, { sleptAt, wokeAt: sleptAt - e.awakeMs, toldMs: e.nextWakeS * 1000 });
      sink += wakeWindow(s, jitter)!.a > 0 ? 1 : 0;
    }
  }
  if (sink === 0) throw new Error('nothing measured');
  return performance.now() - t0;
}

run(true); // warm-up
const entries = frames.length * entriesPerFrame;
const decodeMs = Math.min(run(false), run(false), run(false));
const applyMs = Math.min(run(true), run(true), run(true));
const frameBytes = frames[0]!.length;
const usPerEntry = (applyMs * 1000) / entries;
const out = {
  bench: 'wake-report',
  labels: LABELS,
  aps: APS,
  sleep_s: SLEEP_S,
  entries_per_ap_s: +perApPerS.toFixed(1),
  frame_bytes_per_ap_s: frameBytes,
  edge_bytes_per_s: frameBytes * APS,
  edge_entries_per_s: Math.round(perApPerS * APS),
  decode_us_per_entry: +((decodeMs * 1000) / entries).toFixed(3),
  decode_and_apply_us_per_entry: +usPerEntry.toFixed(3),
  edge_cpu_share_of_core: +((usPerEntry * perApPerS * APS) / 1e6).toFixed(4),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
