import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Redis } from './redis.ts';

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0];

/** Keys of the rate limiter in Redis (one Redis database per deployment, as for every other key). */
const PREFIX = 'tm:rl:';

/**
 * A store for @fastify/rate-limit on the node-redis client this app already holds (the plugin's
 * own Redis store expects ioredis), so with several API processes every limit counts every
 * process's requests: a buyer cannot multiply a per-account limit by the number of processes.
 * One Lua script per request: INCR and the window's expiry in one step.
 */
export async function redisRateLimitStore(redis: Redis) {
  const run = await redis.loadScripts({ count: new URL('./lua/rate-limit.lua', import.meta.url) });

  return class RedisRateLimitStore implements FastifyRateLimitStore {
    private readonly prefix: string;

    /** The plugin constructs the root store with its options; children get their key prefix. */
    constructor(prefix?: unknown) {
      this.prefix = typeof prefix === 'string' ? prefix : PREFIX;
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      run('count', [this.prefix + key], [Math.max(1, Math.round(timeWindow))]).then(
        (reply) => {
          const [current, ttl] = Array.isArray(reply) ? reply.map(Number) : [NaN, NaN];
          if (!Number.isFinite(current) || !Number.isFinite(ttl))
            callback(new Error(`rate-limit: unexpected reply ${String(reply)}`));
          else callback(null, { current: current!, ttl: ttl! });
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    }

    /** A route's own limit counts under the route; a limiter made with createRateLimit names itself in its keys. */
    child(options: ChildOptions): RedisRateLimitStore {
      // At run time the plugin passes its merged options, with the route (empty for createRateLimit) as routeInfo.
      const info = (options as unknown as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo;
      const route = typeof info?.method === 'string' && typeof info.url === 'string' ? `${info.method}${info.url}:` : '';
      return new RedisRateLimitStore(this.prefix + route);
    }
  };
}
