import type { Queryable } from '../../platform/db.ts';
import { newId } from '../../platform/crypto.ts';
import { periodic } from '../../workers/periodic.ts';
import { signWebhook } from './webhook-signature.ts';
import { type ChargeRequest, type ChargeResult, type GatewayEvent, luhnValid, type PaymentGateway } from './gateway.ts';

/** The test cards of API.md. Any other card that passes the Luhn check succeeds. */
export const TEST_CARDS = {
  success: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  asynchronous: '4000000000000077',
} as const;

/** How long the asynchronous card stays "processing" before its webhook confirms it. */
export const ASYNC_SETTLE_MS = 1500;

/**
 * When the webhook confirming an outcome already answered (a success, a decline) is first sent:
 * as from a provider, it comes after the answer, not in a race with the request that got it.
 */
export const CONFIRM_AFTER_MS = 1000;

interface ChargeRow {
  id: string;
  idempotency_key: string;
  order_id: string;
  amount: number;
  currency: string;
  status: 'processing' | 'succeeded' | 'declined' | 'refunded';
  decline_reason: string | null;
}

function outcome(request: ChargeRequest, now: Date): { status: ChargeRow['status']; reason: string | null } {
  const { number, expMonth, expYear } = request.card;
  if (!luhnValid(number)) return { status: 'declined', reason: 'incorrect_number' };
  const expiryEnd = Date.UTC(expYear, expMonth, 1); // first day of the month after expiry
  if (expiryEnd <= now.getTime()) return { status: 'declined', reason: 'expired_card' };
  switch (number) {
    case TEST_CARDS.declined:
      return { status: 'declined', reason: 'card_declined' };
    case TEST_CARDS.insufficientFunds:
      return { status: 'declined', reason: 'insufficient_funds' };
    case TEST_CARDS.asynchronous:
      return { status: 'processing', reason: null };
    default:
      return { status: 'succeeded', reason: null };
  }
}

function eventBody(charge: ChargeRow, type: GatewayEvent['type'], status: ChargeRow['status']): GatewayEvent {
  return {
    id: newId('gwevt'),
    type,
    created: Math.floor(Date.now() / 1000),
    data: {
      charge: {
        id: charge.id,
        status,
        amount: charge.amount,
        currency: charge.currency,
        orderId: charge.order_id,
        idempotencyKey: charge.idempotency_key,
        declineReason: charge.decline_reason,
      },
    },
  };
}

/** Delivers one webhook; resolves with the HTTP status the merchant answered. */
export type WebhookDelivery = (body: string, signature: string) => Promise<number>;

/**
 * The built-in test gateway. It keeps its own ledger (test_gateway_* tables) as an external
 * provider would, charges once per idempotency key, and sends a signed webhook for every
 * charge outcome and refund, retrying with back-off until the merchant answers 2xx.
 */
export function createTestGateway({
  db,
  webhookSecret,
}: {
  db: Queryable & { tx: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T> };
  webhookSecret: string;
}) {
  let loop: ReturnType<typeof periodic> | undefined;

  async function recordEvent(
    q: Queryable,
    charge: ChargeRow,
    type: GatewayEvent['type'],
    status: ChargeRow['status'],
    delayMs: number,
    settles: boolean,
  ) {
    const body = eventBody(charge, type, status);
    await q.query(
      `INSERT INTO test_gateway_webhooks (id, charge_id, type, settles, deliver_after, body)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8), $6)`,
      [body.id, charge.id, type, settles, delayMs / 1000, JSON.stringify(body)],
    );
  }

  const gateway: PaymentGateway & {
    startDispatcher(deliver: WebhookDelivery, intervalMs?: number, onError?: (err: unknown) => void): void;
    dispatchOnce(deliver: WebhookDelivery): Promise<number>;
    stop(): Promise<void>;
  } = {
    name: 'test',

    async charge(request: ChargeRequest): Promise<ChargeResult> {
      const { status, reason } = outcome(request, new Date());
      const charge: ChargeRow = {
        id: newId('ch'),
        idempotency_key: request.idempotencyKey,
        order_id: request.orderId,
        amount: request.amount,
        currency: request.currency,
        status,
        decline_reason: reason,
      };
      // The outcome's webhook: the asynchronous card's success once it settles, every other outcome shortly after the answer.
      const hook =
        status === 'processing'
          ? { body: eventBody(charge, 'charge.succeeded', 'succeeded'), delayMs: ASYNC_SETTLE_MS, settles: true }
          : {
              body: eventBody(charge, status === 'succeeded' ? 'charge.succeeded' : 'charge.failed', status),
              delayMs: CONFIRM_AFTER_MS,
              settles: false,
            };
      // The charge and its webhook in one statement (one commit); nothing when the key was charged before.
      const inserted = await db.query<ChargeRow>(
        `WITH charge AS (
           INSERT INTO test_gateway_charges (id, idempotency_key, order_id, amount, currency, card_last4, status, decline_reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING id, idempotency_key, order_id, amount, currency, status, decline_reason
         ), hook AS (
           INSERT INTO test_gateway_webhooks (id, charge_id, type, settles, deliver_after, body)
           SELECT $9, charge.id, $10, $11, now() + make_interval(secs => $12::float8), $13 FROM charge
         )
         SELECT * FROM charge`,
        [
          charge.id,
          charge.idempotency_key,
          charge.order_id,
          charge.amount,
          charge.currency,
          request.card.number.slice(-4),
          status,
          reason,
          hook.body.id,
          hook.body.type,
          hook.settles,
          hook.delayMs / 1000,
          JSON.stringify(hook.body),
        ],
      );
      // Asked before under this key: the same charge, never a second one.
      const row =
        inserted[0] ??
        (
          await db.query<ChargeRow>(
            'SELECT id, idempotency_key, order_id, amount, currency, status, decline_reason FROM test_gateway_charges WHERE idempotency_key = $1',
            [request.idempotencyKey],
          )
        )[0]!;
      if (row.status === 'declined') return { ref: row.id, status: 'declined', reason: row.decline_reason ?? 'card_declined' };
      if (row.status === 'processing') return { ref: row.id, status: 'processing' };
      // 'refunded' is a charge that succeeded first.
      return { ref: row.id, status: 'succeeded' };
    },

    async refund(ref: string): Promise<void> {
      await db.tx(async (q) => {
        // A refund of a charge still settling settles it first: the money was taken.
        const rows = await q.query<ChargeRow>(
          `UPDATE test_gateway_charges SET status = 'refunded', updated_at = now()
            WHERE id = $1 AND status IN ('succeeded', 'processing')
            RETURNING id, idempotency_key, order_id, amount, currency, status, decline_reason`,
          [ref],
        );
        if (rows[0]) await recordEvent(q, rows[0], 'charge.refunded', 'refunded', 0, false);
      });
    },

    /** Sends every due webhook once; returns how many were acknowledged. */
    async dispatchOnce(deliver: WebhookDelivery): Promise<number> {
      const due = await db.query<{ id: string; charge_id: string; settles: boolean; body: string }>(
        `UPDATE test_gateway_webhooks SET attempts = attempts + 1,
                deliver_after = now() + make_interval(secs => least(30, 0.5 * power(2, attempts))::float8)
          WHERE id IN (SELECT id FROM test_gateway_webhooks
                        WHERE delivered_at IS NULL AND deliver_after <= now()
                        ORDER BY deliver_after LIMIT 100 FOR UPDATE SKIP LOCKED)
          RETURNING id, charge_id, settles, body`,
      );
      // Sent side by side, as a provider's webhook workers would: a backlog drains in round trips, not one by one.
      const delivered = await Promise.all(
        due.map(async (hook) => {
          if (hook.settles) {
            await db.query(
              "UPDATE test_gateway_charges SET status = 'succeeded', updated_at = now() WHERE id = $1 AND status = 'processing'",
              [hook.charge_id],
            );
          }
          const signature = signWebhook(webhookSecret, hook.body, Math.floor(Date.now() / 1000));
          const status = await deliver(hook.body, signature).catch(() => 0);
          return status >= 200 && status < 300 ? hook.id : undefined;
        }),
      );
      const acknowledged = delivered.filter((id): id is string => id !== undefined);
      if (acknowledged.length > 0) {
        await db.query('UPDATE test_gateway_webhooks SET delivered_at = now() WHERE id = ANY($1::text[])', [acknowledged]);
      }
      return acknowledged.length;
    },

    startDispatcher(deliver, intervalMs = 250, onError = () => undefined) {
      loop = periodic(() => gateway.dispatchOnce(deliver), intervalMs, onError);
    },

    async stop() {
      await loop?.stop();
    },
  };
  return gateway;
}
export type TestGateway = ReturnType<typeof createTestGateway>;
