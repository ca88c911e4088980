import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, errorCode, type TestApp } from './helpers.ts';
import { eventKeys } from '../src/modules/inventory/keys.ts';
import {
  admit,
  appShapes,
  bulkBuyers,
  connectTestRedis,
  onSaleEvent,
  takenIndexes,
  TEST_REDIS_URL,
  waitFor,
} from './inventory.helpers.ts';

// Each store runs over one database shape: memory over PGlite (the embedded shape), Redis over
// PostgreSQL when it answers (the scale-out shape). The store contract suite covers both stores alone.
const combos = await appShapes();

for (const { store, db } of combos) {
  describe(`holds and availability (${store} store, ${db})`, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(db, {
        TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
        ...(store === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}),
      });
    });
    after(async () => t.close());

    const put = (eventId: string, headers: Record<string, string>, payload: unknown) =>
      t.app.inject({ method: 'PUT', url: `/api/events/${eventId}/hold`, headers, payload: payload as object });
    const get = (eventId: string, headers: Record<string, string>) =>
      t.app.inject({ method: 'GET', url: `/api/events/${eventId}/hold`, headers });
    const availability = async (eventId: string) => {
      const res = await t.app.inject({ method: 'GET', url: `/api/events/${eventId}/availability` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ version: number; seatCount: number; unavailable: string; ga: Record<string, number> }>();
    };
    async function buyers(eventId: string, n: number) {
      return Promise.all((await bulkBuyers(t.app, n)).map((b) => admit(t.app, b, eventId)));
    }

    it('holds the chosen seats and shows them taken in the availability bitmap', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [b] = await buyers(eventId, 1);
      const chosen = [seats[0]!, seats[1]!, seats[12]!];
      const res = await put(eventId, b!.headers, { seats: chosen.map((s) => s.id) });
      assert.equal(res.statusCode, 200, res.body);
      const { hold } = res.json();
      assert.equal(hold.eventId, eventId);
      assert.deepEqual(
        hold.seats.map((s: { id: string; label: string; row: string; section: string }) => [s.id, s.label, s.row, s.section]),
        chosen.map((s) => [s.id, s.label, s.row, 'Stalls']),
      );
      assert.deepEqual(hold.seats[0].price, { amount: 5000, currency: 'USD' });
      assert.deepEqual(hold.total, { amount: 15000, currency: 'USD' });
      assert.deepEqual(hold.ga, []);
      const expires = Date.parse(hold.expiresAt) - Date.now();
      assert.ok(expires > 590_000 && expires <= 600_000, `expires in ${expires} ms`);
      const again = await get(eventId, b!.headers);
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json().hold, hold);
      await waitFor(async () => takenIndexes(await availability(eventId)).join() === chosen.map((s) => s.index).join(), 2000);
    });

    it('counts live holds per event in /metrics', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [a, b] = await buyers(eventId, 2);
      await put(eventId, a!.headers, { seats: [seats[0]!.id] });
      await put(eventId, b!.headers, { seats: [seats[1]!.id, seats[2]!.id] });
      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, new RegExp(`ticketmax_holds\\{event="${eventId}"\\} 2`));
    });

    it('asks for the session and the admission token', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [b] = await bulkBuyers(t.app, 1);
      const anonymous = await put(eventId, {}, { seats: [seats[0]!.id] });
      assert.equal(anonymous.statusCode, 401);
      const unadmitted = await put(eventId, b!.auth, { seats: [seats[0]!.id] });
      assert.equal(unadmitted.statusCode, 403);
      assert.equal(errorCode(unadmitted), 'NOT_ADMITTED');
      const forged = await put(eventId, { ...b!.auth, 'x-admission-token': 'abc.def' }, { seats: [seats[0]!.id] });
      assert.equal(errorCode(forged), 'NOT_ADMITTED');
      // Someone else's admission token does not admit me.
      const [other] = await buyers(eventId, 1);
      const borrowed = await put(
        eventId,
        { ...b!.auth, 'x-admission-token': other!.headers['x-admission-token']! },
        { seats: [seats[0]!.id] },
      );
      assert.equal(errorCode(borrowed), 'NOT_ADMITTED');
    });

    it('rejects seats someone else holds with their ids, and leaves my previous hold unchanged', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [a, b] = await buyers(eventId, 2);
      assert.equal((await put(eventId, a!.headers, { seats: [seats[3]!.id, seats[4]!.id] })).statusCode, 200);
      const mine = await put(eventId, b!.headers, { seats: [seats[7]!.id] });
      assert.equal(mine.statusCode, 200);
      const res = await put(eventId, b!.headers, { seats: [seats[4]!.id, seats[5]!.id, seats[3]!.id] });
      assert.equal(res.statusCode, 409);
      assert.equal(errorCode(res), 'SEATS_UNAVAILABLE');
      assert.deepEqual(new Set(res.json().error.details.seats), new Set([seats[3]!.id, seats[4]!.id]));
      assert.deepEqual((await get(eventId, b!.headers)).json().hold, mine.json().hold);
    });

    it('changes a hold to exactly the new set: left-out seats free, the expiry unmoved', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [a, b] = await buyers(eventId, 2);
      const first = await put(eventId, a!.headers, { seats: [seats[0]!.id, seats[1]!.id] });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await put(eventId, a!.headers, { seats: [seats[1]!.id, seats[2]!.id] });
      assert.equal(second.statusCode, 200);
      assert.equal(second.json().hold.expiresAt, first.json().hold.expiresAt);
      assert.deepEqual(
        second.json().hold.seats.map((s: { id: string }) => s.id),
        [seats[1]!.id, seats[2]!.id],
      );
      // The released seat is free for someone else at once.
      assert.equal((await put(eventId, b!.headers, { seats: [seats[0]!.id] })).statusCode, 200);
    });

    it('refuses more than maxSeatsPerOrder, unknown seats and malformed bodies', async () => {
      const { eventId, seats } = await onSaleEvent(t.app, { maxSeatsPerOrder: 2 });
      const [a] = await buyers(eventId, 1);
      const many = await put(eventId, a!.headers, { seats: seats.slice(0, 3).map((s) => s.id) });
      assert.equal(many.statusCode, 400);
      assert.equal(errorCode(many), 'TOO_MANY_SEATS');
      const best = await put(eventId, a!.headers, { bestAvailable: { quantity: 3 } });
      assert.equal(errorCode(best), 'TOO_MANY_SEATS');
      const unknown = await put(eventId, a!.headers, { seats: [seats[0]!.id, 'st_nonexistent'] });
      assert.equal(unknown.statusCode, 400);
      assert.equal(errorCode(unknown), 'VALIDATION_FAILED');
      for (const body of [
        {},
        { seats: 'x' },
        { seats: [], ga: { section: 'Standing', quantity: 1 } },
        { bestAvailable: { quantity: 0 } },
      ]) {
        const res = await put(eventId, a!.headers, body);
        assert.equal(res.statusCode, 400, JSON.stringify(body));
        assert.equal(errorCode(res), 'VALIDATION_FAILED');
      }
      // Nothing of it was held.
      assert.equal((await get(eventId, a!.headers)).statusCode, 404);
    });

    it('releases on DELETE, after which GET answers 404 NO_HOLD', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [a] = await buyers(eventId, 1);
      await put(eventId, a!.headers, { seats: [seats[9]!.id] });
      const del = await t.app.inject({ method: 'DELETE', url: `/api/events/${eventId}/hold`, headers: a!.headers });
      assert.equal(del.statusCode, 204);
      const res = await get(eventId, a!.headers);
      assert.equal(res.statusCode, 404);
      assert.equal(errorCode(res), 'NO_HOLD');
      await waitFor(async () => takenIndexes(await availability(eventId)).length === 0, 2000);
    });

    it('refuses holds outside the sale window with SALE_NOT_OPEN', async () => {
      const { eventId, seats, organizer } = await onSaleEvent(t.app);
      const [a] = await buyers(eventId, 1);
      const now = Date.now();
      const patch = await t.app.inject({
        method: 'PATCH',
        url: `/api/events/${eventId}`,
        headers: organizer.auth,
        payload: { onSaleAt: new Date(now - 7_200_000).toISOString(), offSaleAt: new Date(now - 3_600_000).toISOString() },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      // The inventory re-reads event settings within a second.
      await waitFor(
        async () => {
          const res = await put(eventId, a!.headers, { seats: [seats[0]!.id] });
          return res.statusCode === 409 && errorCode(res) === 'SALE_NOT_OPEN';
        },
        3000,
        200,
      );
    });

    it('holds GA places from the remaining count, and says SOLD_OUT when none are left', async () => {
      const venue = { name: 'Club', sections: [{ name: 'Floor', kind: 'ga', capacity: 5 }] };
      const { eventId, sections } = await onSaleEvent(
        t.app,
        { prices: [{ section: 'Floor', amount: 2000, currency: 'USD' }] },
        venue,
      );
      const floor = sections[0]!.id;
      const [a, b, c] = await buyers(eventId, 3);
      const res = await put(eventId, a!.headers, { ga: { section: 'floor', quantity: 3 } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().hold.ga, [
        { sectionId: floor, section: 'Floor', quantity: 3, price: { amount: 2000, currency: 'USD' } },
      ]);
      assert.deepEqual(res.json().hold.total, { amount: 6000, currency: 'USD' });
      const short = await put(eventId, b!.headers, { ga: { section: floor, quantity: 3 } });
      assert.equal(errorCode(short), 'SEATS_UNAVAILABLE');
      assert.equal((await put(eventId, b!.headers, { ga: { section: floor, quantity: 2 } })).statusCode, 200);
      const none = await put(eventId, c!.headers, { ga: { section: floor, quantity: 1 } });
      assert.equal(none.statusCode, 409);
      assert.equal(errorCode(none), 'SOLD_OUT');
      await waitFor(async () => (await availability(eventId)).ga[floor] === 0, 2000);
      const wrongKind = await put(eventId, c!.headers, { ga: { section: 'Nowhere', quantity: 1 } });
      assert.equal(errorCode(wrongKind), 'VALIDATION_FAILED');
    });

    it('picks best-available seats together in the best-priced section, never the same seats twice', async () => {
      const { eventId, seats } = await onSaleEvent(t.app);
      const [a, b, c] = await buyers(eventId, 3);
      const first = await put(eventId, a!.headers, { bestAvailable: { quantity: 3 } });
      assert.equal(first.statusCode, 200, first.body);
      const picked = first.json().hold.seats as { id: string; row: string; section: string }[];
      assert.equal(picked.length, 3);
      assert.ok(picked.every((s) => s.section === 'Stalls' && s.row === picked[0]!.row));
      const indexes = picked.map((p) => seats.find((s) => s.id === p.id)!.index).sort((x, y) => x - y);
      assert.equal(indexes[2]! - indexes[0]!, 2, 'adjacent');
      const second = await put(eventId, b!.headers, { bestAvailable: { quantity: 3 } });
      const again = second.json().hold.seats.map((s: { id: string }) => s.id);
      assert.ok(again.every((id: string) => !picked.some((p) => p.id === id)));
      const circle = await put(eventId, c!.headers, { bestAvailable: { quantity: 2, section: 'Circle' } });
      assert.ok(circle.json().hold.seats.every((s: { section: string }) => s.section === 'Circle'));
    });

    it('serves 24 simultaneous best-available buyers of a roomy section without a 409', async () => {
      const venue = { name: 'Roomy', sections: [{ name: 'Hall', kind: 'seated', grid: { rows: 20, seatsPerRow: 20 } }] };
      const { eventId } = await onSaleEvent(t.app, { prices: [{ section: 'Hall', amount: 100, currency: 'USD' }] }, venue);
      const racers = await buyers(eventId, 24);
      // All read the same snapshot and would choose the same block; losers must spread out, not collide again.
      const replies = await Promise.all(racers.map((b) => put(eventId, b.headers, { bestAvailable: { quantity: 2 } })));
      assert.deepEqual(
        replies.filter((r) => r.statusCode !== 200).map((r) => r.body),
        [],
      );
      const held = replies.flatMap((r) => r.json<{ hold: { seats: { id: string }[] } }>().hold.seats.map((s) => s.id));
      assert.equal(new Set(held).size, 48, 'no seat held twice');
    });

    it('answers best-available with SOLD_OUT when nothing is free and SEATS_UNAVAILABLE when nothing fits', async () => {
      const venue = { name: 'Tiny', sections: [{ name: 'Row', kind: 'seated', grid: { rows: 1, seatsPerRow: 4 } }] };
      const { eventId, seats } = await onSaleEvent(t.app, { prices: [{ section: 'Row', amount: 100, currency: 'USD' }] }, venue);
      const [a, b, c] = await buyers(eventId, 3);
      assert.equal((await put(eventId, a!.headers, { seats: [seats[1]!.id] })).statusCode, 200);
      const apart = await put(eventId, b!.headers, { bestAvailable: { quantity: 3 } });
      assert.equal(apart.statusCode, 409);
      assert.equal(errorCode(apart), 'SEATS_UNAVAILABLE');
      assert.equal((await put(eventId, b!.headers, { seats: [seats[0]!.id, seats[2]!.id, seats[3]!.id] })).statusCode, 200);
      const none = await put(eventId, c!.headers, { bestAvailable: { quantity: 1 } });
      assert.equal(errorCode(none), 'SOLD_OUT');
    });

    it("counts the buyer's own held seats as free for their best-available, in a row full to everyone else", async () => {
      const venue = { name: 'Pair', sections: [{ name: 'Row', kind: 'seated', grid: { rows: 1, seatsPerRow: 4 } }] };
      const { eventId, seats } = await onSaleEvent(t.app, { prices: [{ section: 'Row', amount: 100, currency: 'USD' }] }, venue);
      const [a, b] = await buyers(eventId, 2);
      assert.equal((await put(eventId, a!.headers, { seats: [seats[0]!.id, seats[1]!.id] })).statusCode, 200);
      assert.equal((await put(eventId, b!.headers, { seats: [seats[2]!.id, seats[3]!.id] })).statusCode, 200);
      // Every bit of the row is set; A's two seats are still free for A.
      const again = await put(eventId, a!.headers, { bestAvailable: { quantity: 2 } });
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(
        again
          .json<{ hold: { seats: { id: string }[] } }>()
          .hold.seats.map((s) => s.id)
          .sort(),
        [seats[0]!.id, seats[1]!.id].sort(),
      );
      const more = await put(eventId, a!.headers, { bestAvailable: { quantity: 3 } });
      assert.equal(errorCode(more), 'SEATS_UNAVAILABLE');
    });

    it('serves availability with Cache-Control max-age=1 and 404 for an unknown event', async () => {
      const { eventId } = await onSaleEvent(t.app);
      const res = await t.app.inject({ method: 'GET', url: `/api/events/${eventId}/availability` });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['cache-control']), /max-age=1/);
      const body = res.json();
      assert.equal(body.seatCount, 74);
      assert.equal(Buffer.from(body.unavailable, 'base64').length, 10);
      assert.equal(Object.values(body.ga)[0], 100);
      const missing = await t.app.inject({ method: 'GET', url: '/api/events/evt_nope/availability' });
      assert.equal(missing.statusCode, 404);
    });

    it('frees the seats of an expired hold within a second of expiresAt, with no request', async () => {
      const { eventId, seats } = await onSaleEvent(t.app, { holdSeconds: 1 });
      const [a] = await buyers(eventId, 1);
      const res = await put(eventId, a!.headers, { seats: [seats[5]!.id, seats[6]!.id] });
      const expiresAt = Date.parse(res.json().hold.expiresAt);
      const { inventory } = t.app.services;
      // Read the store directly (not the HTTP cache) so the measurement is of the sweeper alone.
      await waitFor(async () => (await inventory.listHolds(eventId)).size === 0, 3000, 10);
      const freedAt = Date.now();
      assert.ok(freedAt - expiresAt < 1000, `freed ${freedAt - expiresAt} ms after expiry`);
      assert.ok(freedAt >= expiresAt);
      await waitFor(async () => takenIndexes(await availability(eventId)).length === 0, 1000);
    });

    it('turns a hold into ordered seats on commit; releaseSeats frees them', async () => {
      const { eventId, seats } = await onSaleEvent(t.app, { holdSeconds: 1 });
      const [a] = await buyers(eventId, 1);
      await put(eventId, a!.headers, { seats: [seats[0]!.id, seats[1]!.id] });
      const { inventory } = t.app.services;
      const committed = await inventory.commitHold(eventId, a!.id);
      assert.ok(committed.ok);
      assert.deepEqual(
        committed.seats.map((s) => s.id),
        [seats[0]!.id, seats[1]!.id],
      );
      assert.equal((await get(eventId, a!.headers)).statusCode, 404);
      assert.deepEqual(await inventory.commitHold(eventId, a!.id), { ok: false, code: 'NO_HOLD' });
      // Past the hold's expiry the ordered seats stay taken.
      await new Promise((resolve) => setTimeout(resolve, 1300));
      assert.deepEqual(takenIndexes((await inventory.availability.snapshot(eventId)).body), [0, 1]);
      await inventory.releaseSeats(eventId, [0, 1]);
      await waitFor(async () => takenIndexes(await availability(eventId)).length === 0, 1000);
    });

    it('rebuilds availability from the database when the store has lost the event', async () => {
      const { eventId, seats, sections } = await onSaleEvent(t.app);
      const [a, b] = await buyers(eventId, 2);
      const standing = sections.find((s) => s.kind === 'ga')!.id;
      await put(eventId, a!.headers, { seats: [seats[0]!.id] });
      // An order the orders module wrote: seat 2 pending, 4 GA places paid.
      await t.db.query(
        `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, expires_at) VALUES ($1, $2, $3, 'pending', 0, 'USD', now() + interval '1 hour')`,
        [`ord_${eventId}`, eventId, b!.id],
      );
      await t.db.query(
        `INSERT INTO order_items (id, order_id, event_id, section_id, seat_id, quantity, price_amount)
         VALUES ($1, $2, $3, $4, $5, 1, 0), ($6, $2, $3, $7, NULL, 4, 0)`,
        [`oi1_${eventId}`, `ord_${eventId}`, eventId, sections[0]!.id, seats[2]!.id, `oi2_${eventId}`, standing],
      );
      // The store forgets the event (a Redis flush of its keys, or a restart of this process's memory).
      if (store === 'redis') {
        const redis = await connectTestRedis();
        const k = eventKeys(eventId);
        await redis.client.del([k.meta, k.bits, k.ga, k.holds, k.expiries]);
        await redis.quit();
      } else await t.app.services.inventory.dropHotState(eventId);
      await waitFor(async () => {
        const body = await availability(eventId);
        return takenIndexes(body).join() === '2' && body.ga[standing] === 96;
      }, 2000);
      // The ordered seat is refused; the held-but-not-ordered one was lost with the flush and is free.
      const res = await put(eventId, a!.headers, { seats: [seats[2]!.id] });
      assert.equal(errorCode(res), 'SEATS_UNAVAILABLE');
      assert.equal((await put(eventId, b!.headers, { seats: [seats[0]!.id] })).statusCode, 200);
    });
  });
}
