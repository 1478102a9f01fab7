/**
 * The simulator's event queue under a store's pattern of events (D164): the near and far heaps of
 * simulator/src/event-heap.ts against all events in one of its heaps (`nearHorizonMs: 0`) and, with `--baseline`,
 * against the EventHeap of another build (e.g. the one before D164), in the same run, alternated.
 *
 * Each label wakes every 30 s (± 10 %) and runs one radio exchange: a chain of frames 5–40 ms apart, each with the
 * label's resend timer 150 ms ahead that the next frame cancels. At rest an exchange is a check-in and its answer
 * (2 frames); in a fill one exchange in four carries a picture (60 frames). The queue sees exactly the pushes,
 * cancels and pops the clocks give it; the events do nothing else, so the figure is the queue's own cost per event
 * run, with the labels' events spread through memory as a long-running simulator has them.
 *
 *   npm run build && node dist/bench/event-heap.js [--labels 20000,200000] [--rounds 3] [--sim-s 60]
 *     [--baseline /tmp/wt-base/dist/simulator/src/event-heap.js]
 *
 * Prints one JSON line per (round, labels, workload, layout) and a summary line per (labels, workload) with the
 * medians and each layout's ratio to near-far.
 */
import { pathToFileURL } from 'node:url';
import { EventHeap, NEAR_HORIZON_MS, type HeapEvent } from '../simulator/src/event-heap.js';
import { seededRandom } from '../simulator/src/rng.js';

/** What the bench needs of a queue; an EventHeap of before D164 has no popDue (its clocks peeked, then popped). */
interface Queue {
  push(at: number, run: () => void): HeapEvent;
  cancel(e: HeapEvent): void;
  peek(): HeapEvent | undefined;
  pop(): HeapEvent | undefined;
  popDue?(limit: number): HeapEvent | undefined;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const LABELS = arg('labels', '20000,200000').split(',').map(Number);
const ROUNDS = Number(arg('rounds', '3'));
const SIM_S = Number(arg('sim-s', '60'));
const BASELINE = arg('baseline', '');
const Baseline = BASELINE ? ((await import(pathToFileURL(BASELINE).href)) as { EventHeap: new () => Queue }).EventHeap : undefined;
const WAKE_MS = 30_000;
const RESEND_MS = 150;

type Workload = 'rest' | 'fill';

type Layout = 'near-far' | 'one-heap' | 'baseline';
const LAYOUTS: Layout[] = ['near-far', 'one-heap', ...(Baseline ? (['baseline'] as const) : [])];

function makeQueue(layout: Layout): Queue {
  if (layout === 'baseline') return new Baseline!();
  return new EventHeap({ nearHorizonMs: layout === 'one-heap' ? 0 : NEAR_HORIZON_MS });
}

function run(labels: number, workload: Workload, layout: Layout): { events: number; ns_per_event: number } {
  const heap = makeQueue(layout);
  const popDue =
    heap.popDue !== undefined
      ? (limit: number) => heap.popDue!(limit)
      : (limit: number) => {
          const e = heap.peek();
          if (e === undefined || e.at > limit) return undefined;
          heap.pop();
          return e;
        };
  // The same events in every layout and round.
  const random = seededRandom(labels);
  let now = 0;
  const frames = (): number => (workload === 'fill' && random() < 0.25 ? 60 : 2);
  // One label's exchange: frame i ends, cancels the resend timer of frame i - 1, arms its own, schedules frame i + 1.
  const exchange = (label: number, left: number, resend: HeapEvent | undefined): void => {
    if (resend !== undefined) heap.cancel(resend);
    if (left === 0) {
      heap.push(now + WAKE_MS * (0.9 + 0.2 * random()), () => exchange(label, frames(), undefined));
      return;
    }
    const timer = heap.push(now + RESEND_MS, () => undefined);
    heap.push(now + 5 + 35 * random(), () => exchange(label, left - 1, timer));
  };
  for (let l = 0; l < labels; l++) heap.push(WAKE_MS * random(), () => exchange(l, frames(), undefined));
  // Warm-up: one wake interval, so that the labels' events are spread as in a running simulator.
  const step = (limit: number): number => {
    let n = 0;
    for (let e = popDue(limit); e !== undefined; e = popDue(limit)) {
      now = e.at;
      e.run();
      n++;
    }
    return n;
  };
  step(WAKE_MS);
  const t0 = process.hrtime.bigint();
  const events = step(WAKE_MS + SIM_S * 1000);
  const ns = Number(process.hrtime.bigint() - t0);
  return { events, ns_per_event: +(ns / events).toFixed(1) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map<string, number[]>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const labels of LABELS) {
    for (const workload of ['rest', 'fill'] as const) {
      // Alternate the order of the layouts, so none always runs on a warmer machine.
      const layouts = round % 2 === 1 ? LAYOUTS : [...LAYOUTS].reverse();
      for (const layout of layouts) {
        const r = run(labels, workload, layout);
        process.stdout.write(`${JSON.stringify({ bench: 'event-heap', round, labels, workload, layout, ...r })}\n`);
        const key = `${labels}/${workload}/${layout}`;
        results.set(key, [...(results.get(key) ?? []), r.ns_per_event]);
      }
    }
  }
}
for (const labels of LABELS) {
  for (const workload of ['rest', 'fill'] as const) {
    const nf = median(results.get(`${labels}/${workload}/near-far`)!);
    const line: Record<string, unknown> = { bench: 'event-heap', summary: true, labels, workload, near_far_ns_per_event: nf };
    for (const layout of LAYOUTS.filter((l) => l !== 'near-far')) {
      const x = median(results.get(`${labels}/${workload}/${layout}`)!);
      line[`${layout.replace('-', '_')}_ns_per_event`] = x;
      line[`ratio_near_far_to_${layout.replace('-', '_')}`] = +(nf / x).toFixed(3);
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
