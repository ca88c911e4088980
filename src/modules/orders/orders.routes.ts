import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { errors, IdParams, pageLimit } from '../../platform/http-schemas.ts';
import { type Auth, requirePrincipal } from '../accounts/index.ts';
import type { PaymentsService } from '../payments/payments.service.ts';
import {
  CreateOrderBody,
  EventOrder,
  EventOrdersExportQuery,
  EventOrdersQuery,
  IdempotencyHeaders,
  Order,
  PayBody,
  Ticket,
} from './orders.schemas.ts';
import type { OrdersService } from './orders.service.ts';

export interface OrdersRoutesOptions {
  orders: OrdersService;
  payments: PaymentsService;
  auth: Auth;
  admission: { requireAdmission(args: { token: string | undefined; userId: string; eventId: string }): void | Promise<void> };
}

const tags = ['orders'];

export const ordersRoutes: FastifyPluginAsyncTypebox<OrdersRoutesOptions> = async (
  app,
  { orders, payments, auth, admission },
) => {
  app.post(
    '/api/orders',
    {
      schema: {
        tags,
        summary: 'Turn my hold into a pending order (admission token and Idempotency-Key required)',
        headers: IdempotencyHeaders,
        body: CreateOrderBody,
        response: { 201: Type.Object({ order: Order }), ...errors(400, 401, 403, 409, 410, 413) },
      },
      preHandler: auth.user,
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { eventId } = request.body;
      const key = request.headers['idempotency-key'];
      try {
        await admission.requireAdmission({ token: request.headers['x-admission-token'], userId: principal.userId, eventId });
      } catch (err) {
        // A retry of a request that created the order, after the admission ended (the order was
        // paid, say): the same key and body get the same reply, as for any Idempotency-Key.
        const stored = await orders.storedCreateReply(principal, eventId, key);
        if (!stored) throw err;
        return reply.code(stored.status as 201).send(stored.body as never);
      }
      const result = await orders.createOrder(principal, eventId, key);
      return reply.code(result.status as 201).send(result.body as never);
    },
  );

  app.get(
    '/api/orders',
    {
      schema: { tags, summary: 'My orders', response: { 200: Type.Object({ orders: Type.Array(Order) }), ...errors(401) } },
      preHandler: auth.user,
    },
    async (request) => ({ orders: await orders.listMine(requirePrincipal(request)) }),
  );

  app.get(
    '/api/admin/events/:id/orders',
    {
      schema: {
        tags: ['organizer dashboard'],
        summary:
          "The event's orders with their buyers, newest first, a page at a time (its organizer or an admin); `q` finds an order by id or buyer",
        params: IdParams,
        querystring: EventOrdersQuery,
        response: {
          200: Type.Object({
            orders: Type.Array(EventOrder),
            next: Type.Union([Type.String(), Type.Null()], {
              description: 'Pass as `after` for the next page; null on the last',
            }),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
      preHandler: auth.role('organizer'),
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      const { status, q, limit, after } = request.query;
      return orders.listForEvent(requirePrincipal(request), request.params.id, {
        status,
        search: q,
        after,
        limit: pageLimit(limit),
      });
    },
  );

  app.get(
    '/api/admin/events/:id/orders.csv',
    {
      schema: {
        tags: ['organizer dashboard'],
        summary:
          'Every order of the event matching `status` and `q`, newest first, as a CSV download (its organizer or an admin); cells a spreadsheet would run as formulas are escaped',
        params: IdParams,
        querystring: EventOrdersExportQuery,
        response: {
          200: {
            description: 'CSV with a header line',
            // Sent as a stream; documented as the text it is.
            content: { 'text/csv': { schema: Type.Unsafe<Readable>(Type.String()) } },
          },
          ...errors(400, 401, 403, 404),
        },
      },
      preHandler: auth.role('organizer'),
    },
    async (request, reply) => {
      const { status, q } = request.query;
      const csv = await orders.exportForEvent(requirePrincipal(request), request.params.id, { status, search: q });
      return reply
        .type('text/csv; charset=utf-8')
        .header('cache-control', 'private, no-store')
        .header('content-disposition', `attachment; filename="orders-${request.params.id}.csv"`)
        .send(csv);
    },
  );

  app.get(
    '/api/orders/:id',
    {
      schema: {
        tags,
        summary: "One order (its buyer, the event's organizer, an admin)",
        params: IdParams,
        response: { 200: Type.Object({ order: Order }), ...errors(400, 401, 404) },
      },
      preHandler: auth.user,
    },
    async (request) => ({ order: await orders.get(requirePrincipal(request), request.params.id) }),
  );

  app.post(
    '/api/orders/:id/pay',
    {
      schema: {
        tags,
        summary: 'Pay with a card (Idempotency-Key required): 200 with tickets, 202 while an asynchronous payment settles',
        params: IdParams,
        headers: IdempotencyHeaders,
        body: PayBody,
        response: {
          200: Type.Object({ order: Order, tickets: Type.Array(Ticket) }),
          202: Type.Object({ order: Order }),
          ...errors(400, 401, 402, 404, 409, 410, 413),
        },
      },
      preHandler: auth.user,
    },
    async (request, reply) => {
      const result = await payments.pay(
        requirePrincipal(request),
        request.params.id,
        request.headers['idempotency-key'],
        request.body.card,
      );
      return reply.code(result.status as 200).send(result.body as never);
    },
  );

  app.post(
    '/api/orders/:id/cancel',
    {
      schema: {
        tags,
        summary:
          'Cancel: the buyer while pending; the organizer or an admin at any time (a paid order is refunded); an order already over is answered as it is',
        params: IdParams,
        response: { 200: Type.Object({ order: Order }), ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.user,
    },
    async (request) => ({
      order: await orders.cancel(requirePrincipal(request), request.params.id, (o, by) => payments.refundOrder(o, by)),
    }),
  );
};
