import type { Queryable } from '../../platform/db.ts';
import type { Metrics } from '../../platform/metrics.ts';

/**
 * Gauges read from the database when Prometheus scrapes: orders, payments and tickets by
 * status, and the outbox backlog (events not yet handed to the broker). A few indexed counts
 * per scrape, nothing on the request path.
 */
export function registerBusinessMetrics(metrics: Metrics, db: Queryable) {
  const byStatus = (table: 'orders' | 'payments' | 'tickets', help: string) =>
    metrics.gauge(`ticketmax_${table}`, help, ['status'], async function () {
      const rows = await db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM ${table} GROUP BY status`,
      );
      this.reset();
      for (const row of rows) this.set({ status: row.status }, row.n);
    });
  byStatus('orders', 'Orders by status');
  byStatus('payments', 'Payment attempts by status');
  byStatus('tickets', 'Tickets by status');
  metrics.gauge('ticketmax_outbox_unpublished', 'Domain events written but not yet published', [], async function () {
    const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    this.set(rows[0]?.n ?? 0);
  });
}
