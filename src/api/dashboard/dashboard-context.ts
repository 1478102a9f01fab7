/**
 * What the dashboard's route files share: its dependencies, the per-plugin context, the route access levels and
 * the JSON body reader (the API's content-type parser hands bodies over as buffers).
 */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/config-schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../persistence/database.js';
import type { EventIntake } from '../../domain/events/event-intake.js';
import type { ApRegistry } from '../../domain/aps/ap-registry.js';
import type { StoreOperations } from '../../domain/operations/store-operations.js';
import type { Renderer } from '../../domain/labels/label-planner.js';
import type { LabelStore } from '../../domain/labels/label-store.js';
import type { ImageStore } from '../../domain/labels/image-store.js';
import type { ActionName } from '../../domain/audit/action-trail.js';
import type { SessionStore, Session } from './sessions.js';
import type { AuditSnapshots } from './audit-snapshot.js';
import type { LiveStream } from './live-stream.js';

export interface DashboardDeps {
  config: Config;
  db: Database;
  /** The owner of label state (D17): the dashboard reads labels here, never from the table. */
  labels: LabelStore;
  images: ImageStore;
  clock: Clock;
  log: Logger;
  intake: EventIntake;
  aps: ApRegistry;
  /** The store operations (src/domain/operations/): the actions call these, as the HTTP API and MQTT requests do. */
  operations: StoreOperations;
  renderer: Renderer;
}

/** Who may reach a route: `public` (log-in, assets), `page`/`read` (any session), `action` (operator + CSRF), `self` (any session + CSRF). */
export type Access = 'public' | 'page' | 'read' | 'action' | 'self';

declare module 'fastify' {
  interface FastifyContextConfig {
    dash?: Access;
  }
  interface FastifyRequest {
    dashSession: Session | null;
  }
}

export const DASHBOARD_PREFIX = '/dashboard';

export interface DashboardContext extends DashboardDeps {
  sessions: SessionStore;
  snapshots: AuditSnapshots;
  live: LiveStream;
  /** Record an action of the request's session in the audit trail. */
  audit(req: FastifyRequest, action: ActionName, target: string | null, outcome: string, detail?: unknown): Promise<void>;
}

/** The API's JSON body reader (bodies arrive as buffers): one implementation for the API and the dashboard. */
export { jsonBody as parseJsonBody } from '../http-errors.js';
