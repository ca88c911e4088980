import type { Clock } from '../../platform/clock.ts';
import { newId, newIds } from '../../platform/crypto.ts';
import { pgConstraint, pgErrorCode, PG_CHECK_VIOLATION, PG_UNIQUE_VIOLATION } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import type { KeepReply, StoredReply } from './idempotency.ts';
import type { InventoryPort, OrdersLog } from './orders.ports.ts';
import type { OrderItemRow, OrderRow, OrdersRepository } from './orders.repository.ts';
import { orderView } from './orders.view.ts';

export interface OrderPlacementDeps {
  repo: OrdersRepository;
  inventory: InventoryPort;
  clock: Clock;
  log: OrdersLog;
  /**
   * Asks the job system to check the order at its deadline (RabbitMQ, see expiry-checks.ts); returns
   * at once, as the buyer's answer does not wait for the broker. The sweeper is the safety net.
   */
  scheduleExpiry?: (orderId: string, expiresAt: number) => void;
}

/** A buyer's hold becomes a pending order: the hot state commits it, the database has the last word. */
export function createOrderPlacement({ repo, inventory, clock, log, scheduleExpiry }: OrderPlacementDeps) {
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
      closed_by: null,
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

  return { create };
}
