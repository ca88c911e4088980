import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId } from '../src/platform/crypto.ts';
import { pgConstraint, pgErrorCode } from '../src/platform/db.ts';
import { createOrdersRepository, insertOutbox, type NewOrder } from '../src/modules/orders/orders.repository.ts';
import { createPaymentsRepository } from '../src/modules/payments/payments.repository.ts';
import { createTicketsRepository, insertTickets } from '../src/modules/tickets/tickets.repository.ts';
import { buildTestApp, dbShapes, eventBody, makeUser, smallVenue, type TestApp } from './helpers.ts';

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`orders repository (${shape})`, () => {
    let t: TestApp;
    let eventId = '';
    const seats: { id: string; sectionId: string }[] = [];
    let gaSection = '';
    const users: string[] = [];

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      const organizer = await makeUser(t.app, 'organizer');
      const principal = { userId: organizer.id, sessionId: 'test', role: 'organizer' as const };
      const venue = await t.app.services.catalog.createVenue(principal, smallVenue() as never);
      const event = await t.app.services.catalog.createEvent(principal, eventBody(venue.id));
      eventId = event.id;
      for (const section of venue.sections) {
        if (section.kind === 'ga') gaSection = section.id;
        for (const row of section.rows ?? []) for (const seat of row.seats) seats.push({ id: seat.id, sectionId: section.id });
      }
      for (let i = 0; i < 30; i++) users.push((await makeUser(t.app)).id);
    });
    after(async () => t.close());

    const repo = () => createOrdersRepository(t.db);
    let nextUser = 0;
    function order(items: { seat?: number; ga?: number }[]): NewOrder {
      return {
        id: newId('ord'),
        eventId,
        userId: users[nextUser++ % users.length]!,
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 600_000),
        totalAmount: 1000 * items.length,
        currency: 'USD',
        items: items.map((i) =>
          i.seat !== undefined
            ? { id: newId('itm'), sectionId: seats[i.seat]!.sectionId, seatId: seats[i.seat]!.id, quantity: 1, priceAmount: 1000 }
            : { id: newId('itm'), sectionId: gaSection, seatId: null, quantity: i.ga!, priceAmount: 1000 },
        ),
      };
    }
    const insert = (o: NewOrder) => t.db.tx((q) => createOrdersRepository(q).insertPending(o));
    /** A ticket for the first item of an order, as settlement would issue it (not written). */
    const ticketOf = async (orderId: string, code: string) => {
      const [item] = await repo().itemsOf([orderId]);
      return {
        id: newId('tkt'),
        orderId,
        orderItemId: item!.id,
        eventId,
        sectionId: item!.section_id,
        seatId: item!.seat_id,
        code,
      };
    };
    const gaTaken = async () =>
      (
        await t.db.query<{ taken: number }>('SELECT taken FROM ga_inventory WHERE event_id = $1 AND section_id = $2', [
          eventId,
          gaSection,
        ])
      )[0]!.taken;

    it('inserts a pending order with its seat and GA items', async () => {
      const o = order([{ seat: 0 }, { seat: 1 }, { ga: 3 }]);
      const before = await gaTaken();
      await insert(o);
      const items = await repo().itemsOf([o.id]);
      assert.equal(items.length, 3);
      assert.deepEqual((await repo().findWithItems(o.id))?.items, items, 'seats by index, then GA');
      assert.equal((await repo().find(o.id))?.status, 'pending');
      assert.equal(await gaTaken(), before + 3);
    });

    it('refuses a second pending-or-paid order for a seat, and rolls the whole order back', async () => {
      const first = order([{ seat: 2 }]);
      await insert(first);
      const second = order([{ seat: 3 }, { seat: 2 }]);
      await assert.rejects(
        insert(second),
        (err) => pgErrorCode(err) === '23505' && pgConstraint(err) === 'order_items_one_active_seat_key',
      );
      assert.equal(await repo().find(second.id), undefined);
      assert.deepEqual(await repo().seatsTaken(eventId, [seats[2]!.id, seats[3]!.id]), [seats[2]!.id]);
      await t.db.tx((q) => createOrdersRepository(q).transition(first.id, 'paid'));
      await assert.rejects(insert(order([{ seat: 2 }])), (err) => pgErrorCode(err) === '23505');
    });

    it('allows one pending order per buyer and event', async () => {
      const a = order([{ seat: 4 }]);
      await insert(a);
      const b = { ...order([{ seat: 5 }]), userId: a.userId };
      await assert.rejects(insert(b), (err) => pgConstraint(err) === 'orders_one_pending_key');
    });

    it('never sells GA over capacity', async () => {
      const left = 100 - (await gaTaken());
      await assert.rejects(insert(order([{ ga: left + 1 }])), (err) => pgErrorCode(err) === '23514');
      await insert(order([{ ga: left }]));
      assert.equal(await gaTaken(), 100);
      await assert.rejects(insert(order([{ ga: 1 }])), (err) => pgErrorCode(err) === '23514');
    });

    it('frees seats and GA places when an order expires, and refuses illegal transitions', async () => {
      const o = order([{ seat: 6 }]);
      await insert(o);
      const tx = (fn: (r: ReturnType<typeof createOrdersRepository>) => Promise<unknown>) =>
        t.db.tx((q) => fn(createOrdersRepository(q)));
      assert.equal(((await tx((r) => r.transition(o.id, 'expired'))) as { status: string }).status, 'expired');
      assert.equal(await tx((r) => r.transition(o.id, 'canceled')), undefined, 'expired → canceled is illegal');
      assert.equal(await tx((r) => r.transition(o.id, 'refunded')), undefined, 'expired → refunded is illegal');
      await insert(order([{ seat: 6 }]));
    });

    it('revives an expired order on a late payment only when its seats are still free', async () => {
      const tx = (fn: (r: ReturnType<typeof createOrdersRepository>) => Promise<unknown>) =>
        t.db.tx((q) => fn(createOrdersRepository(q)));
      const free = order([{ seat: 7 }]);
      await insert(free);
      await tx((r) => r.transition(free.id, 'expired'));
      const revived = (await tx((r) => r.transition(free.id, 'paid'))) as { status: string; paid_at: Date };
      assert.equal(revived.status, 'paid');
      assert.ok(revived.paid_at);
      const resold = order([{ seat: 8 }]);
      await insert(resold);
      await tx((r) => r.transition(resold.id, 'expired'));
      await insert(order([{ seat: 8 }]));
      await assert.rejects(
        tx((r) => r.transition(resold.id, 'paid')),
        (err) => pgErrorCode(err) === '23505',
      );
      assert.equal((await repo().find(resold.id))?.status, 'expired', 'the failed revival changed nothing');
    });

    it('lets exactly one of many racing transitions win', async () => {
      const o = order([{ seat: 9 }]);
      await insert(o);
      const targets = Array.from({ length: 20 }, (_, i): 'paid' | 'canceled' => (i % 2 === 0 ? 'paid' : 'canceled'));
      const results = await Promise.all(targets.map((to) => t.db.tx((q) => createOrdersRepository(q).transition(o.id, to))));
      const winners = results.filter((r) => r !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await repo().find(o.id))?.status, winners[0]!.status);
    });

    it('reads an order with its items in one query, as find and itemsOf read them', async () => {
      const o = order([{ seat: 11 }, { seat: 10 }]);
      await insert(o);
      const both = await repo().findWithItems(o.id);
      assert.deepEqual(both, { row: await repo().find(o.id), items: await repo().itemsOf([o.id]) });
      assert.deepEqual(
        both.items.map((i) => i.seat_id),
        [seats[10]!.id, seats[11]!.id],
      );
      assert.equal(await repo().findWithItems('ord_missing'), undefined);
    });

    it('settles a pending order and its processing payment in one statement, once, writing the rest only then', async () => {
      const o = order([{ seat: 12 }]);
      await insert(o);
      const payments = createPaymentsRepository(t.db);
      const key = `${o.id}:k1`;
      const payment = await payments.open({
        id: newId('pay'),
        orderId: o.id,
        gateway: 'test',
        amount: 1000,
        currency: 'USD',
        key,
      });
      const ticket = await ticketOf(o.id, 'c');
      const topic = `test.settled.${o.id}`;
      const count = async () =>
        (
          await t.db.query<{ tickets: number; messages: number }>(
            `SELECT (SELECT count(*)::int FROM tickets WHERE order_id = $1) AS tickets,
                    (SELECT count(*)::int FROM outbox WHERE topic = $2) AS messages`,
            [o.id, topic],
          )
        )[0]!;
      const paidAt = new Date(Date.now() - 5000);
      const settle = () =>
        payments.settlePending({ gateway: 'test', key, ref: 'ch_1', orderId: o.id, paidAt }, (guard) => [
          insertTickets([{ ...ticket, id: newId('tkt') }], guard),
          insertOutbox(topic, { orderId: o.id }, guard),
        ]);
      const results = await Promise.all(Array.from({ length: 10 }, settle));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one of ten racing settlements');
      const row = await repo().find(o.id);
      assert.equal(row?.status, 'paid');
      assert.equal(row?.paid_at?.getTime(), paidAt.getTime());
      const settled = await payments.findByKey('test', key);
      assert.deepEqual([settled?.id, settled?.status, settled?.gateway_ref], [payment.id, 'succeeded', 'ch_1']);
      assert.deepEqual(await count(), { tickets: 1, messages: 1 });
      assert.equal(await settle(), false, 'a settled payment does not settle again');
      assert.deepEqual(await count(), { tickets: 1, messages: 1 });
    });

    it('settles nothing in one statement when the order is no longer pending', async () => {
      const o = order([{ seat: 13 }]);
      await insert(o);
      await t.db.tx((q) => createOrdersRepository(q).transition(o.id, 'expired'));
      const payments = createPaymentsRepository(t.db);
      const key = `${o.id}:k1`;
      await payments.open({ id: newId('pay'), orderId: o.id, gateway: 'test', amount: 1000, currency: 'USD', key });
      const topic = `test.settled.${o.id}`;
      const settled = await payments.settlePending(
        { gateway: 'test', key, ref: 'ch_2', orderId: o.id, paidAt: new Date() },
        (guard) => [insertOutbox(topic, { orderId: o.id }, guard)],
      );
      assert.equal(settled, false);
      assert.equal((await repo().find(o.id))?.status, 'expired');
      const payment = await payments.findByKey('test', key);
      assert.deepEqual([payment?.status, payment?.gateway_ref], ['processing', null], 'the payment is left for the transaction');
      assert.equal((await t.db.query('SELECT 1 FROM outbox WHERE topic = $1', [topic])).length, 0);
    });

    it("reads a buyer's tickets by index, not by scanning every ticket, before the table is analyzed", async () => {
      // 3,000 orders with 6,000 tickets fill the tables as a sale's first minutes do, before
      // autovacuum has analyzed them; then a buyer lists theirs.
      const [item0] = await repo().itemsOf([(await insert(order([{ seat: 15 }]))).id]);
      const bulkUser = (await makeUser(t.app)).id;
      await t.db.query(
        `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, expires_at)
         SELECT 'ord_bulk_' || g, $1, $2, 'canceled', 0, 'USD', now() FROM generate_series(1, 3000) g`,
        [eventId, bulkUser],
      );
      await t.db.query(
        `INSERT INTO tickets (id, order_id, order_item_id, event_id, section_id, status, code)
         SELECT 'tkt_bulk_' || g, 'ord_bulk_' || (1 + g % 3000), $1, $2, $3, 'void', 'bulk-' || g
           FROM generate_series(1, 6000) g`,
        [item0!.id, eventId, item0!.section_id],
      );
      const mine = order([{ seat: 14 }]);
      await insert(mine);
      const ticket = await ticketOf(mine.id, 'mine');
      await createTicketsRepository(t.db).insert([ticket]);

      const listed = await createTicketsRepository(t.db).byUser(mine.userId);
      assert.deepEqual(
        listed.filter((x) => x.order_id === mine.id).map((x) => x.id),
        [ticket.id],
      );
      // The same statement, explained: what the planner does with it on this table.
      const plans: string[] = [];
      const explaining = {
        query: async <T>(sql: string, params?: readonly unknown[]) => {
          const rows = await t.db.query<Record<string, unknown>>(`EXPLAIN ${sql}`, params);
          plans.push(rows.map((r) => String(Object.values(r)[0])).join('\n'));
          return [] as T[];
        },
        exec: (sql: string) => t.db.exec(sql),
      };
      await createTicketsRepository(explaining).byUser(mine.userId);
      assert.match(plans[0]!, /Index Scan using tickets_order_idx|Bitmap Index Scan on tickets_order_idx/, plans[0]);
      assert.doesNotMatch(plans[0]!, /Seq Scan on tickets/, plans[0]);
    });
  });
}
