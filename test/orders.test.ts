import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createTicketSigner } from '../src/modules/tickets/ticket-codes.ts';
import { createSigner } from '../src/platform/crypto.ts';
import { signWebhook } from '../src/modules/payments/webhook-signature.ts';
import { buildApp } from '../src/app.ts';
import { buildTestApp, dbShapes, errorCode, freshDb, makeUser, queueEvent, SECRET, testConfig, type TestApp } from './helpers.ts';
import { admit, bulkBuyers, holdAndOrder, type Buyer, onSaleEvent, takenIndexes, waitFor } from './inventory.helpers.ts';

const shapes = await dbShapes();
const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' };
const card = (number: string) => ({ card: { ...CARD, number } });
let keys = 0;
const key = () => `key-${Date.now()}-${++keys}`;

for (const shape of shapes) {
  describe(`orders, payment, tickets and check-in (${shape})`, () => {
    let t: TestApp;
    let event: Awaited<ReturnType<typeof onSaleEvent>>;
    let buyers: Buyer[] = [];
    let nextBuyer = 0;
    let staff: Awaited<ReturnType<typeof makeUser>>;

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      event = await onSaleEvent(t.app);
      buyers = await bulkBuyers(t.app, 60);
      staff = await makeUser(t.app, 'staff');
    });
    after(async () => t.close());

    const inject = (opts: InjectOptions) => t.app.inject(opts);
    let nextSeat = 0;
    /** An admitted buyer holding `n` fresh seats. */
    async function holding(n = 2, eventId = event.eventId, seats = event.seats) {
      const buyer = await admit(t.app, buyers[nextBuyer++]!, eventId);
      const ids = seats.slice(nextSeat, nextSeat + n).map((s) => s.id);
      nextSeat += n;
      const res = await inject({
        method: 'PUT',
        url: `/api/events/${eventId}/hold`,
        headers: buyer.headers,
        payload: { seats: ids },
      });
      assert.equal(res.statusCode, 200, res.body);
      return { buyer, ids, hold: res.json().hold };
    }
    async function order(buyer: Buyer, eventId = event.eventId, k = key()) {
      return inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...buyer.headers, 'idempotency-key': k },
        payload: { eventId },
      });
    }
    async function pay(buyer: Buyer, orderId: string, number = CARD.number, k = key()) {
      return inject({
        method: 'POST',
        url: `/api/orders/${orderId}/pay`,
        headers: { ...buyer.auth, 'idempotency-key': k },
        payload: card(number),
      });
    }
    async function availability() {
      return (await inject({ method: 'GET', url: `/api/events/${event.eventId}/availability` })).json<{
        unavailable: string;
        seatCount: number;
      }>();
    }
    const seatIndex = (id: string) => event.seats.find((s) => s.id === id)!.index;

    it('turns a hold into a pending order whose deadline is the hold’s', async () => {
      const { buyer, ids, hold } = await holding(2);
      const res = await order(buyer);
      assert.equal(res.statusCode, 201, res.body);
      const o = res.json().order;
      assert.equal(o.status, 'pending');
      assert.equal(o.expiresAt, hold.expiresAt);
      assert.deepEqual(o.items.map((i: { seatId: string }) => i.seatId).sort(), [...ids].sort());
      assert.equal(o.total.amount, hold.total.amount);
      // The hold is gone; the seats stay taken.
      const gone = await inject({ method: 'GET', url: `/api/events/${event.eventId}/hold`, headers: buyer.headers });
      assert.equal(errorCode(gone), 'NO_HOLD');
      const taken = takenIndexes(await availability());
      for (const id of ids) assert.ok(taken.includes(seatIndex(id)));
    });

    it('replays the same response for the same Idempotency-Key and refuses it with another body', async () => {
      const { buyer } = await holding(1);
      const k = key();
      const first = await order(buyer, event.eventId, k);
      const again = await order(buyer, event.eventId, k);
      assert.equal(first.statusCode, 201);
      assert.equal(again.statusCode, 201);
      assert.deepEqual(again.json(), first.json());
      // The same key for an order at another event the buyer is also admitted to.
      const elsewhere = await onSaleEvent(t.app);
      const token = (await inject({ method: 'POST', url: `/api/events/${elsewhere.eventId}/queue`, headers: buyer.auth })).json()
        .queue.admission.token;
      const other = await inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...buyer.auth, 'x-admission-token': token, 'idempotency-key': k },
        payload: { eventId: elsewhere.eventId },
      });
      assert.equal(other.statusCode, 409);
      assert.equal(errorCode(other), 'IDEMPOTENCY_KEY_REUSED');
    });

    it('replays the stored order to a retry with the same key after the admission ended, and to nothing else', async () => {
      const { buyer } = await holding(1);
      const k = key();
      const first = await order(buyer, event.eventId, k);
      assert.equal(first.statusCode, 201, first.body);
      const paid = await pay(buyer, first.json().order.id);
      assert.equal(paid.statusCode, 200, paid.body);
      // Paid: the buyer's turn is over, so the admission token no longer passes ...
      const fresh = await order(buyer);
      assert.equal(fresh.statusCode, 403);
      assert.equal(errorCode(fresh), 'NOT_ADMITTED');
      // ... but a retry of the request that created the order gets what it got then.
      const retry = await order(buyer, event.eventId, k);
      assert.equal(retry.statusCode, 201, retry.body);
      assert.deepEqual(retry.json(), first.json());
      // The same key for another event is not that request.
      const other = await order(buyer, `${event.eventId}x`, k);
      assert.equal(other.statusCode, 403);
      assert.equal(errorCode(other), 'NOT_ADMITTED');
    });

    it('pays once per key: the same key with another card is refused, and a key is required', async () => {
      const { buyer } = await holding(1);
      const o = (await order(buyer)).json().order;
      const k = key();
      const declined = await pay(buyer, o.id, '4000000000000002', k);
      assert.equal(declined.statusCode, 402);
      // The same key and card: the same answer, without a second attempt at the gateway.
      const again = await pay(buyer, o.id, '4000000000000002', k);
      assert.equal(again.statusCode, 402);
      assert.deepEqual(again.json(), declined.json());
      const otherCard = await pay(buyer, o.id, CARD.number, k);
      assert.equal(otherCard.statusCode, 409, otherCard.body);
      assert.equal(errorCode(otherCard), 'IDEMPOTENCY_KEY_REUSED');
      const noKey = await inject({
        method: 'POST',
        url: `/api/orders/${o.id}/pay`,
        headers: buyer.auth,
        payload: card(CARD.number),
      });
      assert.equal(noKey.statusCode, 400);
      assert.equal(errorCode(noKey), 'VALIDATION_FAILED');
      const attempts = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM payments WHERE order_id = $1', [o.id]);
      assert.equal(attempts[0]!.n, 1, 'one payment attempt for the key');
      // A new key pays it.
      assert.equal((await pay(buyer, o.id)).statusCode, 200);
    });

    it('refuses expired, forged, foreign and misdirected admission tokens on the hold and order routes', async () => {
      const { buyer } = await holding(1);
      const other = await admit(t.app, buyers[nextBuyer++]!, event.eventId);
      const signer = createSigner(SECRET, 'admission');
      const claims = { u: buyer.id, e: event.eventId, n: 1, x: Date.now() + 600_000 };
      const tokens: Record<string, string> = {
        expired: signer.sign({ ...claims, x: Date.now() - 1000 }),
        forged: createSigner('not-the-secret', 'admission').sign(claims),
        "another buyer's": other.headers['x-admission-token']!,
        "another event's": signer.sign({ ...claims, e: `${event.eventId}x` }),
        'a session token as one': buyer.auth.authorization.slice('Bearer '.length),
        oversized: `${signer.sign(claims)}${'A'.repeat(5000)}`,
      };
      for (const [what, token] of Object.entries(tokens)) {
        const headers = { ...buyer.auth, 'x-admission-token': token };
        const hold = await inject({ method: 'GET', url: `/api/events/${event.eventId}/hold`, headers });
        assert.equal(hold.statusCode, 403, `${what}: ${hold.body}`);
        assert.equal(errorCode(hold), 'NOT_ADMITTED', what);
        const res = await inject({
          method: 'POST',
          url: '/api/orders',
          headers: { ...headers, 'idempotency-key': key() },
          payload: { eventId: event.eventId },
        });
        assert.equal(res.statusCode, 403, `${what}: ${res.body}`);
        assert.equal(errorCode(res), 'NOT_ADMITTED', what);
      }
      // The buyer's own token still works: the refusals above changed nothing.
      assert.equal((await order(buyer)).statusCode, 201);
    });

    it('refuses an order without a key, without admission, or without a hold', async () => {
      const buyer = await admit(t.app, buyers[nextBuyer++]!, event.eventId);
      const noKey = await inject({
        method: 'POST',
        url: '/api/orders',
        headers: buyer.headers,
        payload: { eventId: event.eventId },
      });
      assert.equal(noKey.statusCode, 400);
      assert.equal(errorCode(noKey), 'VALIDATION_FAILED');
      const noToken = await inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...buyer.auth, 'idempotency-key': key() },
        payload: { eventId: event.eventId },
      });
      assert.equal(noToken.statusCode, 403);
      assert.equal(errorCode(noToken), 'NOT_ADMITTED');
      const noHold = await order(buyer);
      assert.equal(noHold.statusCode, 409);
      assert.equal(errorCode(noHold), 'NO_HOLD');
    });

    it('pays with 4242…, issues one signed ticket per seat, and lists them', async () => {
      const { buyer, ids } = await holding(3);
      const o = (await order(buyer)).json().order;
      // The replies are built from what was written; they say what a later read says.
      const read = await inject({ method: 'GET', url: `/api/orders/${o.id}`, headers: buyer.auth });
      assert.deepEqual(read.json().order, o);
      const res = await pay(buyer, o.id);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      const readPaid = await inject({ method: 'GET', url: `/api/orders/${o.id}`, headers: buyer.auth });
      assert.deepEqual(readPaid.json().order, body.order);
      const listed = (await inject({ method: 'GET', url: '/api/tickets', headers: buyer.auth })).json().tickets;
      assert.deepEqual(
        [...listed].sort((a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1)),
        body.tickets,
      );
      assert.equal(body.order.status, 'paid');
      assert.ok(body.order.paidAt);
      assert.equal(body.tickets.length, 3);
      const signer = createTicketSigner(SECRET);
      for (const ticket of body.tickets) {
        assert.equal(ticket.status, 'valid');
        assert.equal(signer.verify(ticket.code)?.e, event.eventId);
      }
      const key = await inject({ method: 'GET', url: '/api/tickets/public-key' });
      assert.deepEqual(key.json(), { alg: 'Ed25519', publicKey: signer.publicKey });
      const mine = await inject({ method: 'GET', url: '/api/tickets', headers: buyer.auth });
      assert.equal(mine.json().tickets.length, 3);
      const qr = await inject({ method: 'GET', url: `/api/tickets/${body.tickets[0].id}/qr.svg`, headers: buyer.auth });
      assert.equal(qr.statusCode, 200);
      assert.match(String(qr.headers['content-type']), /image\/svg\+xml/);
      const stranger = await inject({
        method: 'GET',
        url: `/api/tickets/${body.tickets[0].id}/qr.svg`,
        headers: buyers[nextBuyer++]!.auth,
      });
      assert.equal(stranger.statusCode, 404);
      const orders = await inject({ method: 'GET', url: '/api/orders', headers: buyer.auth });
      assert.equal(orders.json().orders[0].status, 'paid');
      assert.deepEqual(
        orders
          .json()
          .orders[0].items.map((i: { seatId: string }) => i.seatId)
          .sort(),
        [...ids].sort(),
      );
      const payAgain = await pay(buyer, o.id);
      assert.equal(payAgain.statusCode, 409);
      assert.equal(errorCode(payAgain), 'ORDER_NOT_PAYABLE');
    });

    it('declines the test decline cards with their reasons and leaves the order payable', async () => {
      const { buyer } = await holding(1);
      const o = (await order(buyer)).json().order;
      for (const [number, reason] of [
        ['4000000000000002', 'card_declined'],
        ['4000000000009995', 'insufficient_funds'],
        ['4242424242424241', 'incorrect_number'],
      ] as const) {
        const res = await pay(buyer, o.id, number);
        assert.equal(res.statusCode, 402);
        assert.equal(errorCode(res), 'PAYMENT_DECLINED');
        assert.equal(res.json().error.details.reason, reason);
      }
      assert.equal((await pay(buyer, o.id)).statusCode, 200);
    });

    it("records each attempt as a payment of the order's amount, lets an admin pay a buyer's order, and opens none for a paid one", async () => {
      const { buyer } = await holding(2);
      const o = (await order(buyer)).json().order;
      assert.equal((await pay(buyer, o.id, '4000000000000002')).statusCode, 402);
      const admin = await makeUser(t.app, 'admin');
      const res = await inject({
        method: 'POST',
        url: `/api/orders/${o.id}/pay`,
        headers: { ...admin.auth, 'idempotency-key': key() },
        payload: card(CARD.number),
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().order.status, 'paid');
      const payments = async () =>
        t.db.query<{ status: string; amount: number; currency: string }>(
          'SELECT status, amount, currency FROM payments WHERE order_id = $1 ORDER BY created_at',
          [o.id],
        );
      const rows = await payments();
      assert.deepEqual(
        rows.map((r) => r.status),
        ['declined', 'succeeded'],
      );
      for (const r of rows) assert.deepEqual({ amount: r.amount, currency: r.currency }, o.total);
      const late = await pay(buyer, o.id);
      assert.equal(late.statusCode, 409);
      assert.equal(errorCode(late), 'ORDER_NOT_PAYABLE');
      assert.equal((await payments()).length, 2);
    });

    it('answers 202 for the asynchronous card and pays the order when the signed webhook arrives', async () => {
      const { buyer } = await holding(1);
      const o = (await order(buyer)).json().order;
      const res = await pay(buyer, o.id, '4000000000000077');
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(res.json().order.status, 'pending');
      await waitFor(
        async () =>
          (await inject({ method: 'GET', url: `/api/orders/${o.id}`, headers: buyer.auth })).json().order.status === 'paid',
        8000,
        100,
      );
      const tickets = (await inject({ method: 'GET', url: '/api/tickets', headers: buyer.auth })).json().tickets;
      assert.equal(tickets.filter((x: { orderId: string }) => x.orderId === o.id).length, 1);
    });

    it('charges once and issues one set of tickets for 50 parallel pays with one key', async () => {
      const { buyer } = await holding(2);
      const o = (await order(buyer)).json().order;
      const k = key();
      const replies = await Promise.all(Array.from({ length: 50 }, () => pay(buyer, o.id, CARD.number, k)));
      assert.deepEqual([...new Set(replies.map((r) => r.statusCode))], [200]);
      assert.equal(new Set(replies.map((r) => r.body)).size, 1, 'every reply is the same stored reply');
      const charges = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_gateway_charges WHERE order_id = $1', [
        o.id,
      ]);
      assert.equal(charges[0]!.n, 1);
      const tickets = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE order_id = $1', [o.id]);
      assert.equal(tickets[0]!.n, 2);
    });

    it('refuses webhooks with a bad or stale signature', async () => {
      const body = JSON.stringify({ id: 'gwevt_x', type: 'charge.succeeded', data: { charge: { idempotencyKey: 'nope' } } });
      const now = Math.floor(Date.now() / 1000);
      for (const signature of [
        undefined,
        't=1,v1=00',
        signWebhook('wrong-secret', body, now),
        signWebhook('webhook-secret-for-tests', body, now - 600),
      ]) {
        const res = await inject({
          method: 'POST',
          url: '/api/payments/webhook',
          headers: { 'content-type': 'application/json', ...(signature ? { 'tm-signature': signature } : {}) },
          payload: body,
        });
        assert.equal(res.statusCode, 400, String(signature));
        assert.equal(errorCode(res), 'BAD_SIGNATURE');
      }
    });

    it('applies a webhook delivered five times and out of order exactly once', async () => {
      const { buyer } = await holding(1);
      const o = (await order(buyer)).json().order;
      // Hold the gateway's own delivery back, so this test delivers by hand.
      await t.db.query("UPDATE test_gateway_webhooks SET deliver_after = now() + interval '1 hour' WHERE delivered_at IS NULL");
      const res = await pay(buyer, o.id, '4000000000000077');
      assert.equal(res.statusCode, 202);
      await t.db.query("UPDATE test_gateway_webhooks SET deliver_after = now() + interval '1 hour' WHERE delivered_at IS NULL");
      const hook = (
        await t.db.query<{ body: string; charge_id: string }>(
          `SELECT w.body, w.charge_id FROM test_gateway_webhooks w JOIN test_gateway_charges c ON c.id = w.charge_id WHERE c.order_id = $1`,
          [o.id],
        )
      )[0]!;
      const stale = JSON.parse(hook.body);
      const processing = JSON.stringify({
        ...stale,
        id: `${stale.id}_p`,
        type: 'charge.processing',
        data: { charge: { ...stale.data.charge, status: 'processing' } },
      });
      const now = () => Math.floor(Date.now() / 1000);
      const send = (body: string) => t.app.services.deliverWebhook(body, signWebhook('webhook-secret-for-tests', body, now()));
      const statuses = await Promise.all([
        send(hook.body),
        send(hook.body),
        send(processing),
        send(hook.body),
        send(hook.body),
        send(hook.body),
      ]);
      assert.deepEqual([...new Set(statuses)], [200]);
      await send(processing); // a late "processing" after success changes nothing
      const paid = (await inject({ method: 'GET', url: `/api/orders/${o.id}`, headers: buyer.auth })).json().order;
      assert.equal(paid.status, 'paid');
      const tickets = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE order_id = $1', [o.id]);
      assert.equal(tickets[0]!.n, 1);
      const events = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE topic = 'order.paid' AND payload->>'orderId' = $1",
        [o.id],
      );
      assert.equal(events[0]!.n, 1);
      const applied = await t.db.query('SELECT 1 FROM payment_events WHERE event_id = $1', [stale.id]);
      assert.equal(applied.length, 1, 'the success is recorded as applied');
      await t.db.query('UPDATE test_gateway_webhooks SET deliver_after = now() WHERE delivered_at IS NULL');
    });

    it('checks a ticket in once: the second scan, a wrong event, a forgery and a buyer are refused', async () => {
      const { buyer } = await holding(1);
      const o = (await order(buyer)).json().order;
      const ticket = (await pay(buyer, o.id)).json().tickets[0];
      const scan = (code: string, eventId = event.eventId, headers = staff.auth) =>
        inject({ method: 'POST', url: '/api/checkin', headers, payload: { eventId, code } });
      const first = await scan(ticket.code);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().ticket.status, 'used');
      const second = await scan(ticket.code);
      assert.equal(second.statusCode, 409);
      assert.equal(errorCode(second), 'ALREADY_CHECKED_IN');
      assert.equal(second.json().error.details.checkedInAt, first.json().ticket.checkedInAt);
      const elsewhere = await scan(ticket.code, 'evt_elsewhere');
      assert.equal(elsewhere.statusCode, 409);
      assert.equal(errorCode(elsewhere), 'WRONG_EVENT');
      const forged = await scan(`${ticket.code.slice(0, -4)}AAAA`);
      assert.equal(forged.statusCode, 400);
      assert.equal(errorCode(forged), 'INVALID_TICKET');
      assert.equal((await scan('hello')).statusCode, 400);
      assert.equal((await scan(ticket.code, event.eventId, buyer.auth)).statusCode, 403);
      const otherOrganizer = await makeUser(t.app, 'organizer');
      assert.equal((await scan(ticket.code, event.eventId, otherOrganizer.auth)).statusCode, 403);
    });

    it('lets exactly one of 20 simultaneous scans of a ticket through', async () => {
      const { buyer } = await holding(1);
      const o = (await order(buyer)).json().order;
      const ticket = (await pay(buyer, o.id)).json().tickets[0];
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          inject({
            method: 'POST',
            url: '/api/checkin',
            headers: staff.auth,
            payload: { eventId: event.eventId, code: ticket.code },
          }),
        ),
      );
      assert.equal(results.filter((r) => r.statusCode === 200).length, 1);
      assert.equal(results.filter((r) => errorCode(r) === 'ALREADY_CHECKED_IN').length, 19);
    });

    it('lets the buyer cancel a pending order, freeing its seats, but not a paid one', async () => {
      const { buyer, ids } = await holding(2);
      const o = (await order(buyer)).json().order;
      const res = await inject({ method: 'POST', url: `/api/orders/${o.id}/cancel`, headers: buyer.auth });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().order.status, 'canceled');
      const taken = takenIndexes(await availability());
      for (const id of ids) assert.ok(!taken.includes(seatIndex(id)), 'seat free again');
      // Again: nothing left to cancel, so the order is answered as it is.
      const again = await inject({ method: 'POST', url: `/api/orders/${o.id}/cancel`, headers: buyer.auth });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json().order.status, 'canceled');
      assert.equal(errorCode(await pay(buyer, o.id)), 'ORDER_NOT_PAYABLE');

      const paid = await holding(1);
      const p = (await order(paid.buyer)).json().order;
      await pay(paid.buyer, p.id);
      const refused = await inject({ method: 'POST', url: `/api/orders/${p.id}/cancel`, headers: paid.buyer.auth });
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(errorCode(refused), 'FORBIDDEN');
      assert.equal(
        (await t.app.services.orders.get({ userId: paid.buyer.id, sessionId: 's', role: 'buyer' }, p.id)).status,
        'paid',
      );
      const stranger = await inject({ method: 'POST', url: `/api/orders/${p.id}/cancel`, headers: buyers[nextBuyer++]!.auth });
      assert.equal(stranger.statusCode, 404);
    });

    it('lets the organizer refund a paid order: tickets void, seats free, the charge refunded', async () => {
      const { buyer, ids } = await holding(1);
      const o = (await order(buyer)).json().order;
      const ticket = (await pay(buyer, o.id)).json().tickets[0];
      const res = await inject({ method: 'POST', url: `/api/orders/${o.id}/cancel`, headers: event.organizer.auth });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().order.status, 'refunded');
      const scan = await inject({
        method: 'POST',
        url: '/api/checkin',
        headers: staff.auth,
        payload: { eventId: event.eventId, code: ticket.code },
      });
      assert.equal(scan.statusCode, 410);
      assert.equal(errorCode(scan), 'TICKET_VOID');
      assert.ok(!takenIndexes(await availability()).includes(seatIndex(ids[0]!)));
      // The refund is carried out by the outbox's consumer: by this drain, or by the running relay
      // that may have claimed the message first.
      const chargeStatus = async () =>
        (await t.db.query<{ status: string }>('SELECT status FROM test_gateway_charges WHERE order_id = $1', [o.id]))[0]!.status;
      await waitFor(
        async () => {
          await t.app.services.relay.drain();
          return (await chargeStatus()) === 'refunded';
        },
        5000,
        50,
      );
      const other = await makeUser(t.app, 'organizer');
      assert.equal((await inject({ method: 'POST', url: `/api/orders/${o.id}/cancel`, headers: other.auth })).statusCode, 404);
    });

    it('counts orders, payments and tickets by status in /metrics', async () => {
      const res = await inject({ method: 'GET', url: '/metrics' });
      const paid = /ticketmax_orders\{status="paid"\} (\d+)/.exec(res.body);
      const rows = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE status = 'paid'");
      assert.equal(Number(paid?.[1]), rows[0]!.n);
      assert.match(res.body, /ticketmax_payments\{status="declined"\} [1-9]/);
      assert.match(res.body, /ticketmax_tickets\{status="used"\} [1-9]/);
      assert.match(res.body, /ticketmax_outbox_unpublished \d+/);
    });

    it('buys GA places: one ticket per place', async () => {
      const buyer = await admit(t.app, buyers[nextBuyer++]!, event.eventId);
      const hold = await inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: buyer.headers,
        payload: { ga: { section: 'Standing', quantity: 3 } },
      });
      assert.equal(hold.statusCode, 200, hold.body);
      const o = (await order(buyer)).json().order;
      assert.equal(o.items[0].quantity, 3);
      assert.equal(o.total.amount, 3 * 2000);
      assert.deepEqual((await inject({ method: 'GET', url: `/api/orders/${o.id}`, headers: buyer.auth })).json().order, o);
      const paid = await pay(buyer, o.id);
      assert.equal(paid.json().tickets.length, 3);
      assert.deepEqual(
        paid.json().tickets.map((t: { seat: unknown }) => t.seat),
        Array(3).fill({ label: null, row: null, section: 'Standing' }),
      );
      assert.deepEqual(
        (await inject({ method: 'GET', url: `/api/orders/${o.id}`, headers: buyer.auth })).json().order,
        paid.json().order,
      );
    });
  });

  describe(`an order from a hold that ran out (${shape})`, () => {
    let t: TestApp;
    before(async () => {
      // No sweepers in this process: the hold runs out but nobody has released it yet.
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1', TICKETMAX_ROLES: 'api' });
    });
    after(async () => t.close());

    it('answers 410 HOLD_EXPIRED and frees the seats', async () => {
      const event = await onSaleEvent(t.app, { holdSeconds: 1 });
      const [b] = await bulkBuyers(t.app, 1);
      const buyer = await admit(t.app, b!, event.eventId);
      const hold = await t.app.inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: buyer.headers,
        payload: { seats: [event.seats[0]!.id] },
      });
      assert.equal(hold.statusCode, 200, hold.body);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...buyer.headers, 'idempotency-key': 'late' },
        payload: { eventId: event.eventId },
      });
      assert.equal(res.statusCode, 410, res.body);
      assert.equal(errorCode(res), 'HOLD_EXPIRED');
      const orders = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE event_id = $1', [
        event.eventId,
      ]);
      assert.equal(orders[0]!.n, 0);
    });
  });

  describe(`order expiry (${shape})`, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    });
    after(async () => t.close());

    /** The buyer's place in the event's waiting room, as their page reads it. */
    const queueOf = async (eventId: string, b: { auth: Record<string, string> }) =>
      (await t.app.inject({ method: 'GET', url: `/api/events/${eventId}/queue`, headers: b.auth })).json<{
        queue: { state: string };
      }>().queue;
    /** The waiting room as the event's organizer sees it. */
    const roomOf = (event: { eventId: string; organizer: { auth: Record<string, string> } }) =>
      t.app.inject({ method: 'GET', url: `/api/admin/events/${event.eventId}/queue`, headers: event.organizer.auth });

    it("gives an expired order's active slot in the waiting room to the next buyer", async () => {
      // One buyer in checkout at a time: the second waits until the first is done.
      const event = await onSaleEvent(t.app, { holdSeconds: 2, queue: { admitPerMinute: 6000, maxActive: 1 } });
      const [first, second] = await bulkBuyers(t.app, 2);
      const buyer = await admit(t.app, first!, event.eventId);
      const o = await holdAndOrder(t.app, buyer, event.eventId, [event.seats[0]!.id], 'a');
      const joined = await t.app.inject({ method: 'POST', url: `/api/events/${event.eventId}/queue`, headers: second!.auth });
      assert.equal(joined.json().queue.state, 'waiting');
      // Nobody pays: at the deadline the order expires, the first buyer's turn ends and the second's begins.
      await waitFor(async () => (await queueOf(event.eventId, second!)).state === 'admitted', 8000, 100);
      assert.equal(
        (await t.app.services.orders.get({ userId: first!.id, sessionId: 's', role: 'buyer' }, o.id)).status,
        'expired',
      );
      assert.equal((await queueOf(event.eventId, buyer)).state, 'left');
      const hold = await t.app.inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: buyer.headers,
        payload: { seats: [event.seats[1]!.id] },
      });
      assert.equal(hold.statusCode, 403);
      assert.equal(errorCode(hold), 'NOT_ADMITTED');
      const admin = await roomOf(event);
      assert.equal(admin.json().active, 1);
    });

    it("ends a paid buyer's turn after answering, and a waiting room that cannot be told does not fail the payment", async () => {
      const event = await onSaleEvent(t.app, { queue: { admitPerMinute: 6000, maxActive: 1 } });
      const [first, second] = await bulkBuyers(t.app, 2);
      const payOne = async (b: Buyer, seat: number, k: string) => {
        const o = await holdAndOrder(t.app, b, event.eventId, [event.seats[seat]!.id], k);
        return t.app.inject({
          method: 'POST',
          url: `/api/orders/${o.id}/pay`,
          headers: { ...b.auth, 'idempotency-key': k },
          payload: card(CARD.number),
        });
      };
      const buyer = await admit(t.app, first!, event.eventId);
      const joined = await t.app.inject({ method: 'POST', url: `/api/events/${event.eventId}/queue`, headers: second!.auth });
      assert.equal(joined.json().queue.state, 'waiting');
      const paid = await payOne(buyer, 0, 'p1');
      assert.equal(paid.statusCode, 200, paid.body);
      // The turn ends just after the answer: the one slot goes to the second buyer.
      await waitFor(async () => (await queueOf(event.eventId, second!)).state === 'admitted', 5000, 50);
      // Now the waiting room's store fails when told: the payment still answers with the paid order.
      const admission = t.app.services.admission;
      const original = Object.getOwnPropertyDescriptor(admission, 'finish')!;
      let told = 0;
      admission.finish = () => {
        told++;
        return Promise.reject(new Error('waiting room store unreachable'));
      };
      try {
        const next = await admit(t.app, second!, event.eventId);
        const res = await payOne(next, 1, 'p2');
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().order.status, 'paid');
        assert.equal(res.json().tickets.length, 1);
        await waitFor(async () => told === 1, 2000, 20);
      } finally {
        Object.defineProperty(admission, 'finish', original);
      }
      // Its slot was not given back (the admission's own deadline does that).
      const admin = await roomOf(event);
      assert.equal(admin.json().active, 1);
    });

    it('expires an unpaid order at its deadline with no request, frees its seats, refunds a late payment after resale', async () => {
      const event = await onSaleEvent(t.app, { holdSeconds: 2 });
      const [first, second, third] = await bulkBuyers(t.app, 3);
      const seat = event.seats[0]!;
      const buyer = await admit(t.app, first!, event.eventId);
      const o = await holdAndOrder(t.app, buyer, event.eventId, [seat.id], 'a');
      // The asynchronous card, whose confirmation is held back until after the deadline.
      const paying = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${o.id}/pay`,
        headers: { ...buyer.auth, 'idempotency-key': 'p' },
        payload: card('4000000000000077'),
      });
      assert.equal(paying.statusCode, 202);
      await t.db.query("UPDATE test_gateway_webhooks SET deliver_after = now() + interval '1 hour' WHERE delivered_at IS NULL");
      const deadline = Date.parse(o.expiresAt);
      await waitFor(
        async () => {
          const a = (await t.app.inject({ method: 'GET', url: `/api/events/${event.eventId}/availability` })).json();
          return !takenIndexes(a).includes(seat.index);
        },
        5000,
        50,
      );
      // The embedded sweeper runs every 250 ms and the availability route may serve a snapshot up
      // to 1 s old; the rest is headroom for a loaded two-core CI machine. A missed expiry fails
      // the wait above (nothing else frees the seat: no request touches this order).
      const lateMs = Date.now() - deadline;
      assert.ok(lateMs < 3000, `freed ${lateMs} ms after the deadline`);
      assert.equal(
        (await t.app.services.orders.get({ userId: first!.id, sessionId: 's', role: 'buyer' }, o.id)).status,
        'expired',
      );
      const late = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${o.id}/pay`,
        headers: { ...buyer.auth, 'idempotency-key': 'late' },
        payload: card(CARD.number),
      });
      assert.equal(late.statusCode, 410);
      assert.equal(errorCode(late), 'ORDER_EXPIRED');
      // No payment was opened for the expired order: only the asynchronous one held back above.
      assert.equal((await t.db.query('SELECT id FROM payments WHERE order_id = $1', [o.id])).length, 1);

      // Someone else buys the seat; then the held-back confirmation lands.
      const rival = await admit(t.app, second!, event.eventId);
      await t.app.inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: rival.headers,
        payload: { seats: [seat.id] },
      });
      const r = (
        await t.app.inject({
          method: 'POST',
          url: '/api/orders',
          headers: { ...rival.headers, 'idempotency-key': 'b' },
          payload: { eventId: event.eventId },
        })
      ).json().order;
      assert.equal(r.status, 'pending');
      await t.db.query('UPDATE test_gateway_webhooks SET deliver_after = now() WHERE delivered_at IS NULL');
      await t.app.services.gateway.dispatchOnce(t.app.services.deliverWebhook);
      await t.app.services.relay.drain();
      const payment = await t.db.query<{ status: string }>('SELECT status FROM payments WHERE order_id = $1', [o.id]);
      assert.equal(payment[0]!.status, 'refunded');
      const charge = await t.db.query<{ status: string }>('SELECT status FROM test_gateway_charges WHERE order_id = $1', [o.id]);
      assert.equal(charge[0]!.status, 'refunded');
      assert.equal(
        (await t.app.services.orders.get({ userId: first!.id, sessionId: 's', role: 'buyer' }, o.id)).status,
        'expired',
      );

      // A late confirmation whose seats are still free revives the order instead.
      const lucky = await admit(t.app, third!, event.eventId);
      const free = event.seats[5]!;
      await t.app.inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: lucky.headers,
        payload: { seats: [free.id] },
      });
      const l = (
        await t.app.inject({
          method: 'POST',
          url: '/api/orders',
          headers: { ...lucky.headers, 'idempotency-key': 'c' },
          payload: { eventId: event.eventId },
        })
      ).json().order;
      await t.app.inject({
        method: 'POST',
        url: `/api/orders/${l.id}/pay`,
        headers: { ...lucky.auth, 'idempotency-key': 'q' },
        payload: card('4000000000000077'),
      });
      await t.db.query("UPDATE test_gateway_webhooks SET deliver_after = now() + interval '1 hour' WHERE delivered_at IS NULL");
      await waitFor(
        async () =>
          (await t.app.services.orders.get({ userId: third!.id, sessionId: 's', role: 'buyer' }, l.id)).status === 'expired',
        5000,
        50,
      );
      await t.db.query('UPDATE test_gateway_webhooks SET deliver_after = now() WHERE delivered_at IS NULL');
      await t.app.services.gateway.dispatchOnce(t.app.services.deliverWebhook);
      const revived = await t.app.services.orders.get({ userId: third!.id, sessionId: 's', role: 'buyer' }, l.id);
      assert.equal(revived.status, 'paid');
      const a = (await t.app.inject({ method: 'GET', url: `/api/events/${event.eventId}/availability` })).json();
      assert.ok(takenIndexes(a).includes(free.index), 'the revived order’s seat is taken again');
    });
  });
}

describe('paying an order still pending past its deadline (no expiry sweeper running)', () => {
  it('is refused as expired, and nothing is charged', async () => {
    const { db, drop } = await freshDb(shapes[0]!);
    let now = Date.now();
    const clock = { now: () => now };
    // Only the API role: no sweeper expires the order, so pay itself must see the deadline passed.
    const config = testConfig({ TICKETMAX_ROLES: 'api', TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    const app = await buildApp({ config, db, secret: SECRET, logger: false, clock });
    try {
      const { e } = await queueEvent(app, { holdSeconds: 60 });
      const b = await makeUser(app, 'buyer');
      const joined = await app.inject({ method: 'POST', url: `/api/events/${e}/queue`, headers: b.auth });
      const headers = { ...b.auth, 'x-admission-token': joined.json().queue.admission.token as string };
      const held = await app.inject({
        method: 'PUT',
        url: `/api/events/${e}/hold`,
        headers,
        payload: { bestAvailable: { quantity: 1 } },
      });
      assert.equal(held.statusCode, 200, held.body);
      const created = await app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...headers, 'idempotency-key': key() },
        payload: { eventId: e },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().order.id as string;
      now += 61_000;
      const paid = await app.inject({
        method: 'POST',
        url: `/api/orders/${id}/pay`,
        headers: { ...b.auth, 'idempotency-key': key() },
        payload: card(CARD.number),
      });
      assert.equal(paid.statusCode, 410, paid.body);
      assert.equal(errorCode(paid), 'ORDER_EXPIRED');
      const [row] = await db.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [id]);
      assert.equal(row!.status, 'pending', 'no sweeper ran: the refusal came from the deadline');
      const charges = await db.query('SELECT 1 FROM test_gateway_charges WHERE order_id = $1', [id]);
      assert.equal(charges.length, 0);
    } finally {
      await app.close();
      await drop();
    }
  });
});

describe('the test gateway at start-up, with webhooks due from before', () => {
  it('delivers nothing until the app is ready, then delivers them', async () => {
    const { db, drop } = await freshDb(shapes[0]!);
    const config = testConfig({ TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    try {
      // A webhook left due by a process that stopped (the crash test's restart found hundreds).
      const first = await buildApp({ config, db, secret: SECRET, logger: false });
      await first.close();
      await first.services.gateway.charge({
        idempotencyKey: 'before-restart',
        orderId: 'ord_gone',
        amount: 100,
        currency: 'USD',
        card: CARD,
      });
      await db.query('UPDATE test_gateway_webhooks SET deliver_after = now() WHERE delivered_at IS NULL');
      const attempts = async () =>
        Number((await db.query<{ n: number }>('SELECT coalesce(sum(attempts), 0)::int AS n FROM test_gateway_webhooks'))[0]!.n);

      const app = await buildApp({ config, db, secret: SECRET, logger: false });
      try {
        // Several dispatcher periods (250 ms) while the app is built but not yet ready.
        await new Promise((resolve) => setTimeout(resolve, 800));
        assert.equal(await attempts(), 0, 'a delivery before ready would boot the app half-built');
        await app.ready();
        await waitFor(async () => (await attempts()) > 0, 5000);
      } finally {
        await app.close();
      }
    } finally {
      await drop();
    }
  });
});
