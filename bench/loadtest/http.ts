/** The load generator's HTTP client: one undici Pool (keep-alive) to the one URL, timed per endpoint. */
import CachePolicy from 'http-cache-semantics';
import { type Dispatcher, Pool } from 'undici';
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

/** A server's answer, as `call` returns it, with its time on the wire (ms; see `Stats.request`). */
type Answer = Reply<unknown> & { wireMs?: number };

/** Set on a request's `opaque` by `timedOnTheWire` when undici starts writing it on a connection. */
interface WireTiming {
  sentAt?: number;
}

/**
 * The pool, with each request's `opaque` (a WireTiming) stamped when undici starts writing the
 * request on a connection (its handler's onRequestStart): a request waiting in the pool for a
 * connection is not yet on the wire.
 */
function timedOnTheWire(pool: Pool): Dispatcher {
  return pool.compose((dispatch) => (opts, handler) => {
    const timing = (opts as { opaque?: WireTiming }).opaque;
    const stamped = new Proxy(handler, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop !== 'onRequestStart') return fn.bind(target);
        return (...args: unknown[]) => {
          if (timing) timing.sentAt ??= performance.now();
          return fn.apply(target, args);
        };
      },
    });
    return dispatch(opts, stamped);
  });
}

/** What the shared cache keeps per path: the answer (null: not to be shared), fresh until `expiresAt` (null: on its way). */
interface Entry {
  answer: Promise<Answer | null>;
  expiresAt: number | null;
}

/** Thrown by `call` once the run's measured window has closed: the buyer stops where it is. */
export class WindowClosed extends Error {}

/** What the statistics call a request answered by the shared cache instead of the server. */
export const CACHED = ' (shared cache)';

/**
 * `endpoint` names the route in the statistics (e.g. 'PUT /hold'). A request's time runs from the
 * buyer's wish to send it to its last byte, so it includes any wait for one of the `connections`
 * (a browser would have its own); its time on the wire, from its first byte written on a
 * connection, is recorded beside it. Network errors come back as status 0. After `deadline()`
 * (performance.now() time) no new request starts: `call` throws WindowClosed.
 *
 * `sharedCache`: GETs pass through a shared HTTP cache, as they would through a CDN or caching
 * proxy in front of the API: an answer is kept as long as its Cache-Control lets a shared cache keep
 * it (http-cache-semantics decides: the public queue status, a second; a buyer's own place,
 * `private, no-store`, never), and identical GETs arriving while one is on its way to the server wait
 * for its answer instead of each being sent (request collapsing). An answer from the cache counts
 * under `endpoint` + CACHED, so the endpoint's own figures stay the server's.
 *
 * The cache is a map of path to answer, not undici's cache interceptor: a CDN runs on machines of its
 * own, and the interceptor's general path (storing and replaying each answer as a stream) cost the
 * generator about 80 µs a hit — a tenth of its CPU in spike-10x, taken from the server it shares the
 * machine with. Only GETs without a body go through it, keyed by their path alone (`Vary` is not
 * read: the buyers send each URL they poll with the same headers); a private GET that arrives
 * while another for its path is on its way waits for that one's answer, finds it not to be shared
 * and is then sent itself, as a CDN's collapsed requests are.
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
  const timed = timedOnTheWire(pool);
  const cache = options.sharedCache ? new Map<string, Entry>() : null;

  /** One request to the server; the answer's body parsed unless `raw`. Throws on network errors. */
  async function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    raw: boolean,
  ): Promise<Answer> {
    const timing: WireTiming = {};
    const res = await timed.request({
      method,
      path,
      headers: body !== undefined ? { ...headers, 'content-type': 'application/json' } : headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      opaque: timing,
    });
    let parsed: unknown;
    if (raw) {
      await res.body.dump({ limit: 64 * 1024 * 1024 });
    } else {
      const text = await res.body.text();
      parsed = text ? JSON.parse(text) : {};
    }
    const wireMs = timing.sentAt === undefined ? undefined : performance.now() - timing.sentAt;
    return { status: res.statusCode, body: parsed, headers: res.headers, wireMs };
  }

  /**
   * A GET through the shared cache: a fresh stored answer, or that of the same GET already on its
   * way to the server, else a request of its own, whose answer is kept while its Cache-Control allows.
   */
  async function throughCache(cache: Map<string, Entry>, path: string, headers: Record<string, string>, raw: boolean) {
    const entry = cache.get(path);
    if (entry && (entry.expiresAt === null || performance.now() < entry.expiresAt)) {
      const shared = await entry.answer;
      if (shared) return { answer: shared, cached: true };
    }
    const settled = send('GET', path, headers, undefined, raw).then((answer) => {
      const policy = new CachePolicy(
        { method: 'GET', url: path, headers },
        { status: answer.status, headers: answer.headers },
        { shared: true },
      );
      return { answer, ttl: answer.status === 200 && policy.storable() ? policy.timeToLive() : 0 };
    });
    const mine: Entry = {
      answer: settled.then(
        ({ answer, ttl }) => (ttl > 0 ? answer : null),
        () => null,
      ),
      expiresAt: null,
    };
    cache.set(path, mine);
    try {
      const { answer, ttl } = await settled;
      if (cache.get(path) === mine) {
        if (ttl > 0) mine.expiresAt = performance.now() + ttl;
        else cache.delete(path);
      }
      return { answer, cached: false };
    } catch (err) {
      if (cache.get(path) === mine) cache.delete(path);
      throw err;
    }
  }

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
        const { answer, cached } =
          cache && method === 'GET' && body === undefined
            ? await throughCache(cache, path, headers, options.raw === true)
            : { answer: await send(method, path, headers, body, options.raw === true), cached: false };
        stats.request(
          cached ? endpoint + CACHED : endpoint,
          answer.status,
          performance.now() - started,
          cached ? undefined : answer.wireMs,
        );
        return answer as Reply<T>;
      } catch {
        stats.request(endpoint, 0, performance.now() - started);
        return { status: 0, body: {} as T, headers: {} };
      }
    },
    queued: () => pool.stats.queued,
    close: () => pool.close(),
  };
}
