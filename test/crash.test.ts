import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import { dbShapes, freshDb, SECRET, testConfig } from './helpers.ts';
import { admit, bulkBuyers, onSaleEvent, waitFor } from './inventory.helpers.ts';
import { startServer } from './server.ts';

const shapes = await dbShapes();
const WEBHOOK_SECRET = 'webhook-secret-for-tests';
const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' };

/** The real server on PostgreSQL with the test secrets. */
const startOn = (databaseUrl: string) =>
  startServer({
    LOG_LEVEL: 'error',
    DATABASE_URL: databaseUrl,
    TICKETMAX_SECRET: SECRET,
    PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1',
  });

if (shapes.includes('postgres')) {
  describe('an API process killed in the middle of 200 payments (PostgreSQL)', () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    after(async () => {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
    });

    it('ends with every charged order paid with tickets or refunded, and no seat sold twice', async (ctx) => {
      const { db, url, drop } = await freshDb('postgres');
      cleanup.push(drop);
      // Set-up through an in-process app on the same database and secrets: 200 pending orders.
      const setup = await buildApp({
        config: testConfig({ TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' }),
        db,
        secret: SECRET,
        logger: false,
      });
      const event = await onSaleEvent(
        setup,
        { prices: [{ section: 'Stalls', amount: 5000, currency: 'USD' }] },
        { name: 'Crash Hall', sections: [{ name: 'Stalls', kind: 'seated', grid: { rows: 10, seatsPerRow: 20 } }] },
      );
      const buyers = await bulkBuyers(setup, 200);
      const orders: { id: string; auth: Record<string, string> }[] = [];
      await Promise.all(
        buyers.map(async (b, i) => {
          const buyer = await admit(setup, b, event.eventId);
          const hold = await setup.inject({
            method: 'PUT',
            url: `/api/events/${event.eventId}/hold`,
            headers: buyer.headers,
            payload: { seats: [event.seats[i]!.id] },
          });
          assert.equal(hold.statusCode, 200, hold.body);
          const res = await setup.inject({
            method: 'POST',
            url: '/api/orders',
            headers: { ...buyer.headers, 'idempotency-key': `o${i}` },
            payload: { eventId: event.eventId },
          });
          assert.equal(res.statusCode, 201, res.body);
          orders.push({ id: res.json<{ order: { id: string } }>().order.id, auth: buyer.auth });
        }),
      );
      await setup.close();

      const first = await startOn(url!);
      cleanup.push(async () => first.child.kill('SIGKILL'));
      const pays = orders.map((o, i) =>
        fetch(`${first.url}/api/orders/${o.id}/pay`, {
          method: 'POST',
          headers: { ...o.auth, 'content-type': 'application/json', 'idempotency-key': `p${i}` },
          body: JSON.stringify({ card: CARD }),
        }).then(
          (r) => r.status,
          () => 0,
        ),
      );
      // Kill it once the gateway has charged some but before everything settled.
      await waitFor(
        async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_gateway_charges')).at(0)!.n >= 20,
        30_000,
        5,
      );
      first.child.kill('SIGKILL');
      const statuses = await Promise.all(pays);
      const answered = statuses.filter((s) => s === 200).length;
      const charged = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_gateway_charges')).at(0)!.n;
      assert.ok(charged < 200 || answered < 200, 'the kill landed in the middle of the payments');
      ctx.diagnostic(`killed with ${charged} of 200 charged and ${answered} answered 200`);

      // After the restart the gateway redelivers every webhook not yet acknowledged.
      const second = await startOn(url!);
      cleanup.push(async () => second.child.kill('SIGKILL'));
      await waitFor(
        async () => {
          const rows = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM test_gateway_webhooks WHERE delivered_at IS NULL
           UNION ALL SELECT count(*)::int FROM outbox WHERE published_at IS NULL`,
          );
          return rows.every((r) => r.n === 0);
        },
        30_000,
        100,
      );

      const unsettled = await db.query<{ id: string; order_status: string; has_tickets: boolean; charge_status: string }>(
        `SELECT c.id, o.status AS order_status, c.status AS charge_status,
                EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id AND t.status = 'valid') AS has_tickets
           FROM test_gateway_charges c JOIN orders o ON o.id = c.order_id
          WHERE c.status = 'succeeded' AND NOT (o.status = 'paid')`,
      );
      assert.deepEqual(unsettled, [], 'every charge that stands belongs to a paid order');
      const paidWithoutTickets = await db.query(
        `SELECT o.id FROM orders o WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id)`,
      );
      assert.deepEqual(paidWithoutTickets, []);
      const ticketsWithoutPaid = await db.query(
        `SELECT t.id FROM tickets t JOIN orders o ON o.id = t.order_id WHERE t.status <> 'void' AND o.status <> 'paid'`,
      );
      assert.deepEqual(ticketsWithoutPaid, []);
      const doubleSold = await db.query(
        `SELECT event_id, seat_id FROM order_items WHERE active AND seat_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`,
      );
      assert.deepEqual(doubleSold, []);
      const paid = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE status = 'paid'")).at(0)!.n;
      const chargedNow = (
        await db.query<{ n: number }>("SELECT count(*)::int AS n FROM test_gateway_charges WHERE status = 'succeeded'")
      ).at(0)!.n;
      assert.equal(paid, chargedNow, 'one standing charge per paid order');
      second.child.kill('SIGTERM');
    });
  });
}
