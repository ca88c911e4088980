// The load test's verification must catch what it claims to: each check is shown a database that
// breaks its invariant (constraints dropped where the database itself would refuse) and must count it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { arrivals } from '../bench/loadtest/scenarios.ts';
import { verify } from '../bench/loadtest/verify.ts';
import type { BuyerRecord } from '../bench/loadtest/buyer.ts';
import { buildTestApp, type TestApp } from './helpers.ts';
import { admit, bulkBuyers, onSaleEvent } from './inventory.helpers.ts';

const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' };

describe('load test verification', () => {
  let t: TestApp;
  let eventId: string;
  let records: BuyerRecord[];
  const orders: string[] = [];

  before(async () => {
    t = await buildTestApp('pglite', { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    const event = await onSaleEvent(t.app);
    eventId = event.eventId;
    const buyers = await bulkBuyers(t.app, 3);
    records = [];
    for (const [i, b] of buyers.entries()) {
      await admit(t.app, b, eventId);
      const hold = await t.app.inject({
        method: 'PUT',
        url: `/api/events/${eventId}/hold`,
        headers: b.headers,
        payload: { seats: [event.seats[i]!.id] },
      });
      assert.equal(hold.statusCode, 200, hold.body);
      const order = await t.app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...b.headers, 'idempotency-key': `o${i}` },
        payload: { eventId },
      });
      assert.equal(order.statusCode, 201, order.body);
      const id = order.json<{ order: { id: string } }>().order.id;
      orders.push(id);
      if (i < 2) {
        const paid = await t.app.inject({
          method: 'POST',
          url: `/api/orders/${id}/pay`,
          headers: { ...b.auth, 'idempotency-key': `p${i}` },
          payload: { card: CARD },
        });
        assert.equal(paid.statusCode, 200, paid.body);
      }
      const place = await t.app.inject({ method: 'GET', url: `/api/events/${eventId}/queue`, headers: b.auth });
      records.push({
        userId: b.id,
        number: place.json<{ queue: { number: number } }>().queue.number,
        admitted: true,
        couldNotAct: false,
        outcome: 'paid',
        seats: 1,
        rejoined: 0,
      });
    }
    await t.app.services.ticker.tick();
  });
  after(async () => t.close());

  it('counts nothing on an honest run', async () => {
    const { verification, sold } = await verify(t.db, eventId, records);
    assert.deepEqual(
      Object.values(verification),
      Object.values(verification).map(() => 0),
      JSON.stringify(verification),
    );
    assert.equal(sold.paidOrders, 2);
    assert.equal(sold.admissionsLogged, 3);
  });

  it('counts every kind of break', async () => {
    const db = t.db;
    // Oversold and double-ticketed seat: the unique indexes are the wall, so take them down first.
    await db.exec('DROP INDEX order_items_one_active_seat_key; DROP INDEX tickets_one_live_seat_key');
    await db.query(
      `INSERT INTO order_items (id, order_id, event_id, section_id, seat_id, price_amount)
      SELECT id || '_dup', $2, event_id, section_id, seat_id, price_amount FROM order_items WHERE order_id = $1`,
      [orders[0], orders[2]],
    );
    await db.query(
      `INSERT INTO tickets (id, order_id, order_item_id, event_id, section_id, seat_id, code)
      SELECT id || '_dup', $2, order_item_id, event_id, section_id, seat_id, code || '_dup' FROM tickets WHERE order_id = $1`,
      [orders[0], orders[2]],
    );
    // The pending order now has a live ticket; a paid order loses its tickets; a charge has no paid order.
    await db.query(`UPDATE tickets SET status = 'void' WHERE order_id = $1`, [orders[1]]);
    await db.query(
      `INSERT INTO test_gateway_charges (id, idempotency_key, order_id, amount, currency, card_last4, status)
      VALUES ('ch_orphan', 'k_orphan', $1, 100, 'USD', '4242', 'succeeded')`,
      [orders[2]],
    );
    // GA beyond capacity (the CHECK is the wall).
    await db.exec('ALTER TABLE ga_inventory DROP CONSTRAINT ga_inventory_check');
    await db.query(`UPDATE ga_inventory SET taken = capacity + 1 WHERE event_id = $1`, [eventId]);
    // Admissions out of number order, a buyer shown another number, one missing from the log.
    await db.query(`UPDATE queue_admissions SET number = 10 - number WHERE event_id = $1`, [eventId]);
    await db.query(`DELETE FROM queue_admissions WHERE event_id = $1 AND seq = 2`, [eventId]);
    const { verification: v } = await verify(db, eventId, [
      ...records,
      { ...records[0]!, userId: 'usr_never', couldNotAct: true },
    ]);
    assert.equal(v.oversoldSeats, 1);
    assert.equal(v.doubleTicketedSeats, 1);
    assert.equal(v.gaOverCapacity, 1);
    assert.equal(v.paidOrdersWithoutTickets, 1);
    assert.ok(v.ticketsWithoutPaidOrder >= 1);
    assert.equal(v.chargesWithoutPaidOrder, 1);
    assert.equal(v.admissionOrderInversions, 1);
    assert.ok(v.admissionNumberMismatches >= 1);
    assert.equal(v.admissionsMissingFromLog, 2, 'the deleted entry and the buyer the log never had');
    assert.equal(v.admittedButCouldNotAct, 1);
  });
});

describe('load test arrival profiles', () => {
  it('spreads N buyers over the window in order: ramp grows, spike front-loads, steady is even', () => {
    for (const profile of ['ramp', 'spike', 'steady'] as const) {
      const at = arrivals(profile, 1000, 10);
      assert.equal(at.length, 1000);
      assert.ok(
        at.every((t, i) => t >= 0 && t <= 10_000 && (i === 0 || t >= at[i - 1]!)),
        profile,
      );
    }
    const firstSecond = (profile: 'ramp' | 'spike' | 'steady') => arrivals(profile, 1000, 10).filter((t) => t < 1000).length;
    assert.ok(firstSecond('spike') > 400, `spike: ${firstSecond('spike')} in the first second`);
    assert.ok(firstSecond('ramp') < 50, `ramp: ${firstSecond('ramp')} in the first second`);
    assert.ok(Math.abs(firstSecond('steady') - 100) <= 5, `steady: ${firstSecond('steady')} in the first second`);
  });
});
