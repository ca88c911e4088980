/** The load generator's HTTP client: one undici Pool (keep-alive) to the one URL, timed per endpoint. */
import { interceptors, Pool } from 'undici';
import type { Stats } from './stats.ts';

export interface Reply<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface Client {
  call<T = Record<string, unknown>>(
    endpoint: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    headers?: Record<string, string>,
    body?: unknown,
    options?: { raw?: boolean },
  ): Promise<Reply<T>>;
  /** Requests waiting in the generator for one of its connections (not yet sent to the server). */
  queued(): number;
  close(): Promise<void>;
}

/** Thrown by `call` once the run's measured window has closed: the buyer stops where it is. */
export class WindowClosed extends Error {}

/** What the statistics call a request answered by the shared cache instead of the server. */
export const CACHED = ' (shared cache)';

/**
 * `endpoint` names the route in the statistics (e.g. 'PUT /hold'). A request's time runs from the
 * buyer's wish to send it to its last byte, so it includes any wait for one of the `connections`
 * (a browser would have its own). Network errors come back as status 0. After `deadline()`
 * (performance.now() time) no new request starts: `call` throws WindowClosed.
 *
 * `sharedCache`: the requests pass through a shared HTTP cache, as they would through a CDN or
 * caching proxy in front of the API — undici's cache interceptor, which keeps a response only as
 * long as its Cache-Control allows a shared cache to (the public queue status: a second; a buyer's
 * own place, `private, no-store`: never), and its deduplication, which sends one request for many
 * identical GETs in flight at once. An answer from the cache counts under `endpoint` + CACHED, so
 * the endpoint's own figures stay the server's.
 */
export function createClient(
  url: string,
  stats: Stats,
  deadline: () => number,
  connections = 128,
  timeoutMs = 20_000,
  options: { sharedCache?: boolean } = {},
): Client {
  const pool = new Pool(url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const dispatcher = options.sharedCache
    ? pool.compose(interceptors.cache({ type: 'shared' }), interceptors.deduplicate())
    : pool;
  return {
    async call<T>(
      endpoint: string,
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      path: string,
      headers: Record<string, string> = {},
      body?: unknown,
      options: { raw?: boolean } = {},
    ) {
      const started = performance.now();
      if (started > deadline()) throw new WindowClosed('the measured window has closed');
      try {
        // The origin names the cache's entries (the pool alone would fill it in too late for the cache).
        const res = await dispatcher.request({
          origin: url,
          method,
          path,
          headers: body !== undefined ? { ...headers, 'content-type': 'application/json' } : headers,
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        let parsed: unknown;
        if (options.raw) {
          await res.body.dump({ limit: 64 * 1024 * 1024 });
        } else {
          const text = await res.body.text();
          parsed = text ? JSON.parse(text) : {};
        }
        // A shared cache says how old its answer is (Age); the server never sends one.
        const name = res.headers.age === undefined ? endpoint : endpoint + CACHED;
        stats.request(name, res.statusCode, performance.now() - started);
        return { status: res.statusCode, body: parsed as T, headers: res.headers };
      } catch {
        stats.request(endpoint, 0, performance.now() - started);
        return { status: 0, body: {} as T, headers: {} };
      }
    },
    queued: () => pool.stats.queued,
    close: () => pool.close(),
  };
}
