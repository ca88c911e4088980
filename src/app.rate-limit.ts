import { BlockList, isIPv4 } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { rateLimited } from './platform/errors.ts';
import { redisRateLimitStore } from './platform/rate-limit-store.ts';
import type { Redis } from './platform/redis.ts';

function allowListOf(entries: readonly string[]) {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  if (entries.length === 0) return () => false;
  // Asked on every request: the answer per address is kept (a bounded map, emptied when full).
  const known = new Map<string, boolean>();
  return (ip: string) => {
    let allowed = known.get(ip);
    if (allowed === undefined) {
      const plain = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
      allowed = list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
      if (known.size >= 10_000) known.clear();
      known.set(ip, allowed);
    }
    return allowed;
  };
}

/** Registers the rate limiter that routes opt into; the addresses or subnets in `allow` are never limited. */
export async function registerRateLimit(app: FastifyInstance, { allow, redis }: { allow: readonly string[]; redis?: Redis }) {
  const allowed = allowListOf(allow);
  await app.register(rateLimit, {
    global: false,
    // With Redis (the scale-out shape) every API process counts into the same windows.
    ...(redis ? { store: await redisRateLimitStore(redis) } : {}),
    // A Redis blip lets requests through rather than failing them (/readyz reports Redis down meanwhile).
    skipOnError: true,
    allowList: (request) => allowed(request.ip),
    errorResponseBuilder: (_request, context) => rateLimited(Math.ceil(context.ttl / 1000)),
  });
}
