// The load generator's HTTP client against a real server: with the shared cache on, a public answer
// cacheable for a second reaches the server about once a second however many buyers poll it, while
// private answers and writes always reach it; answers from the cache are counted apart. Each request
// sent is also timed on the wire, without its wait for one of the generator's connections.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { CACHED, createClient } from '../bench/loadtest/http.ts';
import { createStats } from '../bench/loadtest/stats.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('load test: the HTTP client', () => {
  let server: FastifyInstance;
  let url = '';
  const hits = { status: 0, mine: 0, join: 0 };
  let serving = 0;
  before(async () => {
    server = Fastify({ logger: false });
    server.get('/status', async (_request, reply) => {
      hits.status += 1;
      reply.header('cache-control', 'public, max-age=1');
      return { serving };
    });
    server.get('/mine', async (_request, reply) => {
      hits.mine += 1;
      reply.header('cache-control', 'private, no-store');
      return { mine: true };
    });
    server.post('/join', async () => {
      hits.join += 1;
      return { joined: true };
    });
    server.get('/slow', async () => {
      await sleep(40);
      return { slow: true };
    });
    url = await server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => server.close());

  async function poll(sharedCache: boolean, seconds: number) {
    for (const k of Object.keys(hits) as (keyof typeof hits)[]) hits[k] = 0;
    const stats = createStats(performance.now());
    const client = createClient(url, stats, () => Infinity, 8, 5000, { sharedCache });
    const seen: number[] = [];
    const until = performance.now() + seconds * 1000;
    let rounds = 0;
    while (performance.now() < until) {
      serving += 1;
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => client.call<{ serving: number }>('GET /status', 'GET', '/status')),
      );
      for (const a of answers) assert.equal(a.status, 200);
      seen.push(...answers.map((a) => a.body.serving));
      // Three tabs of one buyer at once: a private answer is neither kept nor shared between them.
      await Promise.all(Array.from({ length: 3 }, () => client.call('GET /mine', 'GET', '/mine', { authorization: 'Bearer x' })));
      await client.call('POST /join', 'POST', '/join', {}, {});
      rounds += 1;
      await sleep(50);
    }
    await client.close();
    return { rounds, seen, endpoints: stats.endpoints() };
  }

  it("times a request on the wire from its first byte sent, apart from its wait for one of the generator's connections", async () => {
    const stats = createStats(performance.now());
    // One connection, six requests at once: each waits for the ones before it.
    const client = createClient(url, stats, () => Infinity, 1, 5000);
    const answers = await Promise.all(Array.from({ length: 6 }, () => client.call('GET /slow', 'GET', '/slow')));
    await client.close();
    for (const a of answers) assert.equal(a.status, 200);
    const slow = stats.endpoints()['GET /slow']!;
    assert.equal(slow.count, 6);
    // As the buyers saw it: the last waited for five answers of about 40 ms before its own.
    assert.ok(slow.max >= 6 * 40 - 5, `the slowest took ${slow.max} ms`);
    // On the wire, each took its own 40 ms or so, however long it waited to be sent.
    assert.ok(slow.wireP50! >= 39 && slow.wireP99! < 150, `on the wire: p50 ${slow.wireP50}, p99 ${slow.wireP99} ms`);
    assert.ok(slow.wireP99! < slow.max - 100);
  });

  it('without the cache, every poll reaches the server', async () => {
    const { rounds, endpoints } = await poll(false, 1);
    assert.equal(hits.status, rounds * 50);
    assert.equal(hits.mine, rounds * 3);
    assert.equal(endpoints['GET /status']?.count, rounds * 50);
    assert.equal(endpoints[`GET /status${CACHED}`], undefined);
  });

  it('with the shared cache, a public answer reaches the server about once a second', async () => {
    const { rounds, seen, endpoints } = await poll(true, 3);
    assert.ok(rounds >= 10, `${rounds} rounds`);
    // Kept at most a second (max-age=1, the Date header's whole seconds included): a few fetches in 3 s.
    assert.ok(hits.status >= 2 && hits.status <= 8, `${hits.status} status requests reached the server`);
    // Never a stale answer older than the cache allows: the values seen keep moving.
    assert.ok(new Set(seen).size >= 2);
    // The server's own figures stay the server's: cached answers are counted apart.
    const direct = endpoints['GET /status']?.count ?? 0;
    const cached = endpoints[`GET /status${CACHED}`]?.count ?? 0;
    assert.equal(direct + cached, rounds * 50);
    assert.ok(cached > direct, `${cached} from the cache, ${direct} from the server`);
    // Every answer counted as the server's came from the server.
    assert.equal(direct, hits.status);
    // A private answer and a write are never kept.
    assert.equal(hits.mine, rounds * 3);
    assert.equal(hits.join, rounds);
    assert.equal(endpoints[`GET /mine${CACHED}`], undefined);
    // An answer from the cache never went on the wire; the server's answers did.
    assert.equal(endpoints[`GET /status${CACHED}`]?.wireP99, undefined);
    assert.ok(endpoints['GET /status']!.wireP99! >= 0);
  });
});
