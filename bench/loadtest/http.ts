/** The load generator's HTTP client: one undici Pool (keep-alive) to the one URL, timed per endpoint. */
import { Pool } from 'undici';
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

/**
 * `endpoint` names the route in the statistics (e.g. 'PUT /hold'). A request's time runs from the
 * buyer's wish to send it to its last byte, so it includes any wait for one of the `connections`
 * (a browser would have its own). Network errors come back as status 0. After `deadline()`
 * (performance.now() time) no new request starts: `call` throws WindowClosed.
 */
export function createClient(url: string, stats: Stats, deadline: () => number, connections = 128, timeoutMs = 20_000): Client {
  const pool = new Pool(url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
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
        const res = await pool.request({
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
        stats.request(endpoint, res.statusCode, performance.now() - started);
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
