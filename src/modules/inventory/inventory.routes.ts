import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors, IdParams } from '../../platform/http-schemas.ts';
import { openSse } from '../../platform/sse.ts';
import { type Auth, requirePrincipal } from '../accounts/index.ts';
import { ADMISSION_HEADER, Availability, HoldBody, HoldResponse } from './inventory.schemas.ts';
import type { InventoryService } from './inventory.service.ts';

/** The waiting room's door: throws NOT_ADMITTED unless the token admits this user to this event. */
export interface AdmissionCheck {
  requireAdmission(args: { token: string | undefined; userId: string; eventId: string }): void | Promise<void>;
}

export interface InventoryRoutesOptions {
  inventory: InventoryService;
  auth: Auth;
  admission: AdmissionCheck;
}

// No length limit here: an oversized token is an invalid one, 403 NOT_ADMITTED (requireAdmission), as the API says.
const AdmissionHeaders = Type.Object({ [ADMISSION_HEADER]: Type.Optional(Type.String()) });

export const inventoryRoutes: FastifyPluginAsyncTypebox<InventoryRoutesOptions> = async (app, { inventory, auth, admission }) => {
  async function admitted(request: FastifyRequest<{ Params: { id: string } }>) {
    const principal = requirePrincipal(request);
    const header = request.headers[ADMISSION_HEADER];
    await admission.requireAdmission({
      token: typeof header === 'string' ? header : undefined,
      userId: principal.userId,
      eventId: request.params.id,
    });
    return principal.userId;
  }

  app.put(
    '/api/events/:id/hold',
    {
      schema: {
        tags: ['holds'],
        summary: 'Make my hold exactly these seats (or best-available, or GA places), all or nothing',
        params: IdParams,
        headers: AdmissionHeaders,
        body: HoldBody,
        response: { 200: HoldResponse, ...errors(400, 401, 403, 404, 409, 413) },
      },
      preHandler: auth.user,
    },
    async (request) => {
      const userId = await admitted(request);
      return { hold: await inventory.putHold(userId, request.params.id, request.body) };
    },
  );

  app.get(
    '/api/events/:id/hold',
    {
      schema: {
        tags: ['holds'],
        summary: 'My hold for this event',
        params: IdParams,
        headers: AdmissionHeaders,
        response: { 200: HoldResponse, ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.user,
    },
    async (request) => {
      const userId = await admitted(request);
      return { hold: await inventory.getHold(userId, request.params.id) };
    },
  );

  app.delete(
    '/api/events/:id/hold',
    {
      schema: {
        tags: ['holds'],
        summary: 'Release my hold',
        params: IdParams,
        headers: AdmissionHeaders,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
      preHandler: auth.user,
    },
    async (request, reply) => {
      const userId = await admitted(request);
      await inventory.releaseHold(userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/events/:id/availability',
    {
      schema: {
        tags: ['events'],
        summary: 'Which seats are taken (bitmap over seat index) and GA places left',
        params: IdParams,
        response: { 200: Availability, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const served = await inventory.availability.snapshot(request.params.id);
      // Served as the string built once per refresh, not re-serialised per request.
      return reply
        .header('Cache-Control', 'public, max-age=1')
        .type('application/json; charset=utf-8')
        .send(served.json as never);
    },
  );

  app.get(
    '/api/events/:id/availability/stream',
    {
      schema: {
        tags: ['events'],
        summary: 'SSE: a snapshot, then deltas {version, taken, freed, ga?} at most ~5 a second',
        params: IdParams,
        response: { ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const eventId = request.params.id;
      // Fails with 404 before the stream opens when the event does not exist.
      await inventory.availability.snapshot(eventId);
      const sse = openSse(request, reply);
      const stop = await inventory.availability.stream(eventId, { send: (event, data) => sse.send(event, data) });
      sse.onClose(() => void stop().catch((err: unknown) => request.log.warn({ err }, 'availability unsubscribe failed')));
    },
  );
};
