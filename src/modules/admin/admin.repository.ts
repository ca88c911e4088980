import type { Queryable } from '../../platform/db.ts';

export interface OrderFigures {
  /** Places (seats and GA places) in paid orders. */
  soldPlaces: number;
  /** Places in orders waiting for payment. */
  pendingPlaces: number;
  revenue: number;
  currency: string | null;
}

export function createAdminRepository(db: Queryable) {
  return {
    async orderFigures(eventId: string): Promise<OrderFigures> {
      const places = await db.query<{ status: string; places: string }>(
        `SELECT o.status, COALESCE(SUM(i.quantity), 0) AS places
           FROM orders o JOIN order_items i ON i.order_id = o.id
          WHERE o.event_id = $1 AND o.status IN ('pending', 'paid') AND i.active
          GROUP BY o.status`,
        [eventId],
      );
      const money = await db.query<{ revenue: string; currency: string | null }>(
        `SELECT COALESCE(SUM(total_amount), 0) AS revenue, MAX(currency) AS currency
           FROM orders WHERE event_id = $1 AND status = 'paid'`,
        [eventId],
      );
      const of = (status: string) => Number(places.find((p) => p.status === status)?.places ?? 0);
      return {
        soldPlaces: of('paid'),
        pendingPlaces: of('pending'),
        revenue: Number(money[0]?.revenue ?? 0),
        currency: money[0]?.currency ?? null,
      };
    },

    /** Tickets of the event used at the door (a partial index holds exactly these). */
    async checkedIn(eventId: string): Promise<number> {
      const rows = await db.query<{ n: string }>("SELECT COUNT(*) AS n FROM tickets WHERE event_id = $1 AND status = 'used'", [
        eventId,
      ]);
      return Number(rows[0]?.n ?? 0);
    },

    /** Orders created per minute since `since` (minutes without orders are absent). */
    async ordersPerMinute(eventId: string, since: Date): Promise<{ minute: number; count: number }[]> {
      const rows = await db.query<{ minute: Date | string; count: string }>(
        `SELECT date_trunc('minute', created_at) AS minute, COUNT(*) AS count
           FROM orders WHERE event_id = $1 AND created_at >= $2
          GROUP BY 1 ORDER BY 1`,
        [eventId, since.toISOString()],
      );
      return rows.map((r) => ({ minute: new Date(r.minute).getTime(), count: Number(r.count) }));
    },

    /** General-admission places of the event's venue, and the currency of its prices. */
    async eventShape(eventId: string): Promise<{ gaCapacity: number; currency: string } | null> {
      const rows = await db.query<{ ga: string | null; currency: string | null }>(
        `SELECT (SELECT SUM(s.capacity) FROM sections s WHERE s.venue_id = e.venue_id AND s.kind = 'ga') AS ga,
                (SELECT MAX(p.currency) FROM prices p WHERE p.event_id = e.id) AS currency
           FROM events e WHERE e.id = $1`,
        [eventId],
      );
      const row = rows[0];
      return row ? { gaCapacity: Number(row.ga ?? 0), currency: row.currency ?? 'USD' } : null;
    },
  };
}
export type AdminRepository = ReturnType<typeof createAdminRepository>;
