import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.ts';
import { freshDb, SECRET, testConfig } from './helpers.ts';
import { admit, bulkBuyers, onSaleEvent, storeShapes, TEST_REDIS_URL, waitFor } from './inventory.helpers.ts';

interface SseEvent {
  event: string;
  data: { version: number; taken?: number[]; freed?: number[]; unavailable?: string; ga?: Record<string, number> };
  at: number;
}

/** Reads an SSE stream over real HTTP into a growing list of events. */
async function openStream(baseUrl: string, path: string) {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}${path}`, { signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as SseEvent['data'], at: Date.now() });
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async close() {
      controller.abort();
      await pump;
    },
  };
}

/** Applies a stream's events to a set of taken seats, as a client would. */
function replay(events: SseEvent[]): Set<number> {
  const taken = new Set<number>();
  for (const e of events) {
    if (e.event === 'snapshot') {
      taken.clear();
      const bytes = Buffer.from(e.data.unavailable!, 'base64');
      for (let i = 0; i < bytes.length * 8; i++) if ((bytes[i >> 3]! >> (i & 7)) & 1) taken.add(i);
    } else {
      for (const i of e.data.taken ?? []) taken.add(i);
      for (const i of e.data.freed ?? []) taken.delete(i);
    }
  }
  return taken;
}

const stores = await storeShapes();

for (const store of stores) {
  describe(`availability stream (${store} store)`, () => {
    // Two API instances sharing only the database and (for Redis) Redis: with Redis, a stream on
    // one must see holds made on the other. The memory shape is one process by design.
    const apps: App[] = [];
    const urls: string[] = [];
    let drop: () => Promise<void>;
    before(async () => {
      const fresh = await freshDb('pglite');
      drop = fresh.drop;
      const env = { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', ...(store === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}) };
      for (let n = 0; n < (store === 'redis' ? 2 : 1); n++) {
        const app = await buildApp({ config: testConfig(env), db: fresh.db, secret: SECRET, logger: false });
        urls.push(await app.listen({ port: 0, host: '127.0.0.1' }));
        apps.push(app);
      }
    });
    after(async () => {
      for (const app of apps) await app.close();
      await drop();
    });

    it('sends a snapshot, then deltas of holds made through any API process', async () => {
      const writer = apps[0]!;
      const { eventId, seats } = await onSaleEvent(writer);
      const [a] = await Promise.all((await bulkBuyers(writer, 1)).map((b) => admit(writer, b, eventId)));
      const stream = await openStream(urls.at(-1)!, `/api/events/${eventId}/availability/stream`);
      await waitFor(() => stream.events.length >= 1);
      assert.equal(stream.events[0]!.event, 'snapshot');
      const hold = await writer.inject({
        method: 'PUT',
        url: `/api/events/${eventId}/hold`,
        headers: a!.headers,
        payload: { seats: [seats[3]!.id, seats[4]!.id] },
      });
      assert.equal(hold.statusCode, 200);
      await waitFor(() => stream.events.some((e) => e.event === 'delta'), 2000);
      const delta = stream.events.find((e) => e.event === 'delta')!;
      assert.deepEqual(delta.data.taken, [3, 4]);
      assert.ok(delta.data.version > stream.events[0]!.data.version);
      await stream.close();
    });

    it('batches a burst of changes into at most about five messages a second, ending in the true state', async () => {
      const writer = apps[0]!;
      const { eventId, seats } = await onSaleEvent(writer);
      const buyers = await Promise.all((await bulkBuyers(writer, 40)).map((b) => admit(writer, b, eventId)));
      const stream = await openStream(urls.at(-1)!, `/api/events/${eventId}/availability/stream`);
      await waitFor(() => stream.events.length >= 1);
      const started = Date.now();
      await Promise.all(
        buyers.map((b, n) =>
          writer.inject({
            method: 'PUT',
            url: `/api/events/${eventId}/hold`,
            headers: b.headers,
            payload: { seats: [seats[n]!.id] },
          }),
        ),
      );
      // Then half of them let go again.
      await Promise.all(
        buyers
          .slice(0, 20)
          .map((b) => writer.inject({ method: 'DELETE', url: `/api/events/${eventId}/hold`, headers: b.headers })),
      );
      const expected = new Set(Array.from({ length: 20 }, (_, n) => seats[n + 20]!.index));
      await waitFor(() => replay(stream.events).size === 20, 3000);
      assert.deepEqual(replay(stream.events), expected);
      const deltas = stream.events.filter((e) => e.event === 'delta');
      const seconds = Math.max(1, (deltas.at(-1)!.at - started) / 1000);
      assert.ok(deltas.length <= Math.ceil(seconds * 5) + 1, `${deltas.length} deltas in ${seconds} s`);
      await stream.close();
    });

    it('streams the release of an expired hold within a second of expiresAt', async () => {
      const writer = apps[0]!;
      const { eventId, seats } = await onSaleEvent(writer, { holdSeconds: 1 });
      const [a] = await Promise.all((await bulkBuyers(writer, 1)).map((b) => admit(writer, b, eventId)));
      const stream = await openStream(urls.at(-1)!, `/api/events/${eventId}/availability/stream`);
      await waitFor(() => stream.events.length >= 1);
      const res = await writer.inject({
        method: 'PUT',
        url: `/api/events/${eventId}/hold`,
        headers: a!.headers,
        payload: { seats: [seats[7]!.id] },
      });
      const expiresAt = Date.parse(res.json().hold.expiresAt);
      await waitFor(() => stream.events.some((e) => e.data.freed?.includes(seats[7]!.index)), 3000);
      const freed = stream.events.find((e) => e.data.freed?.includes(seats[7]!.index))!;
      assert.ok(freed.at - expiresAt < 1000, `stream showed it ${freed.at - expiresAt} ms after expiresAt`);
      await stream.close();
    });
  });
}
