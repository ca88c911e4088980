import type { Clock } from '../../platform/clock.ts';
import { newId } from '../../platform/crypto.ts';
import { type Db, pgErrorCode, PG_UNIQUE_VIOLATION, type Queryable, type Statement } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../accounts/index.ts';
import { idempotent, type KeepReply, requestHash, type StoredReply } from '../orders/idempotency.ts';
import { orderExpired, orderNotPayable, orderView, type OrdersService } from '../orders/orders.service.ts';
import {
  createOrdersRepository,
  insertOutbox,
  orderWithItems,
  type OrderItemRow,
  type OrderRow,
  type OrderWithItemsRow,
  withItems,
} from '../orders/orders.repository.ts';
import { insertTickets } from '../tickets/tickets.repository.ts';
import type { TicketsService, TicketView } from '../tickets/tickets.service.ts';
import type { Card, GatewayEvent, PaymentGateway } from './gateway.ts';
import { createPaymentsRepository, openPayment, type PaymentRow, recordGatewayEvent } from './payments.repository.ts';
import type { SettledCharges } from './settled-charges.ts';
import { verifyWebhook } from './webhook-signature.ts';

export interface PaymentsLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PaymentsDeps {
  db: Db;
  gateway: PaymentGateway;
  orders: OrdersService;
  tickets: TicketsService;
  inventory: { rebuild(eventId: string): Promise<void> };
  admission: { finish(eventId: string, userId: string): Promise<void> };
  webhookSecret: string;
  /** Charges known to be settled: the gateway's confirming webhook for one needs no database read. */
  settled: SettledCharges;
  clock: Clock;
  log: PaymentsLog;
}

/** What settling a succeeded charge did to its order. */
type Settlement =
  | { kind: 'paid'; order: OrderRow; revived: boolean; items: OrderItemRow[]; tickets: TicketView[] }
  | { kind: 'refund'; order: OrderRow }
  | { kind: 'already'; order: OrderRow };
type PaidSettlement = Extract<Settlement, { kind: 'paid' }>;

/** The outbox message of an order that became paid. */
const paidMessage = (order: OrderRow) => ({
  orderId: order.id,
  eventId: order.event_id,
  userId: order.user_id,
  amount: order.total_amount,
});

export const declined = (reason: string) =>
  new AppError('PAYMENT_DECLINED', 402, `The card was declined (${reason.replaceAll('_', ' ')})`, { reason });

export function createPaymentsService(deps: PaymentsDeps) {
  const { db, gateway, orders, tickets, inventory, admission, webhookSecret, settled, clock, log } = deps;

  /**
   * After the commit that moved this charge's payment out of `processing`: its webhooks to come are
   * answered without a read. Not awaited: the buyer's answer does not wait for it, and a mark that
   * failed only means the read happens.
   */
  function markSettled(gatewayKey: string) {
    settled.add(gateway.name, gatewayKey).catch((err: unknown) => log.warn({ err }, 'could not mark a settled charge'));
  }

  /**
   * Applies a succeeded charge in the caller's transaction. A pending order becomes paid with
   * its tickets; an expired one is revived if the unique index still lets its seats back; any
   * other case (seats resold, order canceled or already paid by another charge) refunds the
   * charge — recorded here, carried out by the outbox consumer so a crash cannot lose it.
   */
  async function settle(q: Queryable, payment: PaymentRow): Promise<Settlement> {
    const repo = createOrdersRepository(q);
    const payments = createPaymentsRepository(q);
    if (payment.status === 'succeeded' || payment.status === 'refunded') {
      return { kind: 'already', order: (await repo.findForUpdate(payment.order_id))! };
    }
    // The common case in one statement: the order is pending and becomes paid.
    let paid = await repo.payPending(payment.order_id);
    let revived = false;
    if (!paid) {
      const order = (await repo.findForUpdate(payment.order_id))!;
      if (order.status === 'expired') {
        await q.query('SAVEPOINT revive');
        try {
          paid = await repo.transition(order.id, 'paid');
          await q.query('RELEASE SAVEPOINT revive');
          revived = paid !== undefined;
        } catch (err) {
          if (pgErrorCode(err) !== PG_UNIQUE_VIOLATION) throw err;
          await q.query('ROLLBACK TO SAVEPOINT revive');
        }
      }
      if (!paid) {
        await payments.update(payment.id, { status: 'refunded' });
        await repo.insertOutbox('payment.refund_requested', {
          paymentId: payment.id,
          ref: payment.gateway_ref,
          orderId: order.id,
        });
        return { kind: 'refund', order };
      }
    }
    await payments.update(payment.id, { status: 'succeeded' });
    const items = await repo.itemsOf([paid.id]);
    const issued = await tickets.issue(q, paid, items);
    await repo.insertOutbox('order.paid', paidMessage(paid));
    return { kind: 'paid', order: paid, revived, items, tickets: issued };
  }

  /** The reply to a payment that settled: the paid order and its tickets, as written. */
  function settledReply(s: PaidSettlement): StoredReply {
    return { status: 200, body: { order: orderView(s.order, s.items), tickets: s.tickets } };
  }

  /**
   * After the settling transaction committed: the buyer's turn is over; a revived order's seats are
   * taken again. The turn's end is not awaited: the paid order is the buyer's answer, and a waiting
   * room that could not be told (its store away) only keeps the slot until the admission's own
   * deadline, as it would for a buyer who walked away.
   */
  async function afterSettle(s: Settlement) {
    if (s.kind === 'paid') {
      const { event_id: eventId, user_id: userId } = s.order;
      admission
        .finish(eventId, userId)
        .catch((err: unknown) => log.warn({ err, eventId, userId }, "could not end a paid buyer's turn"));
      if (s.revived) await inventory.rebuild(eventId);
      log.info({ orderId: s.order.id, revived: s.revived }, 'order paid');
    } else if (s.kind === 'refund') {
      log.warn({ orderId: s.order.id, status: s.order.status }, 'payment arrived for an order that cannot take it; refunding');
    }
  }

  /**
   * The common case of a succeeded charge, in one statement: its processing payment succeeds and
   * its pending order becomes paid, with the order's tickets, its `order.paid` outbox message and
   * what `alsoWrite` adds, each written only when the order was paid by this statement. Undefined
   * when it was not the common case (nothing written): the caller settles in a transaction.
   */
  async function settleAtOnce(
    order: OrderRow,
    items: OrderItemRow[],
    gatewayKey: string,
    ref: string,
    alsoWrite: (paid: PaidSettlement, guard: string) => Statement[],
  ): Promise<PaidSettlement | undefined> {
    const paidAt = new Date(clock.now());
    const issued = tickets.prepare(order, items);
    const paid: PaidSettlement = {
      kind: 'paid',
      order: { ...order, status: 'paid', paid_at: paidAt },
      revived: false,
      items,
      tickets: issued.views,
    };
    const settled = await createPaymentsRepository(db).settlePending(
      { gateway: gateway.name, key: gatewayKey, ref, orderId: order.id, paidAt },
      (guard) => [
        insertTickets(issued.rows, guard),
        insertOutbox('order.paid', paidMessage(paid.order), guard),
        ...alsoWrite(paid, guard),
      ],
    );
    return settled ? paid : undefined;
  }

  async function paidReply(order: OrderRow): Promise<StoredReply> {
    return { status: 200, body: { order: await orders.orderView(order), tickets: await tickets.ofOrders([order.id]) } };
  }

  /**
   * `found`: the order with its items, and `opened`: its payment attempt, both written or read with
   * the Idempotency-Key's claim, as of `now` (see `openPayment`: it wrote the attempt only where the
   * checks below pass at `now`, so they never refuse an order it opened a payment for).
   */
  async function pay(
    principal: Principal,
    key: string,
    card: Card,
    keep: KeepReply,
    found: OrderWithItemsRow | undefined,
    opened: PaymentRow | undefined,
    now: number,
  ): Promise<StoredReply> {
    const { row: order, items } = await orders.ownFound(principal, withItems(found), false);
    if (order.status === 'expired' || (order.status === 'pending' && order.expires_at.getTime() <= now)) throw orderExpired();
    if (order.status !== 'pending') throw orderNotPayable(order.status);
    const gatewayKey = `${order.id}:${key}`;
    // Recorded before the gateway is asked; with the claim when it was taken now, else here.
    const payment =
      opened ??
      (await createPaymentsRepository(db).open({
        id: newId('pay'),
        orderId: order.id,
        gateway: gateway.name,
        amount: order.total_amount,
        currency: order.currency,
        key: gatewayKey,
      }));
    const result = await gateway.charge({
      idempotencyKey: gatewayKey,
      orderId: order.id,
      amount: order.total_amount,
      currency: order.currency,
      card,
    });
    if (result.status === 'declined') {
      await createPaymentsRepository(db).update(payment.id, { status: 'declined', ref: result.ref, reason: result.reason });
      markSettled(gatewayKey);
      throw declined(result.reason);
    }
    if (result.status === 'processing') {
      await createPaymentsRepository(db).update(payment.id, { ref: result.ref });
      return { status: 202, body: { order: orderView(order, items) } };
    }
    // The common case in one statement: the order is still pending and becomes paid, with its
    // tickets, its outbox message and this reply. Everything else is settled in a transaction below.
    const paidAtOnce = await settleAtOnce(order, items, gatewayKey, result.ref, (paid, guard) => [
      keep.statement(settledReply(paid), guard),
    ]);
    if (paidAtOnce) {
      keep.stored();
      markSettled(gatewayKey);
      await afterSettle(paidAtOnce);
      return settledReply(paidAtOnce);
    }
    const settlement = await db.tx(async (q) => {
      const locked = (await createPaymentsRepository(q).lockWithRef(gateway.name, gatewayKey, result.ref))!;
      const done = await settle(q, locked);
      // Paid, tickets issued and the reply kept: one commit.
      if (done.kind === 'paid') await keep(q, settledReply(done));
      return done;
    });
    markSettled(gatewayKey);
    await afterSettle(settlement);
    if (settlement.kind === 'refund') throw orderExpired({ refunded: true });
    if (settlement.kind === 'paid') return settledReply(settlement);
    // A webhook settled this charge first: answer with what it did.
    const fresh = (await createOrdersRepository(db).find(order.id))!;
    if (fresh.status !== 'paid') throw orderExpired({ refunded: true });
    return paidReply(fresh);
  }

  return {
    /** POST /api/orders/:id/pay, once per Idempotency-Key: one charge and one set of tickets however often it is sent. */
    pay(principal: Principal, orderId: string, key: string, card: Card): Promise<StoredReply> {
      const hash = requestHash({ orderId, number: card.number, expMonth: card.expMonth, expYear: card.expYear, cvc: card.cvc });
      // The time the claim's statement judged the order by (it is built again on each try).
      let claimedAt = clock.now();
      return idempotent<OrderWithItemsRow, PaymentRow>(
        db,
        { userId: principal.userId, scope: `orders.pay:${orderId}`, key, hash },
        (keep, found, opened) => pay(principal, key, card, keep, found[0], opened, opened ? claimedAt : clock.now()),
        orderWithItems(orderId),
        // The payment attempt in the claim's statement: one round trip and one commit fewer.
        (guard) => {
          claimedAt = clock.now();
          return openPayment(
            {
              id: newId('pay'),
              orderId,
              gateway: gateway.name,
              key: `${orderId}:${key}`,
              payerId: principal.userId,
              admin: principal.role === 'admin',
              now: new Date(claimedAt),
            },
            guard,
          );
        },
      );
    },

    /**
     * POST /api/payments/webhook: checks the signature and age, then applies the event once
     * (its id is recorded in the same transaction). Events may come late, twice or out of order:
     * each only moves a payment forward (processing → succeeded | declined → refunded).
     */
    async webhook(rawBody: string, signature: string | undefined): Promise<'applied' | 'duplicate' | 'ignored'> {
      if (!verifyWebhook(webhookSecret, signature, rawBody, Math.floor(clock.now() / 1000))) {
        throw new AppError('BAD_SIGNATURE', 400, 'The webhook signature is missing, wrong or too old');
      }
      let event: GatewayEvent;
      try {
        event = JSON.parse(rawBody) as GatewayEvent;
      } catch {
        throw new AppError('VALIDATION_FAILED', 400, 'The webhook body is not valid JSON');
      }
      const charge = event.data?.charge;
      if (typeof event.id !== 'string' || typeof charge?.idempotencyKey !== 'string') {
        throw new AppError('VALIDATION_FAILED', 400, 'The webhook body is not a gateway event');
      }
      // A payment only moves forward from processing, and an event applies only to a processing one:
      // most deliveries confirm what the pay request already settled; its mark answers them, else one read.
      if (await settled.has(gateway.name, charge.idempotencyKey).catch(() => false)) return 'ignored';
      const known = await createPaymentsRepository(db).findByKey(gateway.name, charge.idempotencyKey);
      if (known && known.status !== 'processing') {
        markSettled(charge.idempotencyKey);
        return 'ignored';
      }
      // A success for a pending order (the asynchronous card; a pay request cut off after the
      // charge) in one statement, the event recorded with it; anything else in the transaction below.
      if (known && charge.status === 'succeeded') {
        const found = await createOrdersRepository(db).findWithItems(known.order_id);
        const paid =
          found?.row.status === 'pending'
            ? await settleAtOnce(found.row, found.items, known.idempotency_key, known.gateway_ref ?? charge.id, (_, guard) => [
                recordGatewayEvent(gateway.name, event.id, event.type, guard),
              ])
            : undefined;
        if (paid) {
          markSettled(charge.idempotencyKey);
          await afterSettle(paid);
          return 'applied';
        }
      }
      let settlement: Settlement | undefined;
      const outcome = await db.tx(async (q) => {
        const payments = createPaymentsRepository(q);
        if (!(await payments.firstSight(gateway.name, event.id, event.type))) return 'duplicate' as const;
        const payment = await payments.lockByKey(gateway.name, charge.idempotencyKey);
        if (!payment) {
          log.warn({ eventId: event.id, charge: charge.id }, 'webhook for a charge we never asked for');
          return 'ignored' as const;
        }
        if (payment.gateway_ref === null) await payments.update(payment.id, { ref: charge.id });
        const current = { ...payment, gateway_ref: payment.gateway_ref ?? charge.id };
        if (charge.status === 'succeeded' && payment.status === 'processing') {
          settlement = await settle(q, current);
          return 'applied' as const;
        }
        if (charge.status === 'declined' && payment.status === 'processing') {
          await payments.update(payment.id, { status: 'declined', reason: charge.declineReason ?? 'card_declined' });
          return 'applied' as const;
        }
        return 'ignored' as const;
      });
      // Applied: the payment left processing (succeeded, declined or refunded) in that commit.
      if (outcome === 'applied') markSettled(charge.idempotencyKey);
      if (settlement) await afterSettle(settlement);
      return outcome;
    },

    /** Organizer/admin cancel of a paid order: the order is refunded, its tickets void and its seats free. */
    async refundOrder(order: OrderRow, by?: string): Promise<OrderRow | undefined> {
      const closed = await orders.close(
        order.id,
        'refunded',
        async (r, q) => {
          const payments = createPaymentsRepository(q);
          for (const payment of await payments.succeededOf(order.id)) {
            await payments.update(payment.id, { status: 'refunded' });
            await r.insertOutbox('payment.refund_requested', {
              paymentId: payment.id,
              ref: payment.gateway_ref,
              orderId: order.id,
            });
          }
          if (by !== undefined) await r.logRefund(by, order);
        },
        by,
      );
      return closed?.row;
    },

    /** Outbox consumer: carries out a recorded refund at the gateway (idempotent there). */
    async carryOutRefund(payload: { ref: string | null; paymentId: string }) {
      let ref = payload.ref;
      if (ref === null) {
        const rows = await db.query<{ gateway_ref: string | null }>('SELECT gateway_ref FROM payments WHERE id = $1', [
          payload.paymentId,
        ]);
        ref = rows[0]?.gateway_ref ?? null;
      }
      if (ref === null) {
        // Never charged (the gateway never answered with a charge): nothing to give back.
        log.warn({ paymentId: payload.paymentId }, 'refund requested for a payment without a charge; nothing to refund');
        return;
      }
      await gateway.refund(ref);
    },
  };
}
export type PaymentsService = ReturnType<typeof createPaymentsService>;
