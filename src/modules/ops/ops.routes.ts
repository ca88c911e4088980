import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { errors } from '../../platform/http-schemas.ts';
import type { Metrics } from '../../platform/metrics.ts';

/** A dependency /readyz checks: the database, the hot-state store, the broker — whichever are in use. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface OpsRoutesOptions {
  checks: ReadinessCheck[];
  metrics: Metrics;
  metricsToken: string | undefined;
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, { checks, metrics, metricsToken }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'The process is running',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
      logLevel: 'warn',
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Every dependency in use answers; 503 names the one that does not',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.String()) }),
          ...errors(503),
        },
      },
      logLevel: 'warn',
    },
    async () => {
      const results = await Promise.all(
        checks.map(async ({ name, check }) => {
          try {
            await withTimeout(check(), CHECK_TIMEOUT_MS);
            return [name, 'ok'] as const;
          } catch (err) {
            return [name, err instanceof Error ? err.message : 'failed'] as const;
          }
        }),
      );
      const down = results.filter(([, state]) => state !== 'ok').map(([name]) => name);
      if (down.length > 0) {
        throw new AppError('NOT_READY', 503, `Not ready: ${down.join(', ')} unreachable`, { down });
      }
      return { status: 'ready' as const, checks: Object.fromEntries(results) };
    },
  );

  app.get(
    '/metrics',
    {
      schema: { tags: ['operations'], summary: 'Prometheus metrics (bearer METRICS_TOKEN when set)', hide: false },
      logLevel: 'warn',
    },
    async (request, reply) => {
      if (metricsToken !== undefined) {
        const header = request.headers.authorization ?? '';
        const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';
        if (!sameSecret(token, metricsToken)) throw new AppError('UNAUTHENTICATED', 401, 'Metrics need the bearer token');
      }
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
