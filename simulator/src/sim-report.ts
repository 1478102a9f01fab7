/** What `esl-sim` writes when it stops, and its one-line progress display. */
import type { GroundTruth, SimProgress, SimStats, StoreSimulator } from './store-simulator.js';

export interface SimReport {
  chain: string;
  store: string;
  startedAt: string;
  stoppedAt: string;
  /** Simulated time the run covered. */
  simulatedMs: number;
  stats: SimStats;
  progress: SimProgress;
  labels: Omit<GroundTruth, 'planes'>[];
}

export function buildReport(sim: StoreSimulator, meta: { chain: string; store: string; startedAt: Date; stoppedAt: Date }): SimReport {
  const progress = sim.progress();
  return {
    chain: meta.chain,
    store: meta.store,
    startedAt: meta.startedAt.toISOString(),
    stoppedAt: meta.stoppedAt.toISOString(),
    simulatedMs: Math.round(progress.simulatedMs),
    stats: sim.stats(),
    progress,
    labels: sim.allGroundTruth().map(({ planes: _planes, ...rest }) => rest),
  };
}

function hms(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function progressLine(p: SimProgress, s: SimStats): string {
  return (
    `sim ${hms(p.simulatedMs)} | labels ${p.labels} | updated ${p.updated} | pending ${p.pending} | failed ${p.failed}` +
    ` | on air ${(s.bytesOnAir / 1024).toFixed(1)} kB | frames lost ${s.framesLost}`
  );
}
