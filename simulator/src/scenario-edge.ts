/**
 * The edge a scenario runs against, as the runner needs it: the MQTT broker the APs and the publisher connect to,
 * their credentials, the store's topic root, and the price audit (GET /api/v1/audit). Either a running edge
 * reached over the network (the CLI against `npm run demo`, here), or a Daemon in this process (tests, benches:
 * in-process-edge.ts beside the demo, which may import both programs, D77) — both read the audit through the same
 * HTTP route.
 */
import type { z } from 'zod';
import { type AuditEntry, AuditReportSchema, type AuditStatus, errorMessage, EslError } from '#contracts';
import type { Credential } from './ap-credentials.js';

/** The part of the audit report a scenario reads, validated with the edge's own entry schema. */
export const AuditSnapshotSchema = AuditReportSchema.pick({ generatedAt: true, total: true, counts: true, labels: true });
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

export function pick(all: ReadonlyMap<string, Credential>, apIds: readonly string[], where: string): Map<string, Credential> {
  const missing = apIds.filter((id) => !all.has(id));
  if (missing.length > 0) throw new EslError('SCENARIO_CREDENTIALS', `no MQTT credentials for AP ${missing.join(', ')} (${where})`);
  return new Map(apIds.map((id) => [id, all.get(id)!]));
}

export function parseAudit(json: unknown, where: string): AuditSnapshot {
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
