import type { Clock } from '../../platform/clock.ts';
import { newId, newIds } from '../../platform/crypto.ts';
import {
  type Db,
  pgConstraint,
  pgErrorCode,
  PG_CHECK_VIOLATION,
  PG_UNIQUE_VIOLATION,
  type Queryable,
} from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import { idempotent, type KeepReply, requestHash, type StoredReply } from './idempotency.ts';
import {
  createOrdersRepository,
  type OrderItemRow,
  type OrderRow,
  type OrdersRepository,
  pendingOrderOf,
} from './orders.repository.ts';

export interface Money {
  amount: number;
  currency: string;
}

export interface OrderView {
  id: string;
  eventId: string;
  status: OrderRow['status'];
  items: {
    seatId: string | null;
    label: string | null;
    row: string | null;
    section: string;
    sectionId: string;
    quantity: number;
    price: Money;
  }[];
  total: Money;
  createdAt: string;
  expiresAt: string;
  paidAt: string | null;
}

/** What the orders module needs of the seat inventory. */
export interface InventoryPort {
  commitHold(
    eventId: string,
    userId: string,
  ): Promise<
    | { ok: false; code: 'NO_HOLD' | 'HOLD_EXPIRED' }
    | {
        ok: true;
        seats: { id: string; index: number; label: string; row: string; section: string; sectionId: string; price: Money }[];
        hold: { ga: { sectionId: string; section: string; quantity: number; price: Money }[] };
        expiresAt: number;
      }
  >;
  releaseSeats(eventId: string, seatIndexes: number[], ga?: Record<string, number>): Promise<void>;
  rebuild(eventId: string): Promise<void>;
}

export interface OrdersLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const orderNotPayable = (status: string) =>
  new AppError('ORDER_NOT_PAYABLE', 409, `This order is ${status} and cannot be paid`, { status });
export const orderExpired = (details?: Record<string, unknown>) =>
  new AppError('ORDER_EXPIRED', 410, 'The time to pay for this order has run out; its seats were released', details);

export function orderView(row: OrderRow, items: OrderItemRow[]): OrderView {
  const price = (amount: number) => ({ amount, currency: row.currency });
  return {
    id: row.id,
    eventId: row.event_id,
    status: row.status,
    items: items.map((i) => ({
      seatId: i.seat_id,
      label: i.seat_label,
      row: i.row_label,
      section: i.section_name,
      sectionId: i.section_id,
      quantity: i.quantity,
      price: price(i.price_amount),
    })),
    total: price(row.total_amount),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    paidAt: row.paid_at?.toISOString() ?? null,
  };
}

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

export interface OrdersDeps {
  db: Db;
  inventory: InventoryPort;
  admission: { finish(eventId: string, userId: string): Promise<void> };
  clock: Clock;
  log: OrdersLog;
  /**
   * Asks the job system to check the order at its deadline (RabbitMQ, see expiry-checks.ts); returns
   * at once, as the buyer's answer does not wait for the broker. The sweeper is the safety net.
   */
  scheduleExpiry?: (orderId: string, expiresAt: number) => void;
}

export function createOrdersService({ db, inventory, admission, clock, log, scheduleExpiry }: OrdersDeps) {
  const repo = createOrdersRepository(db);

  async function load(row: OrderRow, q: Queryable = db): Promise<OrderView> {
    return orderView(row, await createOrdersRepository(q).itemsOf([row.id]));
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
    if (allowStaff && principal.role === 'organizer' && (await isOrganizerOf(principal.userId, row.event_id))) return row;
    throw notFound('Order');
  }

  async function isOrganizerOf(userId: string, eventId: string) {
    const rows = await db.query('SELECT 1 FROM events WHERE id = $1 AND organizer_id = $2', [eventId, userId]);
    return rows.length > 0;
  }

  /** `pending`: the buyer's pending order for the event, read with the Idempotency-Key's claim. */
  async function create(principal: Principal, eventId: string, keep: KeepReply, pending: { id: string }[]): Promise<StoredReply> {
    const userId = principal.userId;
    if (pending[0]) {
      throw new AppError('PENDING_ORDER_EXISTS', 409, 'You already have an order waiting for payment for this event', {
        orderId: pending[0].id,
      });
    }
    // The hold turns into ordered state first (its seats stay taken, no expiry frees them); if the
    // database then refuses, the seats it did not refuse go back.
    const committed = await inventory.commitHold(eventId, userId);
    if (!committed.ok) {
      if (committed.code === 'HOLD_EXPIRED') throw new AppError('HOLD_EXPIRED', 410, 'Your hold ran out; pick your seats again');
      throw new AppError('NO_HOLD', 409, 'Hold some seats first');
    }
    const gaItems = committed.hold.ga;
    const currency = committed.seats[0]?.price.currency ?? gaItems[0]?.price.currency ?? 'USD';
    const itemIds = newIds('itm', committed.seats.length + gaItems.length);
    // The items as the database will hold them, and as itemsOf reads them back (seats by index, then GA).
    const itemRows: Omit<OrderItemRow, 'order_id'>[] = [
      ...[...committed.seats]
        .sort((a, b) => a.index - b.index)
        .map((s, i) => ({
          id: itemIds[i]!,
          section_id: s.sectionId,
          section_name: s.section,
          seat_id: s.id,
          seat_label: s.label,
          row_label: s.row,
          seat_index: s.index,
          quantity: 1,
          price_amount: s.price.amount,
          active: true,
        })),
      ...gaItems
        .map((g, i) => ({
          id: itemIds[committed.seats.length + i]!,
          section_id: g.sectionId,
          section_name: g.section,
          seat_id: null,
          seat_label: null,
          row_label: null,
          seat_index: null,
          quantity: g.quantity,
          price_amount: g.price.amount,
          active: true,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    ];
    const items = itemRows.map((i) => ({
      id: i.id,
      sectionId: i.section_id,
      seatId: i.seat_id,
      quantity: i.quantity,
      priceAmount: i.price_amount,
    }));
    const order = {
      id: newId('ord'),
      eventId,
      userId,
      createdAt: new Date(clock.now()),
      expiresAt: new Date(committed.expiresAt),
      totalAmount: items.reduce((n, i) => n + i.priceAmount * i.quantity, 0),
      currency,
      items,
    };
    const row: OrderRow = {
      id: order.id,
      event_id: eventId,
      user_id: userId,
      status: 'pending',
      total_amount: order.totalAmount,
      currency,
      created_at: order.createdAt,
      expires_at: order.expiresAt,
      paid_at: null,
      closed_at: null,
    };
    const gaQuantities = Object.fromEntries(gaItems.map((g) => [g.sectionId, g.quantity]));
    const reply = {
      status: 201,
      body: {
        order: orderView(
          row,
          itemRows.map((i) => ({ ...i, order_id: row.id })),
        ),
      },
    };
    try {
      // The order and the reply that announces it: one statement, one commit.
      await repo.insertPending(order, [keep.statement(reply)]);
      keep.stored();
    } catch (err) {
      await refused(err, eventId, committed.seats, gaQuantities);
      throw err;
    }
    log.info({ orderId: order.id, eventId, userId, seats: committed.seats.length }, 'order created');
    scheduleExpiry?.(order.id, committed.expiresAt);
    return reply;
  }

  /** The database refused the order: give back what it did not refuse and say what was refused. */
  async function refused(err: unknown, eventId: string, seats: { id: string; index: number }[], ga: Record<string, number>) {
    const code = pgErrorCode(err);
    if (code === PG_UNIQUE_VIOLATION && pgConstraint(err) === 'order_items_one_active_seat_key') {
      // The database is the wall: the hot state said free, the database says sold. It wins.
      const taken = new Set(
        await repo.seatsTaken(
          eventId,
          seats.map((s) => s.id),
        ),
      );
      await inventory.releaseSeats(
        eventId,
        seats.filter((s) => !taken.has(s.id)).map((s) => s.index),
        ga,
      );
      log.warn({ eventId, seats: [...taken] }, 'hot state disagreed with the database; the database won');
      throw new AppError('SEATS_UNAVAILABLE', 409, 'Some of your seats were sold to someone else', { seats: [...taken] });
    }
    await inventory.releaseSeats(
      eventId,
      seats.map((s) => s.index),
      ga,
    );
    if (code === PG_CHECK_VIOLATION) {
      await inventory.rebuild(eventId);
      throw new AppError('SOLD_OUT', 409, 'Not enough places are left in this section');
    }
    if (code === PG_UNIQUE_VIOLATION && pgConstraint(err) === 'orders_one_pending_key') {
      throw new AppError('PENDING_ORDER_EXISTS', 409, 'You already have an order waiting for payment for this event');
    }
  }

  /** Moves an order out of pending/paid and gives its seats back to the inventory. */
  async function close(
    id: string,
    to: 'expired' | 'canceled' | 'refunded',
    extra?: (r: OrdersRepository, q: Queryable, row: OrderRow) => Promise<void>,
  ) {
    const result = await inTx(async (r, q) => {
      const row = await r.transition(id, to);
      if (!row) return undefined;
      await r.insertOutbox(`order.${to}`, { orderId: row.id, eventId: row.event_id, userId: row.user_id });
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

    async listMine(principal: Principal): Promise<OrderView[]> {
      const rows = await repo.listByUser(principal.userId);
      const items = await repo.itemsOf(rows.map((r) => r.id));
      return rows.map((row) =>
        orderView(
          row,
          items.filter((i) => i.order_id === row.id),
        ),
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
     * a paid one being refunded (tickets void, seats free) through `refund`.
     */
    async cancel(
      principal: Principal,
      id: string,
      refund: (order: OrderRow) => Promise<OrderRow | undefined>,
    ): Promise<OrderView> {
      const row = await ownOrder(principal, id, true);
      const privileged = principal.role === 'admin' || (principal.role === 'organizer' && row.user_id !== principal.userId);
      if (row.status === 'pending') {
        const closed = await close(id, 'canceled');
        if (closed) {
          await admission.finish(row.event_id, row.user_id);
          return load(closed.row);
        }
      } else if (row.status === 'paid' && privileged) {
        const refunded = await refund(row);
        if (refunded) return load(refunded);
      }
      const now = (await repo.find(id))!;
      if (now.status === 'paid' && !privileged) {
        throw new AppError('ORDER_NOT_CANCELABLE', 409, 'A paid order can only be canceled by the organizer, who refunds it', {
          status: now.status,
        });
      }
      throw new AppError('ORDER_NOT_CANCELABLE', 409, `This order is ${now.status} and cannot be canceled`, {
        status: now.status,
      });
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
