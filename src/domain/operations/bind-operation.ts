/**
 * "Bind" / "unbind": attach a label to a product (optionally with a template), or detach it (`gtin: null`). A
 * binding is an event of the event contract, so it goes through the same EventIntake as MQTT and HTTP events: it is
 * versioned, de-duplicated, applied in the intake's transaction and answered with the intake's reply. MQTT request
 * `…/req/bind`, HTTP `POST /api/v1/labels/{id}/bind` and `…/unbind`, the dashboard.
 */
import { randomBytes } from 'node:crypto';
import { BindRequestSchema, type EventReply } from '#contracts';
import type { Operation } from './operation.js';
import type { OperationDeps } from './operation-deps.js';



export function bindOperation(deps: Pick<OperationDeps, 'intake' | 'clock'>): Operation<typeof BindRequestSchema, EventReply> {
  return {
    name: 'bind',
    summary: 'Bind a label to a product (gtin) and template, or unbind it (gtin null); answered with the event reply',
    input: BindRequestSchema,
    run: async (r, caller) => {
      const now = deps.clock.now();
      // version = the time of the change in ms (the event contract's convention): a later binding of this label wins.
      const event = {
        id: `${caller.via}-binding-${r.labelId}-${now}-${randomBytes(4).toString('hex')}`,
        source: caller.via,
        version: now,
        type: 'binding',
        data: { labelId: r.labelId, gtin: r.gtin, ...(r.template ? { template: r.template } : {}) },
      };
      const { reply } = await deps.intake.ingest(JSON.stringify(event), { channel: caller.via === 'mqtt' ? 'mqtt' : 'http' });
      return reply;
    },
  };
}
