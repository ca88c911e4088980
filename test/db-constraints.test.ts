import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type Db,
  PG_CHECK_VIOLATION,
  PG_UNIQUE_VIOLATION,
  pgConstraint,
  pgErrorCode,
  type Queryable,
} from '../src/platform/db.ts';
import { dbShapes, freshDb } from './helpers.ts';

// The database is the last wall against selling a seat twice (ARCHITECTURE.md, invariants 1 and 2):
// these tests write rows as the orders and tickets modules will, and try to get past it.

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

interface World {
  userId: string;
  sectionId: string;
  gaSectionId: string;
  seats: string[];
  eventId: string;
  otherEventId: string;
}

/** A user, a venue with a seated section (three seats) and a GA section (capacity 5), and two events on it. */
async function makeWorld(db: Queryable): Promise<World> {
  const userId = await makeUser(db);
  const venueId = id('ven');
  const sectionId = id('sec');
  const gaSectionId = id('sec');
  const seats = [id('st'), id('st'), id('st')];
  await db.query(`INSERT INTO venues (id, name, owner_id, seat_count) VALUES ($1, 'Hall', $2, 3)`, [venueId, userId]);
  await db.query(
    `INSERT INTO sections (id, venue_id, name, kind, capacity, position) VALUES ($1, $2, 'Stalls', 'seated', NULL, 0), ($3, $2, 'Floor', 'ga', 5, 1)`,
    [sectionId, venueId, gaSectionId],
  );
  for (const [i, seatId] of seats.entries()) {
    await db.query(
      `INSERT INTO seats (id, venue_id, section_id, row_label, label, x, y, idx) VALUES ($1, $2, $3, 'A', $4, $5, 0, $6)`,
      [seatId, venueId, sectionId, String(i + 1), i, i],
    );
  }
  const event = async () => {
    const eventId = id('evt');
    await db.query(
      `INSERT INTO events (id, venue_id, organizer_id, name, starts_at, on_sale_at)
       VALUES ($1, $2, $3, 'Night', now() + interval '7 days', now() - interval '1 hour')`,
      [eventId, venueId, userId],
    );
    await db.query(`INSERT INTO ga_inventory (event_id, section_id, capacity) VALUES ($1, $2, 5)`, [eventId, gaSectionId]);
    return eventId;
  };
  return { userId, sectionId, gaSectionId, seats, eventId: await event(), otherEventId: await event() };
}

async function makeUser(db: Queryable): Promise<string> {
  const userId = id('usr');
  await db.query(`INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Buyer', 'x')`, [
    userId,
    `${userId}@example.test`,
  ]);
  return userId;
}

async function insertOrder(
  db: Queryable,
  w: World,
  opts: { eventId?: string; userId?: string; status?: string } = {},
): Promise<string> {
  const orderId = id('ord');
  await db.query(
    `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, expires_at)
     VALUES ($1, $2, $3, $4, 5000, 'USD', now() + interval '10 minutes')`,
    [orderId, opts.eventId ?? w.eventId, opts.userId ?? w.userId, opts.status ?? 'pending'],
  );
  return orderId;
}

async function insertSeatItem(db: Queryable, w: World, orderId: string, seatId: string, eventId = w.eventId): Promise<string> {
  const itemId = id('itm');
  await db.query(
    `INSERT INTO order_items (id, order_id, event_id, section_id, seat_id, price_amount) VALUES ($1, $2, $3, $4, $5, 5000)`,
    [itemId, orderId, eventId, w.sectionId, seatId],
  );
  return itemId;
}

async function insertTicket(
  db: Queryable,
  w: World,
  orderId: string,
  itemId: string,
  seatId: string,
  status: string,
): Promise<string> {
  const ticketId = id('tkt');
  await db.query(
    `INSERT INTO tickets (id, order_id, order_item_id, event_id, section_id, seat_id, status, code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [ticketId, orderId, itemId, w.eventId, w.sectionId, seatId, status, id('code')],
  );
  return ticketId;
}

/** Asserts the statement fails with this PostgreSQL error code (and names this constraint, when given). */
async function assertPgError(work: Promise<unknown>, code: string, constraint?: string) {
  await assert.rejects(work, (err: unknown) => {
    assert.equal(pgErrorCode(err), code, `expected SQLSTATE ${code}, got ${String(err)}`);
    if (constraint !== undefined) assert.equal(pgConstraint(err), constraint);
    return true;
  });
}

const activeItems = async (db: Queryable, eventId: string, seatId: string) =>
  (
    await db.query<{ n: number }>('SELECT count(*)::int AS n FROM order_items WHERE event_id = $1 AND seat_id = $2 AND active', [
      eventId,
      seatId,
    ])
  )[0]!.n;

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`database constraints (${shape})`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    before(async () => {
      ({ db, drop } = await freshDb(shape));
    });
    after(async () => drop());

    describe('one active order item per event and seat', () => {
      it('refuses a second active item for a seat whose first order is pending', async () => {
        const w = await makeWorld(db);
        const first = await insertOrder(db, w);
        await insertSeatItem(db, w, first, w.seats[0]!);
        const second = await insertOrder(db, w, { userId: await makeUser(db) });
        await assertPgError(insertSeatItem(db, w, second, w.seats[0]!), PG_UNIQUE_VIOLATION, 'order_items_one_active_seat_key');
        assert.equal(await activeItems(db, w.eventId, w.seats[0]!), 1);
      });

      it('refuses a second active item for a seat whose first order is paid', async () => {
        const w = await makeWorld(db);
        const first = await insertOrder(db, w);
        await insertSeatItem(db, w, first, w.seats[0]!);
        await db.query(`UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1`, [first]);
        const second = await insertOrder(db, w, { userId: await makeUser(db) });
        await assertPgError(insertSeatItem(db, w, second, w.seats[0]!), PG_UNIQUE_VIOLATION, 'order_items_one_active_seat_key');
      });

      it('refuses the same seat twice within one order', async () => {
        const w = await makeWorld(db);
        const order = await insertOrder(db, w);
        await insertSeatItem(db, w, order, w.seats[1]!);
        await assertPgError(insertSeatItem(db, w, order, w.seats[1]!), PG_UNIQUE_VIOLATION);
      });

      it('frees the seat for a new order once the first item is inactive (expired or canceled)', async () => {
        const w = await makeWorld(db);
        const first = await insertOrder(db, w);
        const item = await insertSeatItem(db, w, first, w.seats[0]!);
        // Expiry and cancellation clear `active` in the same transaction that closes the order.
        await db.tx(async (q) => {
          await q.query(`UPDATE orders SET status = 'expired', closed_at = now() WHERE id = $1`, [first]);
          await q.query('UPDATE order_items SET active = false WHERE id = $1', [item]);
        });
        const second = await insertOrder(db, w, { userId: await makeUser(db) });
        await insertSeatItem(db, w, second, w.seats[0]!);
        assert.equal(await activeItems(db, w.eventId, w.seats[0]!), 1);
        // Reviving the old item would sell the seat twice: refused too.
        await assertPgError(db.query('UPDATE order_items SET active = true WHERE id = $1', [item]), PG_UNIQUE_VIOLATION);
      });

      it('allows the same seat in another event, and other seats in the same event', async () => {
        const w = await makeWorld(db);
        const order = await insertOrder(db, w);
        await insertSeatItem(db, w, order, w.seats[0]!);
        await insertSeatItem(db, w, order, w.seats[1]!);
        const other = await insertOrder(db, w, { eventId: w.otherEventId });
        await insertSeatItem(db, w, other, w.seats[0]!, w.otherEventId);
        assert.equal(await activeItems(db, w.eventId, w.seats[0]!), 1);
        assert.equal(await activeItems(db, w.otherEventId, w.seats[0]!), 1);
      });

      it('lets exactly one of 20 concurrent transactions take the same seat', async () => {
        const w = await makeWorld(db);
        const buyers = await Promise.all(Array.from({ length: 20 }, () => makeUser(db)));
        const attempts = await Promise.allSettled(
          buyers.map((userId) =>
            db.tx(async (q) => {
              const orderId = await insertOrder(q, w, { userId });
              await insertSeatItem(q, w, orderId, w.seats[2]!);
              return orderId;
            }),
          ),
        );
        const won = attempts.filter((a) => a.status === 'fulfilled');
        const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
        assert.equal(won.length, 1, `winners: ${won.length}`);
        assert.equal(lost.length, 19);
        for (const l of lost) assert.equal(pgErrorCode(l.reason), PG_UNIQUE_VIOLATION, String(l.reason));
        assert.equal(await activeItems(db, w.eventId, w.seats[2]!), 1);
        // The losers' orders rolled back with their items.
        const orders = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE event_id = $1', [w.eventId]);
        assert.equal(orders[0]!.n, 1);
      });
    });

    describe('one live ticket per event and seat', () => {
      it('refuses a second valid ticket for a seat', async () => {
        const w = await makeWorld(db);
        const order = await insertOrder(db, w, { status: 'paid' });
        const item = await insertSeatItem(db, w, order, w.seats[0]!);
        await insertTicket(db, w, order, item, w.seats[0]!, 'valid');
        await assertPgError(
          insertTicket(db, w, order, item, w.seats[0]!, 'valid'),
          PG_UNIQUE_VIOLATION,
          'tickets_one_live_seat_key',
        );
      });

      it('counts a used ticket as live', async () => {
        const w = await makeWorld(db);
        const order = await insertOrder(db, w, { status: 'paid' });
        const item = await insertSeatItem(db, w, order, w.seats[0]!);
        await insertTicket(db, w, order, item, w.seats[0]!, 'used');
        await assertPgError(insertTicket(db, w, order, item, w.seats[0]!, 'valid'), PG_UNIQUE_VIOLATION);
      });

      it('allows a valid ticket beside void ones for the same seat', async () => {
        const w = await makeWorld(db);
        const order = await insertOrder(db, w, { status: 'paid' });
        const item = await insertSeatItem(db, w, order, w.seats[0]!);
        await insertTicket(db, w, order, item, w.seats[0]!, 'void');
        await insertTicket(db, w, order, item, w.seats[0]!, 'void');
        await insertTicket(db, w, order, item, w.seats[0]!, 'valid');
        const live = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM tickets WHERE event_id = $1 AND seat_id = $2 AND status <> 'void'`,
          [w.eventId, w.seats[0]!],
        );
        assert.equal(live[0]!.n, 1);
      });

      it('refuses to turn a void ticket valid again while another is valid', async () => {
        const w = await makeWorld(db);
        const order = await insertOrder(db, w, { status: 'paid' });
        const item = await insertSeatItem(db, w, order, w.seats[0]!);
        const voided = await insertTicket(db, w, order, item, w.seats[0]!, 'void');
        await insertTicket(db, w, order, item, w.seats[0]!, 'valid');
        await assertPgError(db.query(`UPDATE tickets SET status = 'valid' WHERE id = $1`, [voided]), PG_UNIQUE_VIOLATION);
      });
    });

    describe('GA inventory stays within capacity', () => {
      const taken = async (w: World) =>
        (
          await db.query<{ taken: number }>('SELECT taken FROM ga_inventory WHERE event_id = $1 AND section_id = $2', [
            w.eventId,
            w.gaSectionId,
          ])
        )[0]!.taken;
      const take = (w: World, n: number) =>
        db.query('UPDATE ga_inventory SET taken = taken + $3 WHERE event_id = $1 AND section_id = $2', [
          w.eventId,
          w.gaSectionId,
          n,
        ]);

      it('takes places up to exactly the capacity', async () => {
        const w = await makeWorld(db);
        await take(w, 3);
        await take(w, 2);
        assert.equal(await taken(w), 5);
      });

      it('refuses to take more places than the capacity (CHECK violation) and keeps the count', async () => {
        const w = await makeWorld(db);
        await take(w, 4);
        await assertPgError(take(w, 2), PG_CHECK_VIOLATION);
        assert.equal(await taken(w), 4);
      });

      it('refuses to give back more places than were taken', async () => {
        const w = await makeWorld(db);
        await take(w, 1);
        await assertPgError(take(w, -2), PG_CHECK_VIOLATION);
        assert.equal(await taken(w), 1);
      });

      it('never oversells under 20 concurrent takes of one place each on a capacity of 5', async () => {
        const w = await makeWorld(db);
        const attempts = await Promise.allSettled(
          Array.from({ length: 20 }, () =>
            db.tx((q) =>
              q.query('UPDATE ga_inventory SET taken = taken + 1 WHERE event_id = $1 AND section_id = $2', [
                w.eventId,
                w.gaSectionId,
              ]),
            ),
          ),
        );
        const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
        assert.equal(attempts.length - lost.length, 5);
        for (const l of lost) assert.equal(pgErrorCode(l.reason), PG_CHECK_VIOLATION, String(l.reason));
        assert.equal(await taken(w), 5);
      });
    });
  });
}
