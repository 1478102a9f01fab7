/**
 * The catalogue of store operations (issue 15): each is defined once, in its own module of this folder, and every
 * transport calls it from here — the HTTP plugins (src/api/*-routes.ts), the one MQTT request handler
 * (src/transport/mqtt-request-source.ts) and the dashboard's actions. The MQTT request kinds (`…/req/{kind}`) are
 * the keys of REQUEST_OPERATIONS; the broker's topic router accepts exactly these (D24).
 */
import { auditOperation } from './audit-operation.js';
import { auditSummaryOperation } from './audit-summary-operation.js';
import { reportOperation } from './report-operation.js';
import { flashOperation } from './flash-operation.js';
import { pickOperation } from './pick-operation.js';
import { resendOperation } from './resend-operation.js';
import { bindOperation } from './bind-operation.js';
import type { OperationDeps } from './operation-deps.js';
import type { RequestKind } from '#contracts';

export function storeOperations(deps: OperationDeps) {
  return {
    audit: auditOperation(deps),
    auditSummary: auditSummaryOperation(deps),
    report: reportOperation(deps),
    flash: flashOperation(deps),
    pick: pickOperation(deps),
    resend: resendOperation(deps),
    bind: bindOperation(deps),
  };
}
export type StoreOperations = ReturnType<typeof storeOperations>;

/**
 * MQTT request kind → the operation it runs. `audit` answers the summary HQ reads (the full per-label report is an
 * HTTP download, too large for one MQTT message in a big store).
 */
export const REQUEST_OPERATIONS = {
  audit: 'auditSummary',
  report: 'report',
  flash: 'flash',
  pick: 'pick',
  resend: 'resend',
  bind: 'bind',
} as const satisfies Record<RequestKind, keyof StoreOperations>;
