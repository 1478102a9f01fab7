/**
 * A ScenarioEdge for a Daemon in this process (tests, benches): composition of the edge and the simulator, so it lives
 * beside the demo, the one folder that may import both programs (docs/architecture.md, D77).
 */
import type { Daemon } from '../../src/daemon.js';
import { EslError } from '#contracts';
import { parseAudit, pick, type ScenarioEdge } from '../../simulator/src/scenario-edge.js';

/**
 * A Daemon in this process (started with `{ clock: edgeClock(simClock) }` to share the simulator's time). AP and
 * publisher credentials come from its config's MQTT users; the audit through its HTTP route (inject, no socket).
 */
export function inProcessEdge(daemon: Daemon, opts: { publisherUsername?: string } = {}): ScenarioEdge {
  const users = daemon.config.mqtt.users;
  const pub = users.find((u) => u.role === 'publisher' && (opts.publisherUsername === undefined || u.username === opts.publisherUsername));
  if (pub === undefined) throw new EslError('SCENARIO_CREDENTIALS', 'the edge config has no MQTT user with role "publisher"');
  const aps = new Map(users.filter((u) => u.role === 'ap' && u.apId !== undefined).map((u) => [u.apId!, { username: u.username, password: u.password }]));
  const token = daemon.config.http.tokens[0]!.token;
  return {
    describe: `in-process edge ${daemon.config.store.chain}/${daemon.config.store.id}`,
    brokerUrl: daemon.mqttUrl,
    chain: daemon.config.store.chain,
    store: daemon.config.store.id,
    publisher: { username: pub.username, password: pub.password },
    apCredentials: (apIds) => pick(aps, apIds, 'the edge config has no "ap" user for it'),
    async audit() {
      const res = await daemon.http.inject({ method: 'GET', url: '/api/v1/audit', headers: { authorization: `Bearer ${token}` } });
      if (res.statusCode !== 200) throw new EslError('SCENARIO_EDGE_ERROR', `GET /api/v1/audit answered ${res.statusCode}`);
      return parseAudit(res.json(), 'the in-process edge');
    },
  };
}
