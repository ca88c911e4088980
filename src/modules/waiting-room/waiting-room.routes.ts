import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { errors, IdParams } from '../../platform/http-schemas.ts';
import { openSse } from '../../platform/sse.ts';
import { accountRateLimit, type Auth, requirePrincipal } from '../accounts/index.ts';
import { queueStreamSends } from './poll.ts';
import { AdminQueue, QueueControls, QueueResult, RoomStatus } from './waiting-room.schemas.ts';
import type { WaitingRoomService } from './waiting-room.service.ts';

export interface WaitingRoomRoutesOptions {
  waitingRoom: WaitingRoomService;
  auth: Auth;
  /** Requests a minute. Per account: a browser polling every 2 s makes 30. Per IP: many buyers behind one NAT. */
  limits?: { joinPerAccount: number; joinPerIp: number; pollPerAccount: number; pollPerIp: number; statusPerIp: number };
  /** How often a stream looks for a change (it sends one only when the view changed). */
  streamIntervalMs?: number;
}

const DEFAULT_LIMITS = { joinPerAccount: 30, joinPerIp: 600, pollPerAccount: 120, pollPerIp: 3000, statusPerIp: 3000 };
const tags = ['waiting room'];
const MINUTE = 60_000;

export const waitingRoomRoutes: FastifyPluginAsyncTypebox<WaitingRoomRoutesOptions> = async (app, options) => {
  const { waitingRoom, auth } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const streamIntervalMs = options.streamIntervalMs ?? 1000;
  const organizer = auth.role('organizer');

  const perAccount = (name: string, max: number) => accountRateLimit(app, name, max);
  const perIp = (max: number) => ({ rateLimit: { max, timeWindow: MINUTE } });

  app.post(
    '/api/events/:id/queue',
    {
      schema: {
        tags,
        summary: 'Join the waiting room (201; 200 with the same place when already in)',
        params: IdParams,
        response: { 200: QueueResult, 201: QueueResult, ...errors(400, 401, 403, 404, 409, 429) },
      },
      config: perIp(limits.joinPerIp),
      preHandler: [auth.user, perAccount('join', limits.joinPerAccount)],
    },
    async (request, reply) => {
      const { created, queue } = await waitingRoom.join(request.params.id, requirePrincipal(request).userId);
      return reply.code(created ? 201 : 200).send({ queue });
    },
  );

  app.get(
    '/api/events/:id/queue',
    {
      schema: {
        tags,
        summary: 'My place in the waiting room',
        params: IdParams,
        response: { 200: QueueResult, ...errors(400, 401, 404, 429) },
      },
      config: perIp(limits.pollPerIp),
      preHandler: [auth.user, perAccount('poll', limits.pollPerAccount)],
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return { queue: await waitingRoom.myQueue(request.params.id, requirePrincipal(request).userId, { claim: true }) };
    },
  );

  app.delete(
    '/api/events/:id/queue',
    {
      schema: {
        tags,
        summary: 'Leave the waiting room for good, freeing an active slot',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 429) },
      },
      config: perIp(limits.joinPerIp),
      preHandler: [auth.user, perAccount('leave', limits.joinPerAccount)],
    },
    async (request, reply) => {
      await waitingRoom.leave(request.params.id, requirePrincipal(request).userId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/events/:id/queue/status',
    {
      schema: {
        tags,
        summary: 'The public queue status, the same for everyone (cacheable 1 s)',
        params: IdParams,
        response: { 200: RoomStatus, ...errors(400, 404, 429) },
      },
      config: perIp(limits.statusPerIp),
    },
    async (request, reply) => {
      reply.header('cache-control', 'public, max-age=1');
      return waitingRoom.status(request.params.id);
    },
  );

  app.get(
    '/api/events/:id/queue/stream',
    {
      schema: {
        tags,
        summary:
          'SSE: a `queue` event carrying {queue} when my place changes: state changes within a second, a moving position paced by the expected wait',
        params: IdParams,
        response: { ...errors(400, 401, 404, 429) },
      },
      config: perIp(limits.joinPerIp),
      preHandler: [auth.user, perAccount('stream', limits.joinPerAccount)],
    },
    async (request, reply) => {
      const eventId = request.params.id;
      const userId = requirePrincipal(request).userId;
      const next = waitingRoom.watch(eventId, userId);
      // Before the stream opens, so "not in this queue" is still an ordinary 404.
      let last = await next();
      let lastJson = JSON.stringify(last);
      let sentAt = Date.now();
      const stream = openSse(request, reply);
      stream.send('queue', { queue: last });
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        next()
          .then((queue) => {
            const now = Date.now();
            const json = JSON.stringify(queue);
            if (json !== lastJson && queueStreamSends(last, queue, now - sentAt)) {
              last = queue;
              lastJson = json;
              sentAt = now;
              stream.send('queue', { queue });
            }
          })
          .catch((err: unknown) => {
            // The place is gone (lost with the hot state before the ticker copied it): the stream
            // ends, so the page asks again, gets the 404 and joins again.
            if (err instanceof AppError && err.status === 404) stream.close();
            else request.log.warn({ err }, 'queue stream update failed');
          })
          .finally(() => {
            busy = false;
          });
      }, streamIntervalMs);
      stream.onClose(() => clearInterval(timer));
    },
  );

  app.get(
    '/api/admin/events/:id/queue',
    {
      schema: {
        tags,
        summary: "The event's queue counters (its organizer or an admin)",
        params: IdParams,
        response: { 200: AdminQueue, ...errors(400, 401, 403, 404) },
      },
      preHandler: organizer,
    },
    async (request) => waitingRoom.adminStatus(requirePrincipal(request), request.params.id),
  );

  app.patch(
    '/api/admin/events/:id/queue',
    {
      schema: {
        tags,
        summary: 'Pause or resume admission and change admitPerMinute and maxActive, live (its organizer or an admin)',
        params: IdParams,
        body: QueueControls,
        response: { 200: AdminQueue, ...errors(400, 401, 403, 404) },
      },
      preHandler: organizer,
    },
    async (request) => waitingRoom.control(requirePrincipal(request), request.params.id, request.body),
  );
};
