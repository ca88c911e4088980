import type { Queryable } from '../platform/db.ts';

/**
 * What is deleted, and when: rows that have served their purpose. An on-sale fills these tables
 * (a session per sign-in, an idempotency key per order and per payment, an outbox message per
 * change, a webhook per charge of the test gateway); without this they would grow for ever.
 * Orders, payments, tickets, the queue's copies (retired with their event) and the audit log are
 * records, and are kept.
 */
export const RETENTION = [
  // A session is refused once expired; a day later nothing asks about it any more.
  { table: 'sessions', where: "expires_at < now() - interval '1 day'" },
  // A client retries a request within minutes; after a day the same key may start anew.
  { table: 'idempotency_keys', where: "created_at < now() - interval '1 day'" },
  // Published messages, a week on (unpublished ones wait for the relay however old they are).
  { table: 'outbox', where: "published_at < now() - interval '7 days'" },
  { table: 'test_gateway_webhooks', where: "delivered_at < now() - interval '7 days'" },
] as const;

export type Swept = Record<(typeof RETENTION)[number]['table'], number>;

/**
 * Deletes what RETENTION says is done with, `batch` rows a statement (short transactions, no
 * long lock on a busy table), until none is left. Safe to run in several processes at once.
 */
export function createHousekeeping({ db, batch = 5000 }: { db: Queryable; batch?: number }) {
  return {
    async sweepOnce(): Promise<Swept> {
      const swept = {} as Swept;
      for (const { table, where } of RETENTION) {
        let total = 0;
        for (;;) {
          const [row] = await db.query<{ n: number }>(
            `WITH gone AS (DELETE FROM ${table}
                            WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE ${where} LIMIT $1))
                           RETURNING 1)
             SELECT count(*)::int AS n FROM gone`,
            [batch],
          );
          total += row?.n ?? 0;
          if ((row?.n ?? 0) < batch) break;
        }
        swept[table] = total;
      }
      return swept;
    },
  };
}
