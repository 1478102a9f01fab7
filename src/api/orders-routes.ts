/** HTTP resource "orders" (a fastify plugin): pick-to-light, by the store operation the MQTT request runs too. */
import type { FastifyPluginAsync } from 'fastify';
import type { StoreOperations } from '../domain/operations/store-operations.js';
import { parseBody, routeDoc } from './http-errors.js';

export interface OrdersRoutesOptions {
  operations: Pick<StoreOperations, 'pick'>;
}

export const ordersRoutes: FastifyPluginAsync<OrdersRoutesOptions> = async (app, { operations: ops }) => {
  app.post('/api/v1/orders/pick', routeDoc({ summary: ops.pick.summary }), async (req, reply) =>
    reply.code(202).send(await ops.pick.run(parseBody(ops.pick.input, req.body), { via: 'http' })),
  );
};
