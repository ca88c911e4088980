import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, rateLimited, unauthenticated } from '../../platform/errors.ts';
import type { Role } from './accounts.schemas.ts';
import type { Principal, SessionGuard } from './session-guard.ts';

export const SESSION_COOKIE = 'tm_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A cookie rides along on cross-site requests, so an unsafe request authenticated by cookie
 * must come from our own origin. Browsers send Sec-Fetch-Site or Origin on every such request;
 * a request with neither is refused (non-browser clients use the bearer token, which no other
 * site can attach).
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') return true;
  if (site === 'cross-site' || site === 'same-site') return false;
  const source = request.headers.origin ?? request.headers.referer;
  if (typeof source !== 'string' || source === 'null') return false;
  try {
    return new URL(source).host === request.headers.host;
  } catch {
    return false;
  }
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function createAuth(guard: SessionGuard) {
  function principalOf(request: FastifyRequest): Principal {
    const token = bearer(request);
    if (token !== undefined) {
      const principal = guard.verify(token);
      if (!principal) throw unauthenticated('Your session has ended; sign in again');
      return principal;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined) throw unauthenticated();
    const principal = guard.verify(cookie);
    if (!principal) throw unauthenticated('Your session has ended; sign in again');
    if (!SAFE_METHODS.has(request.method) && !isSameOrigin(request)) {
      throw forbidden('Cross-site request refused');
    }
    return principal;
  }

  return {
    /** preHandler: any signed-in user. */
    user: async (request: FastifyRequest, _reply: FastifyReply) => {
      request.principal = principalOf(request);
    },
    /** preHandler: a signed-in user with one of these roles (admin always passes). */
    role(...roles: Role[]) {
      return async (request: FastifyRequest, _reply: FastifyReply) => {
        const principal = principalOf(request);
        if (principal.role !== 'admin' && !roles.includes(principal.role)) {
          throw forbidden(`This needs the ${roles.join(' or ')} role`);
        }
        request.principal = principal;
      };
    },
    /** The principal if the request carries a valid session, without requiring one. */
    optional(request: FastifyRequest): Principal | undefined {
      try {
        return principalOf(request);
      } catch {
        return undefined;
      }
    },
  };
}
export type Auth = ReturnType<typeof createAuth>;

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
  return request.principal;
}

/**
 * A per-account limit, as a preHandler placed after sign-in (a route's own limit is per IP and
 * comes before it): at most `max` requests a minute per account, then 429 with Retry-After.
 * `name` keeps the counts of limiters sharing a store (Redis) apart; `accountOf` names the account
 * when the request is not signed in (sign-in itself: the e-mail it gives).
 */
export function accountRateLimit(
  app: FastifyInstance,
  name: string,
  max: number,
  accountOf: (request: FastifyRequest) => string | undefined = (request) => request.principal?.userId,
) {
  const limiter = app.createRateLimit({
    max,
    timeWindow: 60_000,
    keyGenerator: (request) => `${name}:acct:${accountOf(request) ?? request.ip}`,
  });
  return async (request: FastifyRequest) => {
    const result = await limiter(request);
    if (!result.isAllowed && result.isExceeded) throw rateLimited(result.ttlInSeconds);
  };
}
