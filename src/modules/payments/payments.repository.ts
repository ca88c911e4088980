import { type Queryable, type Statement, withQueries } from '../../platform/db.ts';

export interface PaymentRow {
  id: string;
  order_id: string;
  gateway: string;
  gateway_ref: string | null;
  status: 'processing' | 'succeeded' | 'declined' | 'refunded';
  amount: number;
  currency: string;
  decline_reason: string | null;
  idempotency_key: string;
}

const COLUMNS = 'id, order_id, gateway, gateway_ref, status, amount, currency, decline_reason, idempotency_key';

/** The INSERT recording a gateway event as applied, carried out only where `guard` (SQL) holds. */
export function recordGatewayEvent(gateway: string, eventId: string, type: string, guard = 'true'): Statement {
  return {
    sql: `INSERT INTO payment_events (gateway, event_id, type) SELECT $1, $2, $3 WHERE ${guard} ON CONFLICT DO NOTHING`,
    params: [gateway, eventId, type],
  };
}

/**
 * The payment attempt's INSERT, for the statement that claims the pay request's Idempotency-Key
 * (`idempotent`'s `first`): written only for an order `payer` may pay (their own, or any for an
 * admin) that is pending and not expired at `now`, and only where `guard` (SQL) holds. Returns the
 * payment; nothing when it wrote none (then `open` is the way). The order is read by its id alone
 * (the sub-select with OFFSET 0 is planned on its own): given the pending and deadline conditions
 * too, plans cached in a sale's first seconds walked the pending orders' deadline index instead.
 */
export function openPayment(
  p: { id: string; orderId: string; gateway: string; key: string; payerId: string; admin: boolean; now: Date },
  guard: string,
): Statement {
  return {
    sql: `INSERT INTO payments (id, order_id, gateway, status, amount, currency, idempotency_key)
          SELECT $1, o.id, $3, 'processing', o.total_amount, o.currency, $4
            FROM (SELECT id, user_id, status, expires_at, total_amount, currency FROM orders WHERE id = $2 OFFSET 0) AS o
           WHERE (o.user_id = $5 OR $6::boolean) AND o.status = 'pending' AND o.expires_at > $7 AND ${guard}
          ON CONFLICT (gateway, idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
    params: [p.id, p.orderId, p.gateway, p.key, p.payerId, p.admin, p.now],
  };
}

export function createPaymentsRepository(q: Queryable) {
  return {
    /** The payment attempt for this gateway key, created on first sight: recorded before the gateway is asked. */
    async open(p: {
      id: string;
      orderId: string;
      gateway: string;
      amount: number;
      currency: string;
      key: string;
    }): Promise<PaymentRow> {
      const inserted = await q.query<PaymentRow>(
        `INSERT INTO payments (id, order_id, gateway, status, amount, currency, idempotency_key)
         VALUES ($1, $2, $3, 'processing', $4, $5, $6)
         ON CONFLICT (gateway, idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
        [p.id, p.orderId, p.gateway, p.amount, p.currency, p.key],
      );
      if (inserted[0]) return inserted[0];
      const rows = await q.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE gateway = $1 AND idempotency_key = $2`, [
        p.gateway,
        p.key,
      ]);
      return rows[0]!;
    },

    /**
     * The common case of settling a charge, in one statement: the processing payment succeeds (with
     * the gateway's reference) and its pending order becomes paid at `paidAt`, and what `alsoWrite`
     * returns (tickets, outbox message, kept reply) is written only then — it is given the SQL
     * condition that holds when the order was paid. False when the payment was not processing or the
     * order not pending: then nothing was written, and the caller settles the charge in a transaction.
     * Locks the payment before the order, as the settling transaction does.
     */
    async settlePending(
      s: { gateway: string; key: string; ref: string; orderId: string; paidAt: Date },
      alsoWrite: (guard: string) => Statement[],
    ): Promise<boolean> {
      const guard = 'EXISTS (SELECT 1 FROM paid)';
      const settle = withQueries(
        [
          [
            'payment',
            {
              sql: `SELECT id FROM payments WHERE gateway = $1 AND idempotency_key = $2 AND status = 'processing' FOR UPDATE`,
              params: [s.gateway, s.key],
            },
          ],
          [
            'paid',
            {
              sql: `UPDATE orders SET status = 'paid', updated_at = now(), paid_at = $2
                     WHERE id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM payment) RETURNING id`,
              params: [s.orderId, s.paidAt],
            },
          ],
          [
            'succeeded',
            {
              sql: `UPDATE payments SET status = 'succeeded', gateway_ref = $1, updated_at = now()
                     WHERE id = (SELECT id FROM payment) AND ${guard}`,
              params: [s.ref],
            },
          ],
          ...alsoWrite(guard).map((w, n): [string, Statement] => [`also${n}`, w]),
        ],
        'SELECT id FROM paid',
      );
      const rows = await q.query(settle.sql, settle.params);
      return rows.length > 0;
    },

    async findByKey(gateway: string, key: string): Promise<PaymentRow | undefined> {
      const rows = await q.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE gateway = $1 AND idempotency_key = $2`, [
        gateway,
        key,
      ]);
      return rows[0];
    },

    /** Records the gateway's reference for the charge and locks the payment for the rest of the transaction, in one statement. */
    async lockWithRef(gateway: string, key: string, ref: string): Promise<PaymentRow | undefined> {
      const rows = await q.query<PaymentRow>(
        `UPDATE payments SET gateway_ref = $3, updated_at = now() WHERE gateway = $1 AND idempotency_key = $2 RETURNING ${COLUMNS}`,
        [gateway, key, ref],
      );
      return rows[0];
    },

    /** Locks the payment for the rest of the transaction: one settlement at a time per payment. */
    async lockByKey(gateway: string, key: string): Promise<PaymentRow | undefined> {
      const rows = await q.query<PaymentRow>(
        `SELECT ${COLUMNS} FROM payments WHERE gateway = $1 AND idempotency_key = $2 FOR UPDATE`,
        [gateway, key],
      );
      return rows[0];
    },

    async update(id: string, changes: { status?: PaymentRow['status']; ref?: string; reason?: string | null }): Promise<void> {
      await q.query(
        `UPDATE payments SET status = coalesce($2, status), gateway_ref = coalesce($3, gateway_ref),
                decline_reason = coalesce($4, decline_reason), updated_at = now() WHERE id = $1`,
        [id, changes.status ?? null, changes.ref ?? null, changes.reason ?? null],
      );
    },

    async succeededOf(orderId: string): Promise<PaymentRow[]> {
      return q.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE order_id = $1 AND status = 'succeeded' FOR UPDATE`, [
        orderId,
      ]);
    },

    /** Records a gateway event id; false when it was applied before. */
    async firstSight(gateway: string, eventId: string, type: string): Promise<boolean> {
      const { sql, params } = recordGatewayEvent(gateway, eventId, type);
      const rows = await q.query(`${sql} RETURNING event_id`, params);
      return rows.length > 0;
    },
  };
}
export type PaymentsRepository = ReturnType<typeof createPaymentsRepository>;
