/**
 * Pick-to-light for click & collect: flash the labels of every product of an order (each by flashLabel). Products
 * without a label are listed as missing. MQTT request `…/req/pick`, HTTP `POST /api/v1/orders/pick`, the dashboard.
 */
import { PickRequestSchema } from '#contracts';
import type { Operation } from './operation.js';
import { flashLabel, type FlashDeps, type FlashResult } from './flash-operation.js';


export interface PickResult {
  orderId: string;
  results: FlashResult[];
  missingGtins: string[];
}

export function pickOperation(deps: FlashDeps): Operation<typeof PickRequestSchema, PickResult> {
  return {
    name: 'pick',
    summary: 'Pick-to-light: flash the labels of all products of an order',
    input: PickRequestSchema,
    run: async (r) => {
      const unique = [...new Set(r.gtins)];
      const labels = unique
        .flatMap((gtin) => deps.labels.byGtin(gtin).map((l) => ({ labelId: l.id, gtin })))
        .sort((a, b) => (a.labelId < b.labelId ? -1 : a.labelId > b.labelId ? 1 : 0));
      const results = await Promise.all(labels.map((l) => flashLabel(deps, l.labelId, r)));
      const found = new Set(labels.map((l) => l.gtin));
      deps.log.info({ evt: 'order.pick', orderId: r.orderId, labels: labels.length, missing: unique.length - found.size }, 'pick-to-light');
      return { orderId: r.orderId, results, missingGtins: unique.filter((g) => !found.has(g)) };
    },
  };
}
