/** HTTP resource "aps" (a fastify plugin): the access points with their online state, firmware and queue. */
import type { FastifyPluginAsync } from 'fastify';
import type { ApRegistry } from '../domain/aps/ap-registry.js';
import { routeDoc } from './http-errors.js';

export interface ApsRoutesOptions {
  aps: Pick<ApRegistry, 'all'>;
}

export const apsRoutes: FastifyPluginAsync<ApsRoutesOptions> = async (app, { aps }) => {
  app.get('/api/v1/aps', routeDoc({ summary: 'Access points: online state, firmware, queue' }), async () => ({ aps: aps.all() }));
};
