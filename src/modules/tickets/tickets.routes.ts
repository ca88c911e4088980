import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DateTime, errors, Id, IdParams, KeysetCursor } from '../../platform/http-schemas.ts';
import { type Auth, requirePrincipal } from '../accounts/index.ts';
import { Ticket } from '../orders/orders.schemas.ts';
import type { TicketsService } from './tickets.service.ts';

const tags = ['tickets'];
/** Changes in one answer of the door's list. */
const DOOR_PAGE = 2000;

/** A page of the door's list: the event's tickets checked in or voided since a cursor, oldest first. */
export const DoorChanges = Type.Object({
  tickets: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.Union([Type.Literal('used'), Type.Literal('void')]),
      at: Type.String({ format: 'date-time', description: 'When it was checked in or voided' }),
    }),
  ),
  cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `after` next time' }),
  more: Type.Boolean({ description: 'More changes wait: ask again at once' }),
});

export const ticketsRoutes: FastifyPluginAsyncTypebox<{ tickets: TicketsService; auth: Auth }> = async (
  app,
  { tickets, auth },
) => {
  app.get(
    '/api/tickets',
    {
      schema: { tags, summary: 'My tickets', response: { 200: Type.Object({ tickets: Type.Array(Ticket) }), ...errors(401) } },
      preHandler: auth.user,
    },
    async (request) => ({ tickets: await tickets.mine(requirePrincipal(request)) }),
  );

  app.get(
    '/api/tickets/public-key',
    {
      schema: {
        tags,
        summary: 'The Ed25519 public key (SPKI DER, base64) that verifies ticket codes offline',
        response: { 200: Type.Object({ alg: Type.Literal('Ed25519'), publicKey: Type.String() }) },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=3600');
      return tickets.publicKey;
    },
  );

  app.get(
    '/api/tickets/:id/qr.svg',
    {
      schema: {
        tags,
        summary: "The QR code of a ticket's code, as SVG (its owner)",
        params: IdParams,
        response: { 200: Type.String(), ...errors(400, 401, 404) },
      },
      preHandler: auth.user,
    },
    async (request, reply) => {
      const svg = await tickets.qr(requirePrincipal(request), request.params.id);
      return reply.type('image/svg+xml').header('Cache-Control', 'private, max-age=300').send(svg);
    },
  );

  app.get(
    '/api/events/:id/checkin/changes',
    {
      schema: {
        tags,
        summary:
          "The event's tickets checked in or voided since `after`, oldest first, 2,000 at a time (staff, the event's organizer, admin): a door's list for checking tickets while the connection is down",
        params: IdParams,
        querystring: Type.Object(
          { after: Type.Optional(KeysetCursor('The `cursor` of the previous answer')) },
          { additionalProperties: false },
        ),
        response: {
          200: DoorChanges,
          ...errors(400, 401, 403, 404),
        },
      },
      preHandler: auth.role('staff', 'organizer'),
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return tickets.doorChanges(requirePrincipal(request), request.params.id, request.query.after, DOOR_PAGE);
    },
  );

  app.post(
    '/api/checkin',
    {
      schema: {
        tags,
        summary: 'Check a ticket in at the door (staff, organizer, admin): exactly one scan of a ticket succeeds',
        description:
          '`scannedAt` (optional, beyond the contract): for a check-in a door made while it had no connection and sends once it is back, when the holder was let in. It becomes the ticket’s `checkedInAt`, kept between the ticket’s issue and now; the door list still orders the check-in by when the server took it.',
        body: Type.Object(
          {
            eventId: Id,
            code: Type.String({ minLength: 1, maxLength: 1024 }),
            scannedAt: Type.Optional(DateTime),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ ticket: Ticket }), ...errors(400, 401, 403, 409, 410, 413) },
      },
      preHandler: auth.role('staff', 'organizer'),
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
    },
    async (request) => {
      const { eventId, code, scannedAt } = request.body;
      return { ticket: await tickets.checkIn(requirePrincipal(request), eventId, code, scannedAt) };
    },
  );
};
