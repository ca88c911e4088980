// The door's list (GET /api/events/:id/checkin/changes): the event's tickets checked in or voided,
// a change at a time, for a check-in page that must go on refusing used and refunded tickets while
// the venue's connection is down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, dbShapes, errorCode, makeUser, type TestApp, type TestUser } from './helpers.ts';
import { admit, type Buyer, bulkBuyers, holdAndOrder, onSaleEvent } from './inventory.helpers.ts';

const shapes = await dbShapes();
const card = { card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } };

interface Changes {
  tickets: { id: string; status: 'used' | 'void'; at: string }[];
  cursor: string | null;
  more: boolean;
}

for (const shape of shapes) {
  describe(`the door's list of used and void tickets (${shape})`, () => {
    let t: TestApp;
    let event: Awaited<ReturnType<typeof onSaleEvent>>;
    let staff: TestUser;
    const tickets: { id: string; code: string; orderId: string }[] = [];
    const changes = async (query = '', auth: Record<string, string> = staff.auth, eventId = event.eventId) =>
      t.app.inject({ method: 'GET', url: `/api/events/${eventId}/checkin/changes${query}`, headers: auth });
    /** Moves every change older by a minute: past the few seconds the list waits for commits to settle. */
    const age = () =>
      t.db.query(
        `UPDATE tickets SET checked_in_at = checked_in_at - interval '1 minute', voided_at = voided_at - interval '1 minute'
          WHERE event_id = $1 AND status <> 'valid'`,
        [event.eventId],
      );
    const scan = (code: string, more: Record<string, unknown> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/api/checkin',
        headers: staff.auth,
        payload: { eventId: event.eventId, code, ...more },
      });
    const ticketRow = async (id: string) =>
      (await t.db.query<{ status: string; issued_at: Date }>('SELECT status, issued_at FROM tickets WHERE id = $1', [id]))[0]!;

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      event = await onSaleEvent(t.app);
      staff = await makeUser(t.app, 'staff');
      const buyers: Buyer[] = await bulkBuyers(t.app, 6);
      const stalls = event.seats.filter((s) => s.section === 'Stalls');
      for (const [n, buyer] of buyers.entries()) {
        await admit(t.app, buyer, event.eventId);
        const order = await holdAndOrder(t.app, buyer, event.eventId, [stalls[n]!.id], `door-${n}`);
        const paid = await t.app.inject({
          method: 'POST',
          url: `/api/orders/${order.id}/pay`,
          headers: { ...buyer.auth, 'idempotency-key': `door-pay-${n}` },
          payload: card,
        });
        assert.equal(paid.statusCode, 200, paid.body);
        const ticket = paid.json<{ tickets: { id: string; code: string }[] }>().tickets[0]!;
        tickets.push({ ...ticket, orderId: order.id });
      }
    });
    after(async () => t.close());

    it('lists nothing while every ticket is valid', async () => {
      const res = await changes();
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      assert.deepEqual(res.json(), { tickets: [], cursor: null, more: false });
    });

    it('lists tickets checked in and voided, oldest change first, once they have settled', async () => {
      assert.equal((await scan(tickets[0]!.code)).statusCode, 200);
      const refund = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${tickets[1]!.orderId}/cancel`,
        headers: event.organizer.auth,
      });
      assert.equal(refund.statusCode, 200, refund.body);
      // Seconds old at most: not listed yet (a transaction stamped about then may still be committing).
      assert.deepEqual((await changes()).json<Changes>().tickets, []);
      await age();
      const body = (await changes()).json<Changes>();
      assert.deepEqual(
        body.tickets.map((x) => [x.id, x.status]),
        [
          [tickets[0]!.id, 'used'],
          [tickets[1]!.id, 'void'],
        ],
      );
      assert.ok(Date.parse(body.tickets[0]!.at) <= Date.parse(body.tickets[1]!.at));
      assert.equal(body.more, false);
      // From the cursor on: nothing new, and the cursor stays where it was.
      const again = (await changes(`?after=${body.cursor}`)).json<Changes>();
      assert.deepEqual(again, { tickets: [], cursor: body.cursor, more: false });
    });

    it('brings a used ticket again, as void, when its order is refunded after it was used', async () => {
      const before = (await changes()).json<Changes>();
      assert.equal((await scan(tickets[2]!.code)).statusCode, 200);
      await age();
      const used = (await changes(`?after=${before.cursor}`)).json<Changes>();
      assert.deepEqual(
        used.tickets.map((x) => [x.id, x.status]),
        [[tickets[2]!.id, 'used']],
      );
      const refund = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${tickets[2]!.orderId}/cancel`,
        headers: event.organizer.auth,
      });
      assert.equal(refund.statusCode, 200, refund.body);
      await age();
      const voided = (await changes(`?after=${used.cursor}`)).json<Changes>();
      assert.deepEqual(
        voided.tickets.map((x) => [x.id, x.status]),
        [[tickets[2]!.id, 'void']],
      );
      // The whole list holds each ticket once, at its latest change.
      const all = (await changes()).json<Changes>().tickets.map((x) => `${x.id}:${x.status}`);
      assert.deepEqual(all.sort(), [`${tickets[0]!.id}:used`, `${tickets[1]!.id}:void`, `${tickets[2]!.id}:void`].sort());
    });

    it('keeps the door’s time of a check-in it sends once its connection is back, and lists it after what a door read before', async () => {
      const late = tickets[3]!;
      await t.db.query(`UPDATE tickets SET issued_at = issued_at - interval '2 hours' WHERE id = $1`, [late.id]);
      await age();
      const before = (await changes()).json<Changes>();
      const scannedAt = new Date(Date.now() - 3_600_000).toISOString();
      const res = await scan(late.code, { scannedAt });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<{ ticket: { checkedInAt: string } }>().ticket.checkedInAt, scannedAt);
      // Another door's scan is told when the holder was let in, an hour ago.
      const again = await scan(late.code);
      assert.equal(errorCode(again), 'ALREADY_CHECKED_IN');
      assert.equal(again.json<{ error: { details: { checkedInAt: string } } }>().error.details.checkedInAt, scannedAt);
      // The door list takes it at the server's time: a door that read the list before gets it next.
      await age();
      const next = (await changes(`?after=${before.cursor}`)).json<Changes>();
      assert.deepEqual(
        next.tickets.map((x) => [x.id, x.status]),
        [[late.id, 'used']],
      );
      assert.ok(Date.parse(next.tickets[0]!.at) > Date.parse(scannedAt) + 30 * 60_000, next.tickets[0]!.at);
    });

    it('keeps a door clock that is off between the ticket’s issue and now, and refuses a malformed time', async () => {
      const [early, other] = [tickets[4]!, tickets[5]!];
      for (const bad of ['yesterday', '2026-13-45T10:00:00Z', '', 1_700_000_000, null, 'x'.repeat(41)]) {
        const res = await scan(other.code, { scannedAt: bad });
        assert.equal(res.statusCode, 400, `${String(bad)}: ${res.body}`);
        assert.equal(errorCode(res), 'VALIDATION_FAILED');
      }
      assert.equal((await ticketRow(other.id)).status, 'valid', 'a refused check-in changes nothing');

      const ancient = await scan(early.code, { scannedAt: '2001-01-01T00:00:00Z' });
      assert.equal(ancient.statusCode, 200, ancient.body);
      const issued = (await ticketRow(early.id)).issued_at;
      assert.equal(ancient.json<{ ticket: { checkedInAt: string } }>().ticket.checkedInAt, issued.toISOString());

      const from = Date.now();
      const future = await scan(other.code, { scannedAt: new Date(from + 86_400_000).toISOString() });
      assert.equal(future.statusCode, 200, future.body);
      const at = Date.parse(future.json<{ ticket: { checkedInAt: string } }>().ticket.checkedInAt);
      assert.ok(at >= from - 1000 && at <= Date.now(), `now, not tomorrow: ${new Date(at).toISOString()}`);
    });

    it('is for door staff, the event’s organizer and admins, and refuses bad cursors with 400', async () => {
      assert.equal((await changes('', event.organizer.auth)).statusCode, 200);
      assert.equal((await changes('', (await makeUser(t.app, 'admin')).auth)).statusCode, 200);
      const other = await changes('', (await makeUser(t.app, 'organizer')).auth);
      assert.equal(other.statusCode, 403);
      assert.equal(errorCode(other), 'FORBIDDEN');
      assert.equal(errorCode(await changes('', (await makeUser(t.app, 'buyer')).auth)), 'FORBIDDEN');
      assert.equal(errorCode(await changes('', {})), 'UNAUTHENTICATED');
      const unknown = await changes('', staff.auth, 'evt_nosuchevent');
      assert.equal(unknown.statusCode, 404);
      for (const bad of ['?after=x', '?after=123', '?after=1.', `?after=${'9'.repeat(17)}.tkt_x`, '?limit=5', '?after=1.a%20b']) {
        const res = await changes(bad);
        assert.equal(res.statusCode, 400, `${bad}: ${res.body}`);
        assert.equal(errorCode(res), 'VALIDATION_FAILED');
      }
    });
  });
}
