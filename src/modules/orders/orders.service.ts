import { stringify } from 'csv-stringify';
import { pipeline, Readable } from 'node:stream';
import type { Db, Queryable } from '../../platform/db.ts';
import { AppError, forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import { idempotent, replayOf, requestHash, type StoredReply } from './idempotency.ts';
import type { OrderStatus } from './order-state.ts';
import { createOrderPlacement, type OrderPlacementDeps } from './orders.create.ts';
import {
  createOrdersRepository,
  type OrderItemRow,
  type OrderRow,
  type OrdersRepository,
  pendingOrderOf,
} from './orders.repository.ts';
import { decimalAmount, orderView, type OrderView, placeLabel } from './orders.view.ts';

export { orderView } from './orders.view.ts';

export const orderNotPayable = (status: string) =>
  new AppError('ORDER_NOT_PAYABLE', 409, `This order is ${status} and cannot be paid`, { status });
export const orderExpired = (details?: Record<string, unknown>) =>
  new AppError('ORDER_EXPIRED', 410, 'The time to pay for this order has run out; its seats were released', details);

/** Seat indexes and GA quantities per section of an order's items: what goes back to the inventory. */
export function releasable(items: OrderItemRow[]) {
  const seats: number[] = [];
  const ga: Record<string, number> = {};
  for (const item of items) {
    if (item.seat_index !== null) seats.push(item.seat_index);
    else ga[item.section_id] = (ga[item.section_id] ?? 0) + item.quantity;
  }
  return { seats, ga };
}

export interface EventOrdersFilter {
  status?: OrderStatus;
  /** An order id, or a piece of the buyer's e-mail or name. */
  search?: string;
}

export type EventOrderView = OrderView & {
  buyer: { id: string; email: string; name: string };
  /** When it was canceled, refunded or expired, and who canceled or refunded it. */
  closedAt: string | null;
  closedBy: { id: string; email: string } | null;
};

const CSV_COLUMNS = [
  'order',
  'status',
  'ordered_at',
  'paid_at',
  'closed_at',
  'closed_by',
  'buyer_name',
  'buyer_email',
  'places',
  'count',
  'total',
  'currency',
];

/** One order as a CSV line (spreadsheet formulas in buyers' names are escaped by the writer). */
function csvRow(o: EventOrderView): string[] {
  return [
    o.id,
    o.status,
    o.createdAt,
    o.paidAt ?? '',
    o.closedAt ?? '',
    o.closedBy?.email ?? '',
    o.buyer.name,
    o.buyer.email,
    o.items.map(placeLabel).join('; '),
    String(o.items.reduce((n, i) => n + i.quantity, 0)),
    decimalAmount(o.total),
    o.total.currency,
  ];
}

export interface OrdersDeps extends Omit<OrderPlacementDeps, 'repo'> {
  db: Db;
  admission: { finish(eventId: string, userId: string): Promise<void> };
}

export function createOrdersService({ db, inventory, admission, clock, log, scheduleExpiry }: OrdersDeps) {
  const repo = createOrdersRepository(db);
  const { create } = createOrderPlacement({ repo, inventory, clock, log, scheduleExpiry });

  async function load(row: OrderRow, q: Queryable = db): Promise<OrderView> {
    return orderView(row, await createOrdersRepository(q).itemsOf([row.id]));
  }

  /** The event's organizer or an admin may see and manage its orders; anyone else 403, an unknown event 404. */
  async function mayManage(principal: Principal, eventId: string) {
    const organizer = await organizerOf(eventId);
    if (organizer === undefined) throw notFound('Event');
    if (principal.role !== 'admin' && organizer !== principal.userId) {
      throw forbidden("Only the event's organizer, or an admin, may see its orders");
    }
  }

  /** One page of the event's orders with their buyers; `next` is where the following page starts. */
  async function pageForEvent(
    eventId: string,
    filter: EventOrdersFilter & { after?: string; limit: number },
  ): Promise<{ orders: EventOrderView[]; next: string | null }> {
    const [createdUs, id] = filter.after?.split('.') ?? [];
    const rows = await repo.listByEvent(eventId, {
      status: filter.status,
      search: filter.search?.trim() || undefined,
      after: createdUs && id ? { createdUs, id } : undefined,
      limit: filter.limit + 1,
    });
    const page = rows.slice(0, filter.limit);
    const views = await viewsOf(page);
    const last = page.at(-1);
    return {
      orders: page.map((row, n) => ({
        ...views[n]!,
        buyer: { id: row.user_id, email: row.buyer_email, name: row.buyer_name },
        closedAt: row.closed_at?.toISOString() ?? null,
        closedBy: row.closed_by ? { id: row.closed_by, email: row.closed_by_email ?? '' } : null,
      })),
      next: rows.length > filter.limit && last ? `${last.created_us}.${last.id}` : null,
    };
  }

  /** The views of these orders, in their order, with every order's items read in one query. */
  async function viewsOf(rows: OrderRow[]): Promise<OrderView[]> {
    const items = await repo.itemsOf(rows.map((r) => r.id));
    return rows.map((row) =>
      orderView(
        row,
        items.filter((i) => i.order_id === row.id),
      ),
    );
  }

  /** Runs fn in one transaction with a repository bound to it. */
  const inTx = <T>(fn: (r: OrdersRepository, q: Queryable) => Promise<T>) => db.tx((q) => fn(createOrdersRepository(q), q));

  /** The buyer's own order; someone else's reads as not found, so order ids cannot be probed. */
  async function ownOrder(principal: Principal, id: string, allowStaff: boolean): Promise<OrderRow> {
    return own(principal, await repo.find(id), allowStaff);
  }

  /** As ownOrder, with the order's items, in one read. */
  async function ownOrderWithItems(
    principal: Principal,
    id: string,
    allowStaff: boolean,
  ): Promise<{ row: OrderRow; items: OrderItemRow[] }> {
    return ownFound(principal, await repo.findWithItems(id), allowStaff);
  }

  /** As ownOrderWithItems, for an order already read (with `orderWithItems`, alongside something else). */
  async function ownFound(
    principal: Principal,
    found: { row: OrderRow; items: OrderItemRow[] } | undefined,
    allowStaff: boolean,
  ): Promise<{ row: OrderRow; items: OrderItemRow[] }> {
    return { row: await own(principal, found?.row, allowStaff), items: found?.items ?? [] };
  }

  async function own(principal: Principal, row: OrderRow | undefined, allowStaff: boolean): Promise<OrderRow> {
    if (!row) throw notFound('Order');
    if (row.user_id === principal.userId || principal.role === 'admin') return row;
    if (allowStaff && principal.role === 'organizer' && (await organizerOf(row.event_id)) === principal.userId) return row;
    throw notFound('Order');
  }

  /** The event's organizer, or undefined when there is no such event. */
  async function organizerOf(eventId: string): Promise<string | undefined> {
    const [event] = await db.query<{ organizer_id: string }>('SELECT organizer_id FROM events WHERE id = $1', [eventId]);
    return event?.organizer_id;
  }

  /**
   * Moves an order out of pending/paid and gives its seats back to the inventory. `by`: the user
   * who canceled or refunded it (kept on the order and in its outbox message).
   */
  async function close(
    id: string,
    to: 'expired' | 'canceled' | 'refunded',
    extra?: (r: OrdersRepository, q: Queryable, row: OrderRow) => Promise<void>,
    by?: string,
  ) {
    const result = await inTx(async (r, q) => {
      const row = await r.transition(id, to, by);
      if (!row) return undefined;
      await r.insertOutbox(`order.${to}`, { orderId: row.id, eventId: row.event_id, userId: row.user_id, ...(by && { by }) });
      await extra?.(r, q, row);
      return { row, items: await r.itemsOf([id]) };
    });
    if (!result) return undefined;
    const { seats, ga } = releasable(result.items);
    await inventory.releaseSeats(result.row.event_id, seats, ga);
    return result;
  }

  /**
   * A pending order ran out of time: its seats go back, and so does its buyer's active slot in the
   * waiting room (the checkout timed out, as a hold's clock tells the buyer), to the next buyer in
   * the queue, as a paid or canceled order's does. Left to the admission's own deadline (15 minutes
   * by default), every abandoned checkout would keep a slot of `maxActive` from the sale that long.
   */
  async function expire(id: string) {
    const closed = await close(id, 'expired');
    if (closed) await admission.finish(closed.row.event_id, closed.row.user_id);
    return closed;
  }

  return {
    orderView: load,

    /** POST /api/orders: the buyer's hold becomes a pending order, once per Idempotency-Key. */
    createOrder(principal: Principal, eventId: string, key: string): Promise<StoredReply> {
      return idempotent<{ id: string }>(
        db,
        { userId: principal.userId, scope: 'orders.create', key, hash: requestHash({ eventId }) },
        (keep, pending) => create(principal, eventId, keep, pending),
        pendingOrderOf(eventId, principal.userId),
      );
    },

    /** The reply createOrder stored for this key and event, or null: a retry after the admission ended gets it. */
    storedCreateReply(principal: Principal, eventId: string, key: string): Promise<StoredReply | null> {
      return replayOf(db, { userId: principal.userId, scope: 'orders.create', key, hash: requestHash({ eventId }) });
    },

    async listMine(principal: Principal): Promise<OrderView[]> {
      return viewsOf(await repo.listByUser(principal.userId));
    },

    /**
     * GET /api/admin/events/:id/orders: the event's orders with their buyers, for its organizer
     * or an admin (someone else's event 403, an unknown one 404), newest first, a page at a time.
     */
    async listForEvent(principal: Principal, eventId: string, filter: EventOrdersFilter & { after?: string; limit: number }) {
      await mayManage(principal, eventId);
      return pageForEvent(eventId, filter);
    },

    /**
     * GET /api/admin/events/:id/orders.csv: every order matching the filter, newest first, as a
     * CSV stream read from the database a page at a time (a sale of 50,000 orders is never one
     * string in memory). The access check is done before the first byte; a failure later cuts the
     * download short rather than ending it as if it were whole.
     */
    async exportForEvent(principal: Principal, eventId: string, filter: EventOrdersFilter, pageSize = 1000): Promise<Readable> {
      await mayManage(principal, eventId);
      async function* rows() {
        let after: string | undefined;
        do {
          const page = await pageForEvent(eventId, { ...filter, after, limit: pageSize });
          yield* page.orders.map(csvRow);
          after = page.next ?? undefined;
        } while (after);
      }
      // Errors reach the returned stream (destroyed with them); the reply reports them.
      return pipeline(
        Readable.from(rows()),
        stringify({ header: true, columns: CSV_COLUMNS, escape_formulas: true }),
        () => undefined,
      );
    },

    async get(principal: Principal, id: string): Promise<OrderView> {
      const { row, items } = await ownOrderWithItems(principal, id, true);
      return orderView(row, items);
    },

    ownOrder,
    ownFound,

    /**
     * The owner cancels a pending order; the event's organizer or an admin cancels any order,
     * a paid one being refunded (tickets void, seats free) through `refund`. An order that is
     * already over (canceled, expired, refunded) is answered as it is: there is nothing left to
     * cancel. Only a paid order asked by its buyer is refused (403: the organizer cancels those).
     */
    async cancel(
      principal: Principal,
      id: string,
      refund: (order: OrderRow, by: string) => Promise<OrderRow | undefined>,
    ): Promise<OrderView> {
      const row = await ownOrder(principal, id, true);
      const privileged = principal.role === 'admin' || (principal.role === 'organizer' && row.user_id !== principal.userId);
      if (row.status === 'pending') {
        const closed = await close(id, 'canceled', undefined, principal.userId);
        if (closed) {
          await admission.finish(row.event_id, row.user_id);
          return load(closed.row);
        }
      } else if (row.status === 'paid' && privileged) {
        const refunded = await refund(row, principal.userId);
        if (refunded) return load(refunded);
      }
      const now = (await repo.find(id))!;
      if (now.status === 'paid' && !privileged) {
        throw forbidden('A paid order can only be canceled by the organizer, who refunds it');
      }
      return load(now);
    },

    close,

    /**
     * Delayed expiry checks arrived: reads the orders in one query, expires those still pending
     * and past their deadline, and returns those still pending and not yet due (to be checked again
     * at their deadline). Orders paid, canceled or gone need nothing more.
     */
    async expireDue(orderIds: readonly string[]): Promise<{ orderId: string; dueAt: number }[]> {
      const pending = await repo.pendingDeadlines(orderIds);
      const later: { orderId: string; dueAt: number }[] = [];
      for (const row of pending) {
        const dueAt = row.expires_at.getTime();
        if (dueAt > clock.now()) later.push({ orderId: row.id, dueAt });
        else await expire(row.id);
      }
      return later;
    },

    /** Expires every pending order past its deadline; the database's expires_at is the truth. */
    async expireOverdue(limit = 200): Promise<number> {
      const overdue = await repo.overdue(new Date(clock.now()), limit);
      let expired = 0;
      for (const order of overdue) {
        if (await expire(order.id)) expired += 1;
      }
      if (expired > 0) log.info({ expired }, 'pending orders expired');
      return expired;
    },
  };
}
export type OrdersService = ReturnType<typeof createOrdersService>;
