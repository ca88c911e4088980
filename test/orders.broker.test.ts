import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { brokerProxy, rabbitReachable } from './broker-proxy.ts';
import { buildTestApp, CI, dbShapes, type TestApp } from './helpers.ts';
import { admit, bulkBuyers, holdAndOrder, onSaleEvent, takenIndexes, waitFor } from './inventory.helpers.ts';

const shapes = await dbShapes();
const rabbit = await rabbitReachable();
if (!rabbit && CI) throw new Error('CI=true but RabbitMQ at 127.0.0.1:5672 is unreachable');
if (!rabbit) console.warn('# RabbitMQ at 127.0.0.1:5672 unreachable: skipping the broker suites (CI would fail)');

const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' };

for (const shape of rabbit ? shapes : []) {
  describe(`orders over RabbitMQ (${shape})`, () => {
    let t: TestApp;
    let proxy: Awaited<ReturnType<typeof brokerProxy>>;

    before(async () => {
      proxy = await brokerProxy();
      t = await buildTestApp(shape, {
        TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
        AMQP_URL: proxy.url,
        // A throw-away namespace: queues of other runs sharing this broker are not ours.
        TICKETMAX_AMQP_PREFIX: `test-${randomBytes(5).toString('hex')}`,
      });
    });
    after(async () => {
      await proxy.up();
      await t.app.services.broker?.destroy().catch(() => undefined);
      await t.close();
      await proxy.close();
    });

    it('is ready with the broker, and /readyz names the broker when it is gone', async () => {
      assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      await proxy.down();
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.match(res.json().error.message, /broker/);
      await proxy.up();
      await waitFor(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 10_000, 100);
    });

    it('expires an order through the delayed check within 1 s of its deadline', async () => {
      const event = await onSaleEvent(t.app, { holdSeconds: 2 });
      const [b] = await bulkBuyers(t.app, 1);
      const buyer = await admit(t.app, b!, event.eventId);
      const seat = event.seats[0]!;
      const o = await holdAndOrder(t.app, buyer, event.eventId, [seat.id], 'k');
      const deadline = Date.parse(o.expiresAt);
      // With a broker the sweeper only runs every 5 s: expiry within 1 s is the broker's doing.
      await waitFor(
        async () =>
          (await t.db.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [o.id]))[0]!.status === 'expired',
        6000,
        25,
      );
      const lag = Date.now() - deadline;
      assert.ok(lag < 1000, `expired ${lag} ms after the deadline`);
      const a = (await t.app.inject({ method: 'GET', url: `/api/events/${event.eventId}/availability` })).json();
      assert.ok(!takenIndexes(a).includes(seat.index));
    });

    it('carries the expiry checks of many orders in a few messages, and expires each within 1 s of its deadline', async () => {
      const sent = async () => {
        const text = await t.app.services.metrics.registry.metrics();
        const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
        return { messages: value('ticketmax_expiry_check_messages_total'), checks: value('ticketmax_expiry_checks_total') };
      };
      const before = await sent();
      const event = await onSaleEvent(t.app, { holdSeconds: 3 });
      const buyers = await Promise.all((await bulkBuyers(t.app, 40)).map((b) => admit(t.app, b, event.eventId)));
      const orders = await Promise.all(
        buyers.map((buyer, i) => holdAndOrder(t.app, buyer, event.eventId, [event.seats[i]!.id], `x${i}`)),
      );
      // Two of them are paid at once: their checks find nothing to do.
      for (const [i, o] of orders.slice(0, 2).entries()) {
        const paid = await t.app.inject({
          method: 'POST',
          url: `/api/orders/${o.id}/pay`,
          headers: { ...buyers[i]!.auth, 'idempotency-key': `xp${i}` },
          payload: { card: CARD },
        });
        assert.equal(paid.statusCode, 200, paid.body);
      }
      const unpaid = orders.slice(2);
      const lastDeadline = Math.max(...unpaid.map((o) => Date.parse(o.expiresAt)));
      await waitFor(
        async () =>
          (
            await t.db.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::text[]) AND status = 'expired'",
              [unpaid.map((o) => o.id)],
            )
          )[0]!.n === unpaid.length,
        8000,
        25,
      );
      // With a broker the sweeper only runs every 5 s: expiry this close to the deadline is the checks' doing.
      const lag = Date.now() - lastDeadline;
      assert.ok(lag < 1000, `the last order expired ${lag} ms after its deadline`);
      const states = await t.db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM orders WHERE id = ANY($1::text[]) GROUP BY status ORDER BY status',
        [orders.map((o) => o.id)],
      );
      assert.deepEqual(states, [
        { status: 'expired', n: 38 },
        { status: 'paid', n: 2 },
      ]);
      const after = await sent();
      const messages = after.messages - before.messages;
      const checks = after.checks - before.checks;
      // Each order's check goes at least once (then again at each shorter step until due), a message at a time before.
      assert.ok(checks >= 40, `${checks} checks sent`);
      assert.ok(messages * 5 <= checks, `${messages} messages carried ${checks} checks`);
    });

    it('keeps taking orders and payments while the broker is down, and loses no domain event', async () => {
      const event = await onSaleEvent(t.app);
      const buyers = await bulkBuyers(t.app, 20);
      const admitted = await Promise.all(buyers.map((b) => admit(t.app, b, event.eventId)));
      const unpublished = async () =>
        (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).at(0)!.n;
      // The earlier tests' events out first: one still on its way when counted would leave the
      // outbox after the count and make it one short (seen once in CI).
      await waitFor(async () => (await unpublished()) === 0, 10_000, 50);
      const before = await unpublished();
      await proxy.down();
      const paidIds: string[] = [];
      await Promise.all(
        admitted.map(async (buyer, i) => {
          const hold = await t.app.inject({
            method: 'PUT',
            url: `/api/events/${event.eventId}/hold`,
            headers: buyer.headers,
            payload: { seats: [event.seats[i]!.id] },
          });
          assert.equal(hold.statusCode, 200, hold.body);
          const created = await t.app.inject({
            method: 'POST',
            url: '/api/orders',
            headers: { ...buyer.headers, 'idempotency-key': `o${i}` },
            payload: { eventId: event.eventId },
          });
          assert.equal(created.statusCode, 201, created.body);
          const order = created.json().order;
          const paid = await t.app.inject({
            method: 'POST',
            url: `/api/orders/${order.id}/pay`,
            headers: { ...buyer.auth, 'idempotency-key': `p${i}` },
            payload: { card: CARD },
          });
          assert.equal(paid.statusCode, 200, paid.body);
          assert.equal(paid.json().tickets.length, 1);
          paidIds.push(order.id);
        }),
      );
      // Organizer refunds of two of them: their gateway refunds travel through the broker.
      for (const id of paidIds.slice(0, 2)) {
        const res = await t.app.inject({ method: 'POST', url: `/api/orders/${id}/cancel`, headers: event.organizer.auth });
        assert.equal(res.statusCode, 200, res.body);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const waiting = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).at(
        0,
      )!.n;
      assert.ok(waiting >= before + 20 + 2 * 2, `events wait in the outbox while the broker is down (${waiting})`);
      const noTickets = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders o WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id)`,
      );
      assert.equal(noTickets[0]!.n, 0, 'no paid order without tickets');

      await proxy.up();
      await waitFor(
        async () =>
          (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).at(0)!.n === 0,
        20_000,
        100,
      );
      const paidEvents = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE topic = 'order.paid' AND published_at IS NOT NULL AND payload->>'orderId' = ANY($1::text[])",
        [paidIds],
      );
      assert.equal(paidEvents[0]!.n, 20, 'every order.paid event published once the broker is back');
      // The refund consumer ran off the broker: both charges are refunded at the gateway.
      await waitFor(
        async () => {
          const rows = await t.db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM test_gateway_charges WHERE status = 'refunded' AND order_id = ANY($1::text[])",
            [paidIds.slice(0, 2)],
          );
          return rows[0]!.n === 2;
        },
        10_000,
        100,
      );
    });
  });
}
