/**
 * What the store operations need from the rest of the edge, as narrow ports: the label-state owner and the pictures
 * (D17), the catalogue, the AP gateway, the event intake (bindings are events), the audit reporter and the audit's
 * settings. The composition root (src/daemon.ts) fills it once; tests fill it with real parts on a sqlite file.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../persistence/database.js';
import type { LabelStore } from '../labels/label-store.js';
import type { ImageStore } from '../labels/image-store.js';
import type { ApGateway } from '../ports.js';
import type { EventIntake } from '../events/event-intake.js';
import type { AuditReporter } from '../audit/audit-reporter.js';
import type { AuditOptions } from '../audit/price-audit.js';
import type { Config } from '../../config/config-schema.js';

export interface OperationDeps {
  db: Pick<Database, 'all'>;
  labels: Pick<LabelStore, 'all' | 'get' | 'byGtin' | 'resend'>;
  images: Pick<ImageStore, 'contents'>;
  clock: Clock;
  log: Logger;
  gateway: ApGateway;
  intake: Pick<EventIntake, 'ingest'>;
  reporter: Pick<AuditReporter, 'publishReport'>;
  /** Ask the dispatcher for a pass (after "send again"). */
  kickDispatch: () => void;
  store: { chain: string; id: string };
  /** The audit's settings (config `audit.*`, `dispatch.maxAttempts`); `now` is taken from the clock per call. */
  audit: Omit<AuditOptions, 'now'>;
  /** The largest message the broker accepts: an audit summary is cut to fit (mqtt.embedded.maxPacketBytes). */
  maxReportBytes: number;
}

/** The audit's options at this moment: the one place they are built (HTTP, MQTT, reporter and dashboard use it). */
export function auditOptionsAt(deps: Pick<OperationDeps, 'clock' | 'audit'>): AuditOptions {
  return { now: deps.clock.now(), ...deps.audit };
}

/** The audit's settings from the validated config. */
export function auditSettings(config: Pick<Config, 'audit' | 'dispatch'>): Omit<AuditOptions, 'now'> {
  return { slaSeconds: config.audit.slaSeconds, unreachableAfterS: config.audit.unreachableAfterS, maxAttempts: config.dispatch.maxAttempts };
}
