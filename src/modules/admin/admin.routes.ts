import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { errors, IdParams, Money, pageLimit } from '../../platform/http-schemas.ts';
import { openSse } from '../../platform/sse.ts';
import { type Auth, requirePrincipal } from '../accounts/index.ts';
import { type AuditResult, auditPageRoute } from '../accounts/accounts.schemas.ts';
import { AdminQueue } from '../waiting-room/waiting-room.schemas.ts';
import type { AdminService } from './admin.service.ts';

export const Stats = Type.Object({
  sold: Type.Integer({ description: 'Places in paid orders' }),
  checkedIn: Type.Integer({ description: 'Tickets used at the door' }),
  held: Type.Integer({ description: 'Places in holds not yet ordered' }),
  pending: Type.Integer({ description: 'Places in orders waiting for payment' }),
  available: Type.Integer(),
  revenue: Money,
  queue: AdminQueue,
  ordersPerMinute: Type.Array(Type.Object({ minute: Type.String(), count: Type.Integer() }), {
    description: 'The last 30 minutes, oldest first',
  }),
});

export interface AdminRoutesOptions {
  admin: AdminService<Static<typeof AdminQueue>, Static<typeof AuditResult>>;
  auth: Auth;
  /** How often the stream sends fresh figures. */
  streamIntervalMs?: number;
}

const tags = ['organizer dashboard'];

export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (
  app,
  { admin, auth, streamIntervalMs = 1000 },
) => {
  const organizer = auth.role('organizer');

  app.get(
    '/api/admin/events/:id/stats',
    {
      schema: {
        tags,
        summary: "The event's sales and queue figures (its organizer or an admin)",
        params: IdParams,
        response: { 200: Stats, ...errors(400, 401, 403, 404) },
      },
      preHandler: organizer,
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return admin.stats(requirePrincipal(request), request.params.id);
    },
  );

  app.get(
    '/api/admin/events/:id/audit',
    {
      schema: auditPageRoute(
        tags,
        "Who changed the event's sale, newest first: the event created, queue paused, resumed or its limits changed, the event's details changed, paid orders refunded (its organizer or an admin)",
      ),
      preHandler: organizer,
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      const { before, limit } = request.query;
      return admin.changes(requirePrincipal(request), request.params.id, before, pageLimit(limit));
    },
  );

  app.get(
    '/api/admin/events/:id/stats/stream',
    {
      schema: {
        tags,
        summary: 'SSE: a `stats` event with the figures about once a second (its organizer or an admin)',
        params: IdParams,
        response: { ...errors(400, 401, 403, 404) },
      },
      preHandler: organizer,
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const eventId = request.params.id;
      // Before the stream opens, so a 403 or 404 is still an ordinary error body.
      const first = await admin.stats(principal, eventId);
      const stream = openSse(request, reply);
      stream.send('stats', first);
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        admin
          .stats(principal, eventId)
          .then((stats) => stream.send('stats', stats))
          .catch((err: unknown) => request.log.warn({ err }, 'stats stream update failed'))
          .finally(() => {
            busy = false;
          });
      }, streamIntervalMs);
      stream.onClose(() => clearInterval(timer));
    },
  );
};
