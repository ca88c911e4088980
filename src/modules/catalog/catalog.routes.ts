import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { errors, IdParams, pageLimit } from '../../platform/http-schemas.ts';
import { type Auth, requirePrincipal } from '../accounts/index.ts';
import { type AuditResult, auditPageRoute } from '../accounts/accounts.schemas.ts';
import {
  EventBody,
  EventDetail,
  EventPatch,
  EventSummary,
  Seatmap,
  Venue,
  VenueBody,
  VenuePatch,
  VenueSummary,
} from './catalog.schemas.ts';
import type { CatalogService } from './catalog.service.ts';

export interface CatalogRoutesOptions {
  catalog: CatalogService;
  auth: Auth;
  /** The audit log's lines about one venue, newest first (the accounts module keeps the log). */
  venueAudit: (venueId: string, before: string | undefined, limit: number) => Promise<Static<typeof AuditResult>>;
}

/** True when the client already holds this exact representation (If-None-Match, weak comparison per RFC 9110). */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogRoutesOptions> = async (app, { catalog, auth, venueAudit }) => {
  const organizer = auth.role('organizer');

  app.post(
    '/api/venues',
    {
      schema: {
        tags: ['venues'],
        summary: 'Create a venue with its sections and seats (organizer)',
        body: VenueBody,
        response: { 201: Type.Object({ venue: Venue }), ...errors(400, 401, 403, 413) },
      },
      preHandler: organizer,
    },
    async (request, reply) => {
      return reply.code(201).send({ venue: await catalog.createVenue(requirePrincipal(request), request.body) });
    },
  );

  app.get(
    '/api/venues',
    {
      schema: {
        tags: ['venues'],
        summary: 'List venues (organizer)',
        response: { 200: Type.Object({ venues: Type.Array(VenueSummary) }), ...errors(401, 403) },
      },
      preHandler: organizer,
    },
    async () => ({ venues: await catalog.listVenues() }),
  );

  app.get(
    '/api/venues/:id',
    {
      schema: {
        tags: ['venues'],
        summary: 'A venue with every section and seat (organizer)',
        params: IdParams,
        response: { 200: Type.Object({ venue: Venue }), ...errors(400, 401, 403, 404) },
      },
      preHandler: organizer,
    },
    async (request) => ({ venue: await catalog.getVenue(request.params.id) }),
  );

  app.patch(
    '/api/venues/:id',
    {
      schema: {
        tags: ['venues'],
        summary:
          'Rename a venue (its creator or an admin); its events show the new name at once. The layout cannot change: seat maps, orders and tickets name its seats',
        params: IdParams,
        body: VenuePatch,
        response: { 200: Type.Object({ venue: Venue }), ...errors(400, 401, 403, 404) },
      },
      preHandler: organizer,
    },
    async (request) => ({
      venue: await catalog.renameVenue(requirePrincipal(request), request.params.id, request.body.name),
    }),
  );

  app.get(
    '/api/venues/:id/audit',
    {
      schema: auditPageRoute(['venues'], 'Who created and renamed the venue, newest first (its creator or an admin)'),
      preHandler: organizer,
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      await catalog.mayControlVenue(requirePrincipal(request), request.params.id);
      const { before, limit } = request.query;
      return venueAudit(request.params.id, before, pageLimit(limit));
    },
  );

  app.post(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Create an event with prices, sale window, limits and queue settings (organizer)',
        body: EventBody,
        response: { 201: Type.Object({ event: EventDetail }), ...errors(400, 401, 403, 413) },
      },
      preHandler: organizer,
    },
    async (request, reply) => reply.code(201).send({ event: await catalog.createEvent(requirePrincipal(request), request.body) }),
  );

  app.patch(
    '/api/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'Change an event; queue settings apply live (its organizer or an admin)',
        params: IdParams,
        body: EventPatch,
        response: { 200: Type.Object({ event: EventDetail }), ...errors(400, 401, 403, 404, 413) },
      },
      preHandler: organizer,
    },
    async (request) => ({ event: await catalog.updateEvent(requirePrincipal(request), request.params.id, request.body) }),
  );

  app.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Public list of events',
        response: { 200: Type.Object({ events: Type.Array(EventSummary) }) },
      },
    },
    async () => ({ events: await catalog.listEvents() }),
  );

  app.get(
    '/api/admin/events',
    {
      schema: {
        tags: ['events'],
        summary: "The events an organizer runs (an admin: everyone's), to come first, then those over (organizer)",
        response: { 200: Type.Object({ events: Type.Array(EventSummary) }), ...errors(401, 403) },
      },
      preHandler: organizer,
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      const principal = requirePrincipal(request);
      return { events: await catalog.listEvents(principal.role === 'admin' ? undefined : principal.userId) };
    },
  );

  app.get(
    '/api/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event with prices, limits and queue settings',
        params: IdParams,
        response: { 200: Type.Object({ event: EventDetail }), ...errors(400, 404) },
      },
    },
    async (request) => ({ event: await catalog.getEvent(request.params.id) }),
  );

  app.get(
    '/api/events/:id/seatmap',
    {
      schema: {
        tags: ['events'],
        summary: 'The seat map, immutable per version (strong ETag; If-None-Match gives 304)',
        params: IdParams,
        response: { 200: Seatmap, 304: Type.Null(), ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const entry = await catalog.seatmap(request.params.id);
      reply.header('ETag', entry.etag).header('Cache-Control', 'public, max-age=10').header('Vary', 'Accept-Encoding');
      // No payload at all (the schema's `null` only documents an empty body): a serialised null
      // would announce Content-Length: 4 on the 304, where RFC 9110 allows none or the 200's length.
      if (notModified(request.headers['if-none-match'], entry.etag)) return reply.code(304).send(undefined as unknown as null);
      reply.type('application/json; charset=utf-8');
      if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
        return reply.header('Content-Encoding', 'gzip').send(entry.gzip as never);
      }
      // Already serialised: a string with a JSON content type is sent as it is.
      return reply.send(entry.json as never);
    },
  );
};
