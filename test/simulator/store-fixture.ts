/** Test support: a broker, an edge double and a simulated store on a virtual clock. */
import { StoreSimulator, type SimStoreOptions } from '../../simulator/src/store-simulator.js';
import { VirtualClock } from '../../simulator/src/virtual-clock.js';
import { EdgeDouble, startBroker, type Broker, type EdgeDoubleOptions } from './edge-double.js';

export const CHAIN = 'test';
export const STORE = 'store-1';
export const LABEL_A = '00AA000000000001';
export const LABEL_B = '00AA000000000002';
export const LABEL_C = '00AA000000000003';

export interface StoreFixture {
  broker: Broker;
  edge: EdgeDouble;
  sim: StoreSimulator;
  clock: VirtualClock;
  close(): Promise<void>;
}

export async function startStore(
  opts: Partial<Pick<SimStoreOptions, 'labels' | 'aps' | 'radio' | 'seed' | 'startSpreadMs'>> & { edge?: Partial<EdgeDoubleOptions> } = {},
): Promise<StoreFixture> {
  const broker = await startBroker();
  const clock = new VirtualClock();
  const edge = await EdgeDouble.connect(broker.url, { chain: CHAIN, store: STORE, serverTimeMs: () => clock.now(), ...opts.edge });
  const sim = await StoreSimulator.start({
    brokerUrl: broker.url,
    chain: CHAIN,
    store: STORE,
    aps: opts.aps ?? [{ apId: 'AP-1', username: 'ap-1', password: 'secret' }],
    labels: opts.labels ?? [{ labelId: LABEL_A, labelType: 3, apId: 'AP-1' }],
    radio: { frameLoss: 0, ...opts.radio },
    clock,
    seed: opts.seed ?? 7,
    ...(opts.startSpreadMs !== undefined ? { startSpreadMs: opts.startSpreadMs } : {}),
  });
  // The AP announced itself; wait for the edge's EDGE_HELLO to be acknowledged so the AP runs with its settings.
  for (const ap of opts.aps ?? [{ apId: 'AP-1' }]) {
    await edge.waitFor((r) => r.apId === ap.apId && r.frame.message.type === 'ACK');
  }
  return {
    broker,
    edge,
    sim,
    clock,
    async close() {
      await sim.stop();
      await edge.close();
      await broker.close();
    },
  };
}
