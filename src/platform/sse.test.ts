import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { openSse } from './sse.ts';

describe('server-sent events', () => {
  it('sends events and heartbeat comments, and runs the close handlers when the client goes', async () => {
    const app = Fastify({ logger: false });
    let closed!: () => void;
    const closedOnce = new Promise<void>((resolve) => (closed = resolve));
    app.get('/sse', async (request, reply) => {
      const stream = openSse(request, reply, { heartbeatMs: 50 });
      stream.send('hello', { n: 1 });
      const timer = setInterval(() => stream.send('tick', {}), 1000);
      stream.onClose(() => {
        clearInterval(timer);
        closed();
      });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const controller = new AbortController();
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/sse`, {
        signal: controller.signal,
      });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(': ping')) text += Buffer.from((await reader.read()).value!).toString();
      assert.match(text, /^retry: \d+\n\n/);
      assert.match(text, /event: hello\ndata: \{"n":1\}\n\n/);
      controller.abort();
      await closedOnce; // the route's timer is cleared: nothing keeps writing to a gone client
    } finally {
      await app.close();
    }
  });
});
