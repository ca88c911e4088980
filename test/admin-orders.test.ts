// The organizer's list of an event's orders: who bought what, found by buyer or order id, a page
// at a time; and the refund an organizer gives from it (through POST /api/orders/:id/cancel).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, dbShapes, errorCode, makeUser, type TestApp } from './helpers.ts';
import { admit, type Buyer, bulkBuyers, holdAndOrder, onSaleEvent } from './inventory.helpers.ts';

const shapes = await dbShapes();
const card = { card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } };

interface Listed {
  id: string;
  status: string;
  items: { label: string | null }[];
  buyer: { id: string; email: string; name: string };
  closedAt: string | null;
  closedBy: { id: string; email: string } | null;
}

for (const shape of shapes) {
  describe(`organizer: an event's orders (${shape})`, () => {
    let t: TestApp;
    let event: Awaited<ReturnType<typeof onSaleEvent>>;
    let buyers: Buyer[];
    const orderIds: string[] = [];
    const list = async (query = '', auth: Record<string, string> = event.organizer.auth, eventId = event.eventId) =>
      t.app.inject({ method: 'GET', url: `/api/admin/events/${eventId}/orders${query}`, headers: auth });

    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      event = await onSaleEvent(t.app);
      buyers = await bulkBuyers(t.app, 7);
      const stalls = event.seats.filter((s) => s.section === 'Stalls');
      // Seven orders, one seat each, placed one after the other; the first three paid.
      for (const [n, buyer] of buyers.entries()) {
        await admit(t.app, buyer, event.eventId);
        const order = await holdAndOrder(t.app, buyer, event.eventId, [stalls[n]!.id], `list-${n}`);
        assert.ok(order?.id, 'the order was placed');
        orderIds.push(order.id);
        if (n < 3) {
          const paid = await t.app.inject({
            method: 'POST',
            url: `/api/orders/${order.id}/pay`,
            headers: { ...buyer.auth, 'idempotency-key': `pay-${n}` },
            payload: card,
          });
          assert.equal(paid.statusCode, 200, paid.body);
        }
      }
    });
    after(async () => t.close());

    it('lists the orders newest first with their buyers, items and statuses', async () => {
      const res = await list();
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      const body = res.json<{ orders: Listed[]; next: string | null }>();
      assert.deepEqual(
        body.orders.map((o) => o.id),
        [...orderIds].reverse(),
      );
      assert.equal(body.next, null);
      const first = body.orders.at(-1)!;
      assert.equal(first.status, 'paid');
      assert.equal(first.buyer.id, buyers[0]!.id);
      assert.match(first.buyer.email, /^bulk\..*@example\.test$/);
      assert.equal(first.buyer.name, 'Bulk buyer');
      assert.equal(first.items.length, 1);
      assert.equal(body.orders[0]!.status, 'pending');
      assert.ok(body.orders.every((o) => o.closedAt === null && o.closedBy === null));
    });

    it('filters by status, and finds an order by its id or by a piece of its buyer’s e-mail in any case', async () => {
      const paid = (await list('?status=paid')).json<{ orders: Listed[] }>().orders;
      assert.deepEqual(
        paid.map((o) => o.id),
        orderIds.slice(0, 3).reverse(),
      );
      const pending = (await list('?status=pending')).json<{ orders: Listed[] }>().orders;
      assert.equal(pending.length, 4);
      assert.equal((await list('?status=refunded')).json<{ orders: Listed[] }>().orders.length, 0);

      const byId = (await list(`?q=${orderIds[4]}`)).json<{ orders: Listed[] }>().orders;
      assert.deepEqual(
        byId.map((o) => o.id),
        [orderIds[4]],
      );
      const piece = buyers[5]!.id.slice(4).toUpperCase(); // part of the e-mail, in another case
      const byEmail = (await list(`?q=${encodeURIComponent(piece)}`)).json<{ orders: Listed[] }>().orders;
      assert.deepEqual(
        byEmail.map((o) => o.id),
        [orderIds[5]],
      );
      const both = (await list(`?q=${encodeURIComponent(piece)}&status=paid`)).json<{ orders: Listed[] }>().orders;
      assert.equal(both.length, 0, 'the filters combine');
      const wildcard = (await list(`?q=${encodeURIComponent('%')}`)).json<{ orders: Listed[] }>().orders;
      assert.equal(wildcard.length, 0, 'a % is a character, not a wildcard');
    });

    it('pages through every order once, in order, with orders placed between the pages', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      let late: string | undefined;
      do {
        const res = await list(`?limit=3${after ? `&after=${after}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<{ orders: Listed[]; next: string | null }>();
        assert.ok(body.orders.length <= 3);
        seen.push(...body.orders.map((o) => o.id));
        after = body.next;
        pages += 1;
        if (pages === 1) {
          // A new order while the organizer reads: it goes on top, and the pages below do not shift.
          const [newcomer] = await bulkBuyers(t.app, 1);
          await admit(t.app, newcomer!, event.eventId);
          const stalls = event.seats.filter((s) => s.section === 'Stalls');
          late = (await holdAndOrder(t.app, newcomer!, event.eventId, [stalls[20]!.id], 'late')).id;
        }
      } while (after);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...orderIds].reverse());
      const top = (await list('?limit=1')).json<{ orders: Listed[] }>().orders;
      assert.equal(top[0]!.id, late);
    });

    it('lets the organizer refund a paid order found in the list: its tickets void, its seat free again', async () => {
      const target = orderIds[1]!;
      const refunded = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${target}/cancel`,
        headers: event.organizer.auth,
      });
      assert.equal(refunded.statusCode, 200, refunded.body);
      assert.equal(refunded.json<{ order: { status: string } }>().order.status, 'refunded');
      const listed = (await list('?status=refunded')).json<{ orders: Listed[] }>().orders;
      assert.deepEqual(
        listed.map((o) => o.id),
        [target],
      );
      assert.deepEqual(listed[0]!.closedBy, { id: event.organizer.id, email: event.organizer.email }, 'who refunded it');
      assert.ok(Date.parse(listed[0]!.closedAt!) <= Date.now());
      // The refund is in the event's audit log, with who gave it and whose order it was.
      const audit = await t.app.inject({
        method: 'GET',
        url: `/api/admin/events/${event.eventId}/audit`,
        headers: event.organizer.auth,
      });
      assert.equal(audit.statusCode, 200, audit.body);
      const lines = audit
        .json<{
          entries: {
            action: string;
            actor: { id: string } | null;
            target: { id: string } | null;
            details: Record<string, unknown>;
          }[];
        }>()
        .entries.filter((e) => e.action === 'order.refunded');
      assert.equal(lines.length, 1, audit.body);
      assert.equal(lines[0]!.actor?.id, event.organizer.id);
      assert.equal(lines[0]!.details.orderId, target);
      assert.equal(typeof lines[0]!.details.amount, 'number');
      assert.ok(lines[0]!.target, 'the buyer is named');
      // A buyer who cancels their own pending order is named as well.
      const own = await t.app.inject({ method: 'POST', url: `/api/orders/${orderIds[6]}/cancel`, headers: buyers[6]!.auth });
      assert.equal(own.json<{ order: { status: string } }>().order.status, 'canceled');
      const canceled = (await list('?status=canceled')).json<{ orders: Listed[] }>().orders;
      assert.deepEqual(
        canceled.map((o) => [o.id, o.closedBy?.id]),
        [[orderIds[6], buyers[6]!.id]],
      );
      const tickets = await t.app.inject({ method: 'GET', url: '/api/tickets', headers: buyers[1]!.auth });
      const mine = tickets.json<{ tickets: { orderId: string; status: string }[] }>().tickets.filter((x) => x.orderId === target);
      assert.ok(mine.length > 0);
      assert.ok(mine.every((x) => x.status === 'void'));
    });

    it('exports the orders matching the filter as CSV, with spreadsheet formulas in names escaped', async () => {
      // A buyer whose name a spreadsheet would run as a formula.
      await t.app.services.db.query('UPDATE users SET name = $2 WHERE id = $1', [
        buyers[0]!.id,
        '=HYPERLINK("http://x.test","win")',
      ]);
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/admin/events/${event.eventId}/orders.csv?status=paid`,
        headers: event.organizer.auth,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(res.headers['content-disposition'], `attachment; filename="orders-${event.eventId}.csv"`);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      const lines = res.body.trimEnd().split('\n');
      assert.equal(
        lines[0],
        'order,status,ordered_at,paid_at,closed_at,closed_by,buyer_name,buyer_email,places,count,total,currency',
      );
      // Paid at this point: orders 0 and 2 (1 was refunded above), newest first.
      assert.equal(lines.length, 3, res.body);
      assert.ok(lines[1]!.startsWith(`${orderIds[2]},paid,`), lines[1]);
      const first = lines[2]!;
      assert.ok(first.startsWith(`${orderIds[0]},paid,`), first);
      assert.ok(first.includes(`"'=HYPERLINK(""http://x.test"",""win"")"`), `the formula is escaped and quoted: ${first}`);
      assert.match(first, /,Stalls · row A · seat 1,1,50\.00,USD$/);
      const all = await t.app.inject({
        method: 'GET',
        url: `/api/admin/events/${event.eventId}/orders.csv`,
        headers: event.organizer.auth,
      });
      assert.equal(all.body.trimEnd().split('\n').length, 1 + orderIds.length + 1, 'every order, the late one included');
      // Read from the database a page at a time: pages of two give the same file, no order twice or lost.
      const organizer = { userId: event.organizer.id, sessionId: 'csv-test', role: 'organizer' as const };
      let paged = '';
      for await (const chunk of await t.app.services.orders.exportForEvent(organizer, event.eventId, {}, 2)) paged += chunk;
      assert.equal(paged, all.body);
      let none = '';
      const search = { search: 'nobody-has-this-name' };
      for await (const chunk of await t.app.services.orders.exportForEvent(organizer, event.eventId, search, 2)) none += chunk;
      assert.equal(none, `${lines[0]}\n`, 'no match: the header line alone');
      const other = await makeUser(t.app, 'organizer');
      const refused = await t.app.inject({
        method: 'GET',
        url: `/api/admin/events/${event.eventId}/orders.csv`,
        headers: other.auth,
      });
      assert.equal(refused.statusCode, 403);
      assert.equal(errorCode(refused), 'FORBIDDEN');
      const bad = await t.app.inject({
        method: 'GET',
        url: `/api/admin/events/${event.eventId}/orders.csv?limit=5`,
        headers: event.organizer.auth,
      });
      assert.equal(errorCode(bad), 'VALIDATION_FAILED');
    });

    it('is for the event’s organizer and admins only, and refuses bad queries with 400', async () => {
      const other = await makeUser(t.app, 'organizer');
      const staff = await makeUser(t.app, 'staff');
      const admin = await makeUser(t.app, 'admin');
      assert.equal(errorCode(await list('', other.auth)), 'FORBIDDEN');
      assert.equal((await list('', other.auth)).statusCode, 403);
      assert.equal(errorCode(await list('', staff.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await list('', buyers[0]!.auth)), 'FORBIDDEN');
      assert.equal(errorCode(await list('', {})), 'UNAUTHENTICATED');
      assert.equal((await list('', admin.auth)).statusCode, 200);
      assert.equal(errorCode(await list('', event.organizer.auth, 'evt_nothere')), 'NOT_FOUND');
      for (const bad of [
        '?status=lost',
        '?limit=0',
        '?limit=201',
        '?limit=ten',
        '?after=yesterday',
        '?after=12.ord%27--',
        '?after=99999999999999999999.ord_x', // beyond any time the database can hold
        `?q=${'x'.repeat(201)}`,
        '?q=',
        '?sort=price',
      ]) {
        const res = await list(bad);
        assert.equal(res.statusCode, 400, `${bad}: ${res.body}`);
        assert.equal(errorCode(res), 'VALIDATION_FAILED', bad);
        assert.ok(res.json<{ error: { details: object } }>().error.details, bad);
      }
    });
  });
}
