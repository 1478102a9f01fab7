/**
 * Test support: the simulator's edge double and broker (simulator/src/edge-double.ts) and the pacing of virtual time
 * against the MQTT traffic between the simulated store, the broker and the double.
 */
import { brokerTraffic } from '../../simulator/src/edge-double.js';
import type { VirtualClock } from '../../simulator/src/virtual-clock.js';

export { EdgeDouble, startBroker, type Broker, type EdgeDoubleOptions, type Received } from '../../simulator/src/edge-double.js';

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const QUIET_TURNS = 3;
const MAX_SETTLE_TURNS = 5_000;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const traffic = brokerTraffic;

/**
 * Lets the MQTT traffic between simulated store, broker and edge double run out before virtual time moves on: the
 * broker's sockets must show no new bytes (and nothing buffered) over `QUIET_TURNS` event-loop turns in a row. Every
 * party lives in this process and loopback delivers at write time, so each turn's poll phase sees what the last one
 * wrote. Counted in turns, not in wall ms (D53): a fixed 2 ms pause let 1 s of virtual time pass per hop on an idle
 * machine but per several hops on a loaded one (the process then gets one loop turn per pause), so ACKs in flight
 * missed the simulated APs' timeouts depending on the load.
 */
export async function settle(): Promise<void> {
  let last = traffic();
  let quiet = 0;
  for (let i = 0; quiet < QUIET_TURNS && i < MAX_SETTLE_TURNS; i++) {
    await turn();
    const now = traffic();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

/** Advances virtual time in steps, letting MQTT traffic flow (in real time) between the steps until it is quiet. */
export async function runVirtual(clock: VirtualClock, ms: number, stepMs = 1_000): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    await clock.advance(Math.min(stepMs, ms - done));
    await delay(2);
    await settle();
  }
  // Let the frames sent in the last steps arrive.
  await delay(30);
  await settle();
}

/** Advances virtual time until `predicate` holds; fails after `maxMs` of virtual time. */
export async function runVirtualUntil(clock: VirtualClock, predicate: () => boolean, maxMs = 300_000, stepMs = 1_000): Promise<number> {
  const start = clock.now();
  while (!predicate()) {
    if (clock.now() - start > maxMs) throw new Error(`condition not met within ${maxMs} ms of virtual time`);
    await clock.advance(stepMs);
    await delay(2);
    await settle();
  }
  return clock.now() - start;
}
