import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  /** Sends one event; false once the client has gone. */
  send(event: string, data: unknown): boolean;
  /** A comment line (ignored by EventSource; keeps proxies from closing an idle stream). */
  comment(text: string): void;
  /** Runs fn when the stream ends, whoever ends it. */
  onClose(fn: () => void): void;
  close(): void;
  readonly closed: boolean;
}

export interface SseOptions {
  /** A comment every this often while nothing else is sent. */
  heartbeatMs?: number;
  /** How long EventSource waits before reconnecting after a drop. */
  retryMs?: number;
}

/**
 * Turns a request into a Server-Sent Events stream, written straight to the socket. Fastify
 * lets go of the reply (hijack), so call this only once the request has passed its checks:
 * errors before it still get the API's error body. Every timer the stream owns stops on close.
 */
export function openSse(request: FastifyRequest, reply: FastifyReply, options: SseOptions = {}): SseStream {
  const { heartbeatMs = 15_000, retryMs = 2000 } = options;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write(`retry: ${retryMs}\n\n`);

  let closed = false;
  const closers: (() => void)[] = [];
  const heartbeat = setInterval(() => stream.comment('ping'), heartbeatMs);
  heartbeat.unref();

  function end() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers.splice(0)) {
      try {
        fn();
      } catch (err) {
        request.log.warn({ err }, 'sse close handler failed');
      }
    }
    if (!raw.writableEnded) raw.end();
  }
  request.raw.on('close', end);
  raw.on('close', end);
  raw.on('error', end);

  const stream: SseStream = {
    send(event, data) {
      if (closed) return false;
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    },
    comment(text) {
      if (!closed) raw.write(`: ${text}\n\n`);
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    close: end,
    get closed() {
      return closed;
    },
  };
  return stream;
}
