/**
 * The edge a scenario runs against, as the runner needs it: the MQTT broker the APs and the publisher connect to,
 * their credentials, the store's topic root, and the price audit (GET /api/v1/audit). Either a running edge
 * reached over the network (the CLI against `npm run demo`), or a Daemon in this process (tests) — both read the
 * audit through the same HTTP route.
 */
import { z } from 'zod';
import type { Daemon } from '../../src/daemon.js';
import { AuditEntrySchema, AuditStatusSchema, type AuditEntry, type AuditStatus } from '../../src/domain/audit/price-audit.js';
import { errorMessage, EslError } from '../../src/core/errors.js';
import type { Credential } from './ap-credentials.js';

/** The part of the audit report a scenario reads, validated with the edge's own entry schema. */
export const AuditSnapshotSchema = z.object({
  generatedAt: z.number(),
  total: z.number().int(),
  counts: z.record(AuditStatusSchema, z.number().int()),
  labels: z.array(AuditEntrySchema),
});
export type AuditSnapshot = z.infer<typeof AuditSnapshotSchema>;
export type { AuditEntry, AuditStatus };

export interface ScenarioEdge {
  /** For reports and error messages. */
  readonly describe: string;
  readonly brokerUrl: string;
  readonly chain: string;
  readonly store: string;
  /** MQTT user of a POS/HQ publisher (role "publisher" on the edge's broker). */
  readonly publisher: Credential;
  /** MQTT credentials of each AP the store has; a missing one is an EslError SCENARIO_CREDENTIALS. */
  apCredentials(apIds: readonly string[]): Map<string, Credential>;
  audit(): Promise<AuditSnapshot>;
}

function pick(all: ReadonlyMap<string, Credential>, apIds: readonly string[], where: string): Map<string, Credential> {
  const missing = apIds.filter((id) => !all.has(id));
  if (missing.length > 0) throw new EslError('SCENARIO_CREDENTIALS', `no MQTT credentials for AP ${missing.join(', ')} (${where})`);
  return new Map(apIds.map((id) => [id, all.get(id)!]));
}

function parseAudit(json: unknown, where: string): AuditSnapshot {
  const r = AuditSnapshotSchema.safeParse(json);
  if (!r.success) throw new EslError('SCENARIO_EDGE_ERROR', `unexpected audit from ${where}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

export interface RemoteEdgeOptions {
  brokerUrl: string;
  chain: string;
  store: string;
  apCredentials: ReadonlyMap<string, Credential>;
  publisher: Credential;
  /** Base URL of the edge's HTTP API, e.g. http://127.0.0.1:8080. */
  httpUrl: string;
  token: string;
}

/** A running edge: MQTT at brokerUrl, the audit over HTTP with a bearer token. */
export function remoteEdge(opts: RemoteEdgeOptions): ScenarioEdge {
  const auditUrl = new URL('/api/v1/audit', opts.httpUrl).toString();
  return {
    describe: `${opts.brokerUrl} + ${opts.httpUrl}`,
    brokerUrl: opts.brokerUrl,
    chain: opts.chain,
    store: opts.store,
    publisher: opts.publisher,
    apCredentials: (apIds) => pick(opts.apCredentials, apIds, 'credentials file or --credential'),
    async audit() {
      let res: Response;
      try {
        res = await fetch(auditUrl, { headers: { authorization: `Bearer ${opts.token}` } });
      } catch (err) {
        throw new EslError('SCENARIO_EDGE_ERROR', `GET ${auditUrl} failed: ${errorMessage(err)}`);
      }
      if (res.status !== 200) throw new EslError('SCENARIO_EDGE_ERROR', `GET ${auditUrl} answered ${res.status}${res.status === 401 ? ' (wrong --token?)' : ''}`);
      return parseAudit(await res.json(), auditUrl);
    },
  };
}

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
