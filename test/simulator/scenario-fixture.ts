/**
 * Test support for scenario runs: a real edge in this process (embedded aedes, sqlite in a temp dir, the real
 * renderer) on the simulator's accelerated clock, with an MQTT user for every AP of the scenario's store.
 */
import { createLogger } from '../../src/core/logger.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { edgeClock } from '../../simulator/src/edge-clock.js';
import { RealClock } from '../../simulator/src/real-clock.js';
import { inProcessEdge, type ScenarioEdge } from '../../simulator/src/scenario-edge.js';
import type { ResolvedScenario } from '../../simulator/src/scenario-load.js';
import { USERS, tempDir, testConfig } from '../support/edge-fixture.js';

export interface ScenarioEdgeFixture {
  daemon: Daemon;
  clock: RealClock;
  edge: ScenarioEdge;
  stop(): Promise<void>;
}

/** MQTT users of the store's APs: username = lower-case AP id. */
export function apUsers(resolved: ResolvedScenario) {
  return resolved.store.aps.map((a) => ({ username: a.apId.toLowerCase(), password: `${a.apId.toLowerCase()}-password`, role: 'ap' as const, apId: a.apId }));
}

export async function startScenarioEdge(resolved: ResolvedScenario, opts: { listenHttp?: boolean } = {}): Promise<ScenarioEdgeFixture> {
  const tmp = tempDir('esl-scenario-');
  const clock = new RealClock({ speed: resolved.scenario.speed });
  const config = testConfig(tmp.dir, {
    store: { chain: 'testchain', id: 'store-1' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [...apUsers(resolved), USERS.pos] },
    // The edge's production timings, in simulated time (the clock below runs them at the scenario's speed).
    dispatch: { ackTimeoutMs: 5_000, transferTimeoutMs: 300_000, retryBaseMs: 5_000, retryMaxMs: 60_000, heartbeatIntervalS: 30, checkinReportIntervalS: 300 },
  });
  const daemon = await startDaemon(config, { clock: edgeClock(clock), log: createLogger({ level: config.log.level }), listenHttp: opts.listenHttp ?? false });
  return {
    daemon,
    clock,
    edge: inProcessEdge(daemon),
    async stop() {
      await daemon.stop();
      clock.stop();
      tmp.remove();
    },
  };
}
