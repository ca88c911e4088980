import type { Db } from './platform/db.ts';
import { AppError } from './platform/errors.ts';
import type { Principal } from './modules/accounts/index.ts';
import type { SuspensionSweep } from './modules/accounts/accounts.schemas.ts';
import type { InventoryService } from './modules/inventory/index.ts';
import type { OrdersService } from './modules/orders/orders.service.ts';
import type { WaitingRoomService } from './modules/waiting-room/waiting-room.service.ts';

interface Log {
  warn(obj: object, msg: string): void;
}

/**
 * What suspending an account does to the sales going on (wired into the accounts service): the
 * account leaves every waiting room it is in (its active slot goes to the next buyer), the seats
 * it holds go back on sale, and its pending orders are canceled (their seats too), by the admin who
 * suspended it. Paid orders stay: refunding them is the organizer's decision. Best effort past the
 * suspension itself: a step that fails is logged and the rest go on.
 */
export function suspensionSweep(deps: {
  db: Db;
  waitingRoom: Pick<WaitingRoomService, 'leave'>;
  inventory: Pick<InventoryService, 'releaseHold'>;
  orders: Pick<OrdersService, 'cancel'>;
  log: Log;
}) {
  const { db, waitingRoom, inventory, orders, log } = deps;
  const failed = (err: unknown, userId: string, what: string) => log.warn({ err, userId }, `suspension: ${what} failed`);

  return async (userId: string, actor: Principal): Promise<SuspensionSweep> => {
    const done: SuspensionSweep = { queuesLeft: 0, holdsReleased: 0, ordersCanceled: 0 };
    const pending = await db.query<{ id: string }>("SELECT id FROM orders WHERE user_id = $1 AND status = 'pending'", [userId]);
    for (const { id } of pending) {
      // Pending only: a refund is never asked for here (an order paid meanwhile stays paid).
      const order = await orders.cancel(actor, id, async () => undefined).catch((err: unknown) => failed(err, userId, id));
      if (order?.status === 'canceled') done.ordersCanceled++;
    }
    // Events whose waiting room is open (pre-queue included) and not yet over.
    const events = await db.query<{ id: string; on_sale: boolean }>(
      `SELECT id, on_sale_at <= now() AS on_sale FROM events
        WHERE on_sale_at - pre_queue_minutes * interval '1 minute' <= now() AND coalesce(off_sale_at, starts_at) > now()`,
    );
    for (const event of events) {
      try {
        await waitingRoom.leave(event.id, userId);
        done.queuesLeft++;
      } catch (err) {
        if (!(err instanceof AppError && err.status === 404)) failed(err, userId, `leaving ${event.id}`);
      }
      if (event.on_sale) {
        const released = await inventory.releaseHold(userId, event.id).then(
          () => true,
          (err: unknown) => failed(err, userId, `releasing the hold of ${event.id}`),
        );
        if (released) done.holdsReleased++;
      }
    }
    return done;
  };
}
