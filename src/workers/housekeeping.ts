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

/** A table's vacuum or statistics fall due after this many changed rows, plus a share of its size (PostgreSQL's own defaults). */
const VACUUM_BASE = 50;
const VACUUM_SHARE = 0.2;
const ANALYZE_BASE = 50;
const ANALYZE_SHARE = 0.1;

/** What one round did: at most one table vacuumed (and analyzed) or analyzed. */
export interface Maintained {
  vacuumed: string[];
  analyzed: string[];
}

/**
 * What autovacuum does on PostgreSQL, for the embedded database: PGlite runs no autovacuum, so
 * without this its tables would never shed dead row versions nor get statistics, and every plan
 * would be made blind. A table is due for a vacuum (with analyze) once its dead rows pass
 * autovacuum's default threshold, for an analyze once its changes pass the analyze threshold or
 * it has changed and was never analyzed. PGlite has one connection, and every query waits while a
 * table is vacuumed (30–60 ms for 30,000 rows here), so a round does the most overdue table only:
 * short pauses, often, rather than one long one. Only for PGlite: PostgreSQL's autovacuum does
 * this there.
 */
export function createEmbeddedMaintenance({ db }: { db: Queryable }) {
  return {
    async runOnce(): Promise<Maintained> {
      // The counts of this (only) backend reach the shared statistics at its next report: now.
      await db.query('SELECT pg_stat_force_next_flush()');
      await db.query('SELECT 1');
      const tables = await db.query<{ name: string; dead: number; changed: number; rows: number; analyzed: boolean }>(
        `SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS name, s.n_dead_tup::int AS dead,
                s.n_mod_since_analyze::int AS changed, greatest(c.reltuples, 0)::float8 AS rows,
                (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL) AS analyzed
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid`,
      );
      // How far past its threshold each table is (over 1: due); a vacuum before an analyze.
      const due = tables
        .map((t) => {
          const vacuum = t.dead / (VACUUM_BASE + VACUUM_SHARE * t.rows);
          const analyze = !t.analyzed && t.changed > 0 ? Infinity : t.changed / (ANALYZE_BASE + ANALYZE_SHARE * t.rows);
          return vacuum > 1 ? { name: t.name, vacuum: true, by: vacuum } : { name: t.name, vacuum: false, by: analyze };
        })
        .filter((t) => t.by > 1)
        .sort((a, b) => Number(b.vacuum) - Number(a.vacuum) || b.by - a.by || (a.name < b.name ? -1 : 1));
      const next = due[0];
      if (!next) return { vacuumed: [], analyzed: [] };
      await db.query(next.vacuum ? `VACUUM (ANALYZE) ${next.name}` : `ANALYZE ${next.name}`);
      return next.vacuum ? { vacuumed: [next.name], analyzed: [] } : { vacuumed: [], analyzed: [next.name] };
    },
  };
}
