// Suspending an account in the middle of a sale: what the account had in it goes at once — its
// waiting-room place, the seats it holds, its pending order — so a bot's seats are on sale again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, dbShapes, makeUser, type TestApp, type TestUser } from './helpers.ts';
import { admit, type Buyer, bulkBuyers, holdAndOrder, onSaleEvent } from './inventory.helpers.ts';

const shapes = await dbShapes();

interface Suspension {
  sessionsEnded: number;
  cleared: { queuesLeft: number; holdsReleased: number; ordersCanceled: number };
}

for (const shape of shapes) {
  describe(`suspending an account during a sale (${shape})`, () => {
    let t: TestApp;
    let admin: TestUser;
    let event: Awaited<ReturnType<typeof onSaleEvent>>;
    let stalls: Awaited<ReturnType<typeof onSaleEvent>>['seats'];
    const suspend = async (id: string) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/admin/users/${id}/suspension`,
        headers: admin.auth,
        payload: { suspended: true },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<Suspension>();
    };
    const hold = (buyer: Buyer, seatIds: string[]) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/events/${event.eventId}/hold`,
        headers: buyer.headers,
        payload: { seats: seatIds },
      });
    const inQueue = (userId: string) =>
      t.app.services.waitingRoom.myQueue(event.eventId, userId, { claim: false }).then(
        (q) => q.state,
        () => 'not in the queue',
      );

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      admin = await makeUser(t.app, 'admin');
      event = await onSaleEvent(t.app);
      stalls = event.seats.filter((s) => s.section === 'Stalls');
    });
    after(async () => t.close());

    it('cancels the pending order, frees its seats and takes the account out of the waiting room', async () => {
      const [bot, fan] = await bulkBuyers(t.app, 2);
      await admit(t.app, bot!, event.eventId);
      const order = await holdAndOrder(t.app, bot!, event.eventId, [stalls[0]!.id, stalls[1]!.id], 'bot-order');
      assert.ok(order?.id);
      await admit(t.app, fan!, event.eventId);
      assert.equal((await hold(fan!, [stalls[0]!.id])).statusCode, 409, 'taken by the bot’s order');

      const res = await suspend(bot!.id);
      assert.deepEqual(res.cleared, { queuesLeft: 1, holdsReleased: 1, ordersCanceled: 1 });
      const [row] = await t.db.query<{ status: string; closed_by: string }>(
        'SELECT status, closed_by FROM orders WHERE id = $1',
        [order.id],
      );
      assert.deepEqual(row, { status: 'canceled', closed_by: admin.id });
      const taken = await hold(fan!, [stalls[0]!.id, stalls[1]!.id]);
      assert.equal(taken.statusCode, 200, `the bot's seats are on sale again: ${taken.body}`);
      assert.notEqual(await inQueue(bot!.id), 'admitted', 'no longer holding an active slot');
    });

    it('frees the seats an account holds without an order, and leaves paid orders alone', async () => {
      const [bot, fan, payer] = await bulkBuyers(t.app, 3);
      await admit(t.app, payer!, event.eventId);
      const paidOrder = await holdAndOrder(t.app, payer!, event.eventId, [stalls[5]!.id], 'payer-order');
      const paid = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${paidOrder.id}/pay`,
        headers: { ...payer!.auth, 'idempotency-key': 'payer-pay' },
        payload: { card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } },
      });
      assert.equal(paid.statusCode, 200, paid.body);
      await admit(t.app, bot!, event.eventId);
      assert.equal((await hold(bot!, [stalls[3]!.id, stalls[4]!.id])).statusCode, 200);
      await admit(t.app, fan!, event.eventId);
      assert.equal((await hold(fan!, [stalls[3]!.id])).statusCode, 409);

      const res = await suspend(bot!.id);
      assert.deepEqual(res.cleared, { queuesLeft: 1, holdsReleased: 1, ordersCanceled: 0 });
      assert.equal((await hold(fan!, [stalls[3]!.id, stalls[4]!.id])).statusCode, 200);

      const payerSuspended = await suspend(payer!.id);
      assert.equal(payerSuspended.cleared.ordersCanceled, 0);
      const [row] = await t.db.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [paidOrder.id]);
      assert.equal(row!.status, 'paid', 'refunding is the organizer’s decision');
    });
  });
}
