import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, dbShapes, errorCode, makeUser, type TestApp } from './helpers.ts';
import { admit, bulkBuyers, onSaleEvent } from './inventory.helpers.ts';

const shapes = await dbShapes();
const card = (number: string) => ({ card: { number, expMonth: 12, expYear: 2030, cvc: '123' } });

for (const shape of shapes) {
  describe(`organizer dashboard stats (${shape})`, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    });
    after(async () => t.close());

    it('counts sold, pending and held places, revenue and orders per minute from the database and the live inventory', async () => {
      const event = await onSaleEvent(t.app);
      const [payer, waiter, holder] = await bulkBuyers(t.app, 3);
      for (const b of [payer!, waiter!, holder!]) await admit(t.app, b, event.eventId);
      const stalls = event.seats.filter((s) => s.section === 'Stalls');
      const hold = (b: typeof payer, seats: string[]) =>
        t.app.inject({ method: 'PUT', url: `/api/events/${event.eventId}/hold`, headers: b!.headers, payload: { seats } });
      const order = async (b: typeof payer): Promise<{ id: string }> =>
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/orders',
            headers: { ...b!.headers, 'idempotency-key': `k-${b!.id}` },
            payload: { eventId: event.eventId },
          })
        ).json<{ order: { id: string } }>().order;
      assert.equal((await hold(payer, [stalls[0]!.id, stalls[1]!.id])).statusCode, 200);
      const paid = await order(payer);
      const pay = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${paid.id}/pay`,
        headers: { ...payer!.auth, 'idempotency-key': 'pay-1' },
        payload: card('4242424242424242'),
      });
      assert.equal(pay.statusCode, 200);
      // One of its two tickets is used at the door.
      const { tickets } = (await t.app.inject({ method: 'GET', url: '/api/tickets', headers: payer!.auth })).json<{
        tickets: { code: string }[];
      }>();
      const scan = await t.app.inject({
        method: 'POST',
        url: '/api/checkin',
        headers: event.organizer.auth,
        payload: { eventId: event.eventId, code: tickets[0]!.code },
      });
      assert.equal(scan.statusCode, 200, scan.body);
      assert.equal((await hold(waiter, [stalls[2]!.id])).statusCode, 200);
      await order(waiter);
      assert.equal((await hold(holder, [stalls[3]!.id, stalls[4]!.id, stalls[5]!.id])).statusCode, 200);
      const ga = await t.app.inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: holder!.headers,
        payload: { ga: { section: 'Standing', quantity: 4 } },
      });
      assert.equal(ga.statusCode, 200, ga.body);

      // The availability snapshot may be ~150 ms old: ask until it has caught up.
      let stats = {} as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (let i = 0; i < 50; i++) {
        const res = await t.app.inject({
          method: 'GET',
          url: `/api/admin/events/${event.eventId}/stats`,
          headers: event.organizer.auth,
        });
        assert.equal(res.statusCode, 200, res.body);
        stats = res.json();
        if (stats.held === 4) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(stats.sold, 2);
      assert.equal(stats.checkedIn, 1);
      assert.equal(stats.pending, 1);
      assert.equal(stats.held, 4, 'the GA hold replaced the three seats');
      assert.equal(stats.available, 50 + 24 + 100 - 2 - 1 - 4);
      assert.deepEqual(stats.revenue, { amount: 10_000, currency: 'USD' });
      assert.equal(stats.queue.admitted, 3);
      assert.equal(stats.ordersPerMinute.length, 30);
      assert.equal(
        stats.ordersPerMinute.reduce((n: number, p: { count: number }) => n + p.count, 0),
        2,
      );
      assert.ok(Date.parse(stats.ordersPerMinute.at(-1).minute) <= Date.now());
    });

    it('refuses buyers and other organizers, and answers 404 for an unknown event', async () => {
      const event = await onSaleEvent(t.app);
      const other = await makeUser(t.app, 'organizer');
      const buyer = await makeUser(t.app);
      const admin = await makeUser(t.app, 'admin');
      const get = (auth: Record<string, string>, id = event.eventId) =>
        t.app.inject({ method: 'GET', url: `/api/admin/events/${id}/stats`, headers: auth });
      assert.equal(errorCode(await get(other.auth)), 'FORBIDDEN');
      assert.equal((await get(buyer.auth)).statusCode, 403);
      assert.equal((await get({})).statusCode, 401);
      assert.equal((await get(admin.auth)).statusCode, 200);
      assert.equal(errorCode(await get(event.organizer.auth, 'evt_nothere')), 'NOT_FOUND');
    });

    it("keeps a log of who changed the event's sale: queue controls and the event's details, newest first", async () => {
      const event = await onSaleEvent(t.app);
      const admin = await makeUser(t.app, 'admin');
      const other = await makeUser(t.app, 'organizer');
      const buyer = await makeUser(t.app);
      const org = event.organizer;
      const control = (body: Record<string, unknown>, auth: Record<string, string> = org.auth) =>
        t.app.inject({ method: 'PATCH', url: `/api/admin/events/${event.eventId}/queue`, headers: auth, payload: body });
      const patch = (body: Record<string, unknown>) =>
        t.app.inject({ method: 'PATCH', url: `/api/events/${event.eventId}`, headers: org.auth, payload: body });
      const changes = (query = '', auth: Record<string, string> = org.auth, id = event.eventId) =>
        t.app.inject({ method: 'GET', url: `/api/admin/events/${id}/audit${query}`, headers: auth });
      type Entry = { id: string; action: string; actor: { id: string; email: string } | null; details: Record<string, unknown> };

      assert.equal((await control({ paused: true })).statusCode, 200);
      assert.equal((await control({ paused: true })).statusCode, 200, 'a second pause changes nothing');
      assert.equal((await control({ admitPerMinute: 900, maxActive: 1500 }, admin.auth)).statusCode, 200);
      assert.equal((await control({ paused: false })).statusCode, 200);
      const { event: detail } = (await t.app.inject({ method: 'GET', url: `/api/events/${event.eventId}` })).json<{
        event: { onSaleAt: string; startsAt: string; offSaleAt: string | null; venue: { id: string; name: string } };
      }>();
      const onSaleAt = new Date(Date.now() - 30_000).toISOString();
      const renamed = await patch({
        name: 'Test Night (late show)',
        onSaleAt,
        queue: { claimSeconds: 90 },
        prices: [
          { section: 'Stalls', amount: 5500, currency: 'USD' },
          { section: 'Circle', amount: 3500, currency: 'USD' },
          { section: 'Standing', amount: 2000, currency: 'USD' },
        ],
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
      const samePrices = [
        { section: 'Stalls', amount: 5500, currency: 'USD' },
        { section: 'Circle', amount: 3500, currency: 'USD' },
        { section: 'Standing', amount: 2000, currency: 'USD' },
      ];
      const again = await patch({ name: 'Test Night (late show)', prices: samePrices });
      assert.equal(again.statusCode, 200, 'the same name and prices again log nothing');

      const res = await changes();
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      const { entries } = res.json<{ entries: Entry[] }>();
      assert.deepEqual(
        entries.map((e) => [e.action, e.actor?.id]),
        [
          ['event.changed', org.id],
          ['queue.changed', org.id],
          ['queue.changed', admin.id],
          ['queue.changed', org.id],
          ['event.created', org.id],
        ],
      );
      assert.deepEqual(entries[0]!.details, {
        fields: ['name', 'onSaleAt', 'queue.claimSeconds', 'prices'],
        from: {
          name: 'Test Night',
          onSaleAt: detail.onSaleAt,
          'queue.claimSeconds': 120,
        },
        to: { name: 'Test Night (late show)', onSaleAt, 'queue.claimSeconds': 90 },
      });
      assert.deepEqual(entries[1]!.details, {
        from: { paused: true, admitPerMinute: 900, maxActive: 1500 },
        to: { paused: false, admitPerMinute: 900, maxActive: 1500 },
      });
      assert.deepEqual(entries[2]!.details, {
        from: { paused: true, admitPerMinute: 1_000_000, maxActive: 1_000_000 },
        to: { paused: true, admitPerMinute: 900, maxActive: 1500 },
      });
      assert.deepEqual((entries[3]!.details.to as { paused: boolean }).paused, true);
      assert.deepEqual(entries[4]!.details, {
        name: 'Test Night',
        venue: { id: detail.venue.id, name: detail.venue.name },
        startsAt: detail.startsAt,
        onSaleAt: detail.onSaleAt,
        offSaleAt: detail.offSaleAt,
      });

      // A page at a time.
      const first = (await changes('?limit=3')).json<{ entries: Entry[]; next: string }>();
      assert.equal(first.entries.length, 3);
      const rest = (await changes(`?limit=3&before=${first.next}`)).json<{ entries: Entry[]; next: string | null }>();
      assert.deepEqual(
        [...first.entries, ...rest.entries].map((e) => e.id),
        entries.map((e) => e.id),
      );
      assert.equal(rest.next, null);

      // The accounts' log keeps to accounts.
      const accountsLog = (await t.app.inject({ method: 'GET', url: '/api/admin/audit?limit=200', headers: admin.auth })).json<{
        entries: Entry[];
      }>().entries;
      assert.ok(!accountsLog.some((e) => ['event.created', 'queue.changed', 'event.changed'].includes(e.action)));

      // The event's organizer and admins only; bad queries are 400.
      assert.equal((await changes('', admin.auth)).statusCode, 200);
      assert.equal(errorCode(await changes('', other.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await changes('', buyer.auth)), 'FORBIDDEN');
      assert.equal((await changes('', {})).statusCode, 401);
      assert.equal(errorCode(await changes('', org.auth, 'evt_nothere')), 'NOT_FOUND');
      for (const bad of ['?before=abc', '?before=0', '?limit=0', '?limit=x', '?target=usr_x']) {
        const r = await changes(bad);
        assert.equal(r.statusCode, 400, `${bad}: ${r.body}`);
      }
    });

    it('streams the figures as SSE `stats` events about once a second', async () => {
      const event = await onSaleEvent(t.app);
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const text = await new Promise<string>((resolve, reject) => {
        const req = http.get(
          `${address}/api/admin/events/${event.eventId}/stats/stream`,
          { headers: event.organizer.auth },
          (res) => {
            assert.equal(res.statusCode, 200);
            assert.match(String(res.headers['content-type']), /text\/event-stream/);
            let body = '';
            res.on('data', (chunk: Buffer) => {
              body += chunk.toString();
              if ((body.match(/event: stats/g) ?? []).length >= 2) {
                req.destroy();
                resolve(body);
              }
            });
          },
        );
        req.on('error', reject);
        setTimeout(() => reject(new Error('fewer than two stats events in 4 s')), 4000).unref();
      });
      const first = JSON.parse(/data: (.*)/.exec(text)![1]!);
      assert.equal(first.sold, 0);
      assert.equal(first.checkedIn, 0);
      assert.equal(first.available, 174);
    });
  });
}
