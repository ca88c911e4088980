import { type Queryable, type Statement, withQueries } from '../../platform/db.ts';
import { insertAuditLine } from '../accounts/index.ts';
import type { OrderStatus } from './order-state.ts';
import { sourcesOf } from './order-state.ts';

export interface OrderRow {
  id: string;
  event_id: string;
  user_id: string;
  status: OrderStatus;
  total_amount: number;
  currency: string;
  created_at: Date;
  expires_at: Date;
  paid_at: Date | null;
  closed_at: Date | null;
  /** Who canceled or refunded it (null while open, and when it expired). */
  closed_by: string | null;
}

export interface OrderItemRow {
  id: string;
  order_id: string;
  section_id: string;
  section_name: string;
  seat_id: string | null;
  seat_label: string | null;
  row_label: string | null;
  seat_index: number | null;
  quantity: number;
  price_amount: number;
  active: boolean;
}

/** Where a page of an event's orders ended: the last order's creation time (in microseconds) and id. */
export interface OrderListPosition {
  createdUs: string;
  id: string;
}

export interface EventOrderRow extends OrderRow {
  buyer_email: string;
  buyer_name: string;
  closed_by_email: string | null;
  /** created_at in microseconds since the epoch: exact, unlike a Date, for the next page's position. */
  created_us: string;
}

export interface NewOrder {
  id: string;
  eventId: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  totalAmount: number;
  currency: string;
  items: { id: string; sectionId: string; seatId: string | null; quantity: number; priceAmount: number }[];
}

const ORDER_COLUMNS =
  'id, event_id, user_id, status, total_amount, currency, created_at, expires_at, paid_at, closed_at, closed_by';
/** ORDER_COLUMNS of the orders table aliased `o`. */
const ORDER_COLUMNS_OF_O = ORDER_COLUMNS.split(', ')
  .map((c) => `o.${c}`)
  .join(', ');
const ITEM_COLUMNS = `i.id, i.order_id, i.section_id, s.name AS section_name, i.seat_id, st.label AS seat_label,
  st.row_label, st.idx AS seat_index, i.quantity, i.price_amount, i.active`;
const ITEM_FROM = 'order_items i JOIN sections s ON s.id = i.section_id LEFT JOIN seats st ON st.id = i.seat_id';

/** The INSERT of an outbox message, carried out only where `guard` (SQL) holds. */
export function insertOutbox(topic: string, payload: object, guard = 'true'): Statement {
  return {
    sql: `INSERT INTO outbox (topic, payload) SELECT $1::text, $2::jsonb WHERE ${guard}`,
    params: [topic, JSON.stringify(payload)],
  };
}

/**
 * The buyer's pending order for the event, if any (at most one: a unique index). Read from the
 * buyer's own orders (the sub-select with OFFSET 0 is planned on its own, by the buyer's index):
 * left to choose, a plan cached in a sale's first seconds walked every pending order of the event
 * for each request (see test/query-plans.test.ts). The same holds for the reads by order id below.
 */
export function pendingOrderOf(eventId: string, userId: string): Statement {
  return {
    sql: `SELECT id FROM (SELECT id, event_id, status FROM orders WHERE user_id = $2 OFFSET 0) AS mine
           WHERE event_id = $1 AND status = 'pending'`,
    params: [eventId, userId],
  };
}

/** Of these orders, the ones still pending, with their deadlines (read by id, see pendingOrderOf). */
export function pendingDeadlinesOf(ids: readonly string[]): Statement {
  return {
    sql: `SELECT id, expires_at FROM (SELECT id, expires_at, status FROM orders WHERE id = ANY($1::text[]) OFFSET 0) AS these
           WHERE status = 'pending'`,
    params: [ids],
  };
}

/** The order as one row with its items as a JSON array (`withItems` splits it). */
export function orderWithItems(id: string): Statement {
  return {
    sql: `SELECT ${ORDER_COLUMNS},
                coalesce((SELECT json_agg(x ORDER BY x.seat_index NULLS LAST, x.id)
                            FROM (SELECT ${ITEM_COLUMNS} FROM ${ITEM_FROM} WHERE i.order_id = o.id) x), '[]') AS items
           FROM orders o WHERE o.id = $1`,
    params: [id],
  };
}

export type OrderWithItemsRow = OrderRow & { items: OrderItemRow[] };

/** A row read by `orderWithItems` as the order and its items. */
export function withItems(found: OrderWithItemsRow | undefined): { row: OrderRow; items: OrderItemRow[] } | undefined {
  if (!found) return undefined;
  const { items, ...row } = found;
  return { row, items };
}

/** SQL of orders and their items. Every function runs on whatever it is given: the database or one transaction. */
export function createOrdersRepository(q: Queryable) {
  return {
    /**
     * Inserts a pending order and its items, takes its GA places and returns the order, in one
     * statement together with `alsoWrite` (the reply kept for its idempotency key). Throws the driver's
     * unique violation when a seat is already in a pending or paid order (the wall) or the
     * buyer already has a pending order for the event, and a check violation when GA would
     * go over capacity; the statement then writes nothing.
     */
    async insertPending(order: NewOrder, alsoWrite: Statement[] = []): Promise<OrderRow> {
      const items = order.items;
      const insertOrder: Statement = {
        sql: `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, created_at, expires_at)
              VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7) RETURNING ${ORDER_COLUMNS}`,
        params: [order.id, order.eventId, order.userId, order.totalAmount, order.currency, order.createdAt, order.expiresAt],
      };
      const insertItems: Statement = {
        sql: `INSERT INTO order_items (id, order_id, event_id, section_id, seat_id, quantity, price_amount)
              SELECT id, $1, $2, section_id, seat_id, quantity, price_amount
                FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::int8[]) AS t(id, section_id, seat_id, quantity, price_amount)`,
        params: [
          order.id,
          order.eventId,
          items.map((i) => i.id),
          items.map((i) => i.sectionId),
          items.map((i) => i.seatId),
          items.map((i) => i.quantity),
          items.map((i) => i.priceAmount),
        ],
      };
      // The GA places it takes (the items inserted beside this are not visible to it: it counts them from the same values).
      const takeGa: Statement = {
        sql: `UPDATE ga_inventory g SET taken = g.taken + t.quantity
                FROM (SELECT section_id, sum(quantity)::int AS quantity
                        FROM unnest($2::text[], $3::text[], $4::int[]) AS u(section_id, seat_id, quantity)
                       WHERE seat_id IS NULL GROUP BY section_id) t
               WHERE g.event_id = $1 AND g.section_id = t.section_id`,
        params: [order.eventId, items.map((i) => i.sectionId), items.map((i) => i.seatId), items.map((i) => i.quantity)],
      };
      const insert = withQueries(
        [
          ['new_order', insertOrder],
          ['new_items', insertItems],
          ...(items.some((i) => i.seatId === null) ? [['ga_taken', takeGa] as [string, Statement]] : []),
          ...alsoWrite.map((w, n): [string, Statement] => [`also${n}`, w]),
        ],
        'SELECT * FROM new_order',
      );
      const [row] = await q.query<OrderRow>(insert.sql, insert.params);
      return row!;
    },

    /** The order with its items, in one read. */
    async findWithItems(id: string): Promise<{ row: OrderRow; items: OrderItemRow[] } | undefined> {
      const { sql, params } = orderWithItems(id);
      return withItems((await q.query<OrderWithItemsRow>(sql, params))[0]);
    },

    async find(id: string): Promise<OrderRow | undefined> {
      const rows = await q.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
      return rows[0];
    },

    /** Reads the order and locks its row until the transaction ends (PostgreSQL; PGlite runs one transaction at a time). */
    async findForUpdate(id: string): Promise<OrderRow | undefined> {
      const rows = await q.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
      return rows[0];
    },

    async listByUser(userId: string, limit = 200): Promise<OrderRow[]> {
      return q.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2`, [
        userId,
        limit,
      ]);
    },

    /**
     * One page of an event's orders, newest first, with their buyers: the organizer's list.
     * `search` matches an order id exactly or a piece of the buyer's e-mail or name (any case);
     * `after` is the position of the previous page's last order (keyset paging, so orders placed
     * meanwhile neither shift nor repeat a page).
     */
    async listByEvent(
      eventId: string,
      filter: { status?: OrderStatus; search?: string; after?: OrderListPosition; limit: number },
    ): Promise<EventOrderRow[]> {
      return q.query<EventOrderRow>(
        `SELECT ${ORDER_COLUMNS_OF_O}, u.email AS buyer_email, u.name AS buyer_name, c.email AS closed_by_email,
                (extract(epoch FROM o.created_at) * 1000000)::bigint::text AS created_us
           FROM orders o JOIN users u ON u.id = o.user_id LEFT JOIN users c ON c.id = o.closed_by
          WHERE o.event_id = $1
            AND ($2::text IS NULL OR o.status = $2)
            AND ($3::text IS NULL OR o.id = $3 OR strpos(lower(u.email), lower($3)) > 0 OR strpos(lower(u.name), lower($3)) > 0)
            AND ($4::bigint IS NULL OR (o.created_at, o.id) < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::text))
          ORDER BY o.created_at DESC, o.id DESC
          LIMIT $6`,
        [
          eventId,
          filter.status ?? null,
          filter.search ?? null,
          filter.after?.createdUs ?? null,
          filter.after?.id ?? null,
          filter.limit,
        ],
      );
    },

    async itemsOf(orderIds: string[]): Promise<OrderItemRow[]> {
      return q.query<OrderItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM ${ITEM_FROM}
          WHERE i.order_id = ANY($1::text[])
          ORDER BY i.order_id, st.idx NULLS LAST, i.id`,
        [orderIds],
      );
    },

    /** Of these seats, the ones already in a pending or paid order of the event. */
    async seatsTaken(eventId: string, seatIds: string[]): Promise<string[]> {
      const rows = await q.query<{ seat_id: string }>(
        'SELECT seat_id FROM order_items WHERE active AND event_id = $1 AND seat_id = ANY($2::text[])',
        [eventId, seatIds],
      );
      return rows.map((r) => r.seat_id);
    },

    /**
     * Moves the order to `to` if it is in a state that allows it, in one conditional UPDATE.
     * Leaving pending/paid releases its items (seats and GA places) and voids its tickets;
     * reviving an expired order takes them again (the unique index refuses if a seat was resold).
     * Returns the updated row, or undefined when the transition was not allowed.
     */
    async transition(id: string, to: OrderStatus, by?: string): Promise<OrderRow | undefined> {
      const rows = await q.query<OrderRow>(
        `UPDATE orders SET status = $2, updated_at = now(),
                paid_at = CASE WHEN $2 = 'paid' THEN now() ELSE paid_at END,
                closed_at = CASE WHEN $2 IN ('expired', 'canceled', 'refunded') THEN now() ELSE closed_at END,
                closed_by = CASE WHEN $2 IN ('canceled', 'refunded') THEN $4 ELSE closed_by END
          WHERE id = $1 AND status = ANY($3::text[])
          RETURNING ${ORDER_COLUMNS}`,
        [id, to, sourcesOf(to), by ?? null],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (to === 'expired' || to === 'canceled' || to === 'refunded') {
        await adjustGa(q, id, -1);
        await q.query('UPDATE order_items SET active = false WHERE order_id = $1 AND active', [id]);
        await q.query(
          "UPDATE tickets SET status = 'void', voided_at = clock_timestamp() WHERE order_id = $1 AND status <> 'void'",
          [id],
        );
      } else if (to === 'paid') {
        const revived = await q.query('UPDATE order_items SET active = true WHERE order_id = $1 AND NOT active RETURNING id', [
          id,
        ]);
        if (revived.length > 0) await adjustGa(q, id, +1);
      }
      return row;
    },

    /** pending → paid in one statement (the common case of settling a charge); undefined when the order is not pending. */
    async payPending(id: string): Promise<OrderRow | undefined> {
      const rows = await q.query<OrderRow>(
        `UPDATE orders SET status = 'paid', updated_at = now(), paid_at = now()
          WHERE id = $1 AND status = 'pending' RETURNING ${ORDER_COLUMNS}`,
        [id],
      );
      return rows[0];
    },

    /** Of these orders, the ones still pending, with their deadlines (in one read). */
    async pendingDeadlines(ids: readonly string[]): Promise<{ id: string; expires_at: Date }[]> {
      const { sql, params } = pendingDeadlinesOf(ids);
      return q.query(sql, params);
    },

    /** Pending orders whose deadline has passed: what the expiry sweeper works through. */
    async overdue(now: Date, limit: number): Promise<{ id: string; event_id: string }[]> {
      return q.query(
        `SELECT id, event_id FROM orders WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
        [now, limit],
      );
    },

    async insertOutbox(topic: string, payload: object): Promise<void> {
      const { sql, params } = insertOutbox(topic, payload);
      await q.query(sql, params);
    },

    /** The audit line of a refund given by `actorId` (an organizer or admin), in the refund's transaction. */
    async logRefund(actorId: string, order: OrderRow): Promise<void> {
      await insertAuditLine(q, {
        actorId,
        action: 'order.refunded',
        targetId: order.user_id,
        eventId: order.event_id,
        details: { orderId: order.id, amount: order.total_amount, currency: order.currency },
      });
    },
  };
}
export type OrdersRepository = ReturnType<typeof createOrdersRepository>;

/**
 * Adds (+1) or gives back (−1) the GA places of an order's active items; the CHECK refuses going
 * over capacity. Called while the items are active: after inserting or reviving, before releasing.
 */
async function adjustGa(q: Queryable, orderId: string, sign: 1 | -1): Promise<void> {
  await q.query(
    `UPDATE ga_inventory g SET taken = g.taken + $2 * t.quantity
       FROM (SELECT event_id, section_id, sum(quantity)::int AS quantity FROM order_items
              WHERE order_id = $1 AND seat_id IS NULL AND active
              GROUP BY event_id, section_id) t
      WHERE g.event_id = t.event_id AND g.section_id = t.section_id`,
    [orderId, sign],
  );
}
